/**
 * The state-changing SSF stream management calls of an ssf token are rate limited per token
 * (`ssf.limits.changes_per_second` / `changes_burst`), shared by every worker on the prefix: each
 * writes an audit entry, and a security review had one receiver write ≈ 400 a second (2 000
 * status toggles in 5 s), pushing the admins' history out of the capped audit stream.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { apiClient, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { isApiError, startApiWorker, type ApiWorker } from './helpers.js';

const prefix = testPrefix('api-ssf-rate-limit');
const redis = redisClient();
const token = 'ssf-token-rate-limit-tests-0123456789';
const other = 'ssf-token-rate-limit-other-0123456789';
const settings = {
  http: { ssf_tokens: [token, other] },
  ssf: { allowed_endpoints: ['127.0.0.1'], limits: { changes_per_second: 0.5, changes_burst: 3 } },
};
let a: ApiWorker;
let b: ApiWorker;
let apiA: ReturnType<typeof apiClient>;
let apiB: ReturnType<typeof apiClient>;

const stream = { delivery: { method: PUSH, endpoint_url: 'http://127.0.0.1:9/push' }, events_requested: [CAEP_RISK] };

/** The audit entries about stream `id`. */
async function auditOf(id: string): Promise<Array<{ action: string; details: { status?: string } }>> {
  const r = await apiA('GET', '/v1/audit?action=receiver.&limit=1000', undefined, a.cfg.adminToken);
  expect(r.status).toBe(200);
  return r.json.entries.filter((e: { details?: { stream_id?: string } }) => e.details?.stream_id === id);
}

beforeAll(async () => {
  a = await startApiWorker(prefix, settings);
  b = await startApiWorker(prefix, settings, undefined, `${prefix}-c2`);
  apiA = apiClient(() => a.url, token);
  apiB = apiClient(() => b.url, token);
});

afterAll(async () => {
  await a?.close();
  await b?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('ssf.limits.changes_per_second', () => {
  it('refuses an ssf token past its allowance (429 rate_limited, Retry-After, nothing done or audited), on every worker; others are not affected', async () => {
    // The burst: three changes, spread over both workers.
    const created = await apiA('POST', '/ssf/streams', stream);
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.stream_id as string;
    expect((await apiB('POST', '/ssf/status', { stream_id: id, status: 'paused' })).status).toBe(200);
    expect((await apiA('POST', '/ssf/subjects:add', { stream_id: id, subject: { format: 'email', email: 'a@example.com' } })).status).toBe(200);
    const audited = (await auditOf(id)).length;
    expect(audited).toBe(3);

    // The next, on either worker (one allowance per token across the prefix): refused before anything is done.
    let retryAfter = 0;
    for (const api of [apiA, apiB]) {
      const refused = await api('POST', '/ssf/status', { stream_id: id, status: 'enabled' });
      retryAfter = Number(refused.headers.get('retry-after'));
      expect(isApiError(refused, 429, 'rate_limited')).toBe(true);
      expect(Object.keys(refused.json).sort()).toEqual(['error', 'message']);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(2);
    }
    expect(isApiError(await apiB('PATCH', '/ssf/streams', { stream_id: id, description: 'x' }), 429, 'rate_limited')).toBe(true);
    expect(isApiError(await apiA('DELETE', `/ssf/streams?stream_id=${id}`), 429, 'rate_limited')).toBe(true);
    expect(await auditOf(id)).toHaveLength(audited);

    // Reads are not limited, and show nothing was changed.
    const status = await apiA('GET', `/ssf/status?stream_id=${id}`);
    expect(status.status).toBe(200);
    expect(status.json.status).toBe('paused');
    expect((await apiB('GET', '/ssf/streams')).status).toBe(200);

    // Another ssf token has its own allowance.
    const theirs = await apiA('POST', '/ssf/streams', stream, other);
    expect(theirs.status, JSON.stringify(theirs.json)).toBe(201);
    expect((await apiB('POST', '/ssf/status', { stream_id: theirs.json.stream_id, status: 'paused' }, other)).status).toBe(200);

    // Admin tokens are not limited (on the limited token's stream too).
    for (const status of ['enabled', 'paused', 'enabled', 'paused', 'enabled']) {
      const r = await apiB('POST', '/ssf/status', { stream_id: id, status }, a.cfg.adminToken);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    expect(await auditOf(id)).toHaveLength(audited + 5);

    // Refilled (one call every 2 s) after Retry-After: the token may change its stream again, on the other worker.
    await new Promise((r) => setTimeout(r, retryAfter * 1000 + 50));
    const again = await apiB('POST', '/ssf/status', { stream_id: id, status: 'paused' });
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    expect(isApiError(await apiA('POST', '/ssf/status', { stream_id: id, status: 'enabled' }), 429, 'rate_limited')).toBe(true);
    expect((await auditOf(id))[0]).toMatchObject({ action: 'receiver.disabled', details: { status: 'paused' } });
  });

  it('is read at every call: a reload turning it off (0) applies at once, on the reloaded worker', async () => {
    const file = join(a.cfg.dir, 'riskstream.yaml');
    const yaml = parse(readFileSync(file, 'utf8')) as { ssf: { limits: Record<string, number> } };
    yaml.ssf.limits.changes_per_second = 0;
    writeFileSync(file, stringify(yaml));
    await a.worker.reload();
    const created = await apiA('POST', '/ssf/streams', stream, other);
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    for (const status of ['paused', 'enabled', 'paused', 'enabled', 'paused', 'enabled']) {
      const r = await apiA('POST', '/ssf/status', { stream_id: created.json.stream_id, status }, other);
      expect(r.status, JSON.stringify(r.json)).toBe(200);
    }
    // The other worker still runs its own configuration (a burst of 3).
    const statuses: number[] = [];
    for (let i = 0; i < 5; i++) statuses.push((await apiB('POST', '/ssf/status', { stream_id: created.json.stream_id, status: 'paused' }, other)).status);
    expect(statuses).toContain(429);
  });
});
