/**
 * A stream status `reason` is stored, audited, shown and sent to the stream's receiver in a
 * stream-updated SET: a token pasted into it is scrubbed as in every reason (found by a black-box
 * review: an admin token pasted into an admin's pause reason went out in the SET as it was).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { apiClient, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { startApiWorker, type ApiWorker } from './helpers.js';

const prefix = testPrefix('api-ssf-status-reason');
const redis = redisClient();
const token = 'ssf-token-status-reason-tests-012345';
const receiverSecret = 'rcv-credential-status-reason-0123';
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
const JWT = `${b64({ alg: 'RS256' })}.${b64({ sub: 'alice' })}.c2lnbmF0dXJlc2ln`;
let w: ApiWorker;
let api: ReturnType<typeof apiClient>;

beforeAll(async () => {
  w = await startApiWorker(prefix, {
    http: { ssf_tokens: [token] },
    ssf: { allowed_endpoints: ['127.0.0.1'] },
    receivers: [
      { name: 'siem', kind: 'ssf', endpoint: 'http://127.0.0.1:9/siem', audience: 'https://siem.example', authorization: `Bearer ${receiverSecret}` },
    ],
  });
  api = apiClient(() => w.url, token);
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('POST /ssf/status reason', () => {
  it('the worker’s own tokens, receiver credentials and JWTs never stay in it (status, audit)', async () => {
    const created = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: 'http://127.0.0.1:9/push' }, events_requested: [CAEP_RISK] });
    expect(created.status).toBe(201);
    const id = created.json.stream_id as string;
    const reason = `pasted ${w.cfg.adminToken}, ${token}, Bearer ${receiverSecret} and ${JWT}`;
    for (const caller of [token, w.cfg.adminToken]) {
      const set = await api('POST', '/ssf/status', { stream_id: id, status: caller === token ? 'paused' : 'enabled', reason }, caller);
      expect(set.status, JSON.stringify(set.json)).toBe(200);
      const shown = [JSON.stringify(set.json), JSON.stringify((await api('GET', `/ssf/status?stream_id=${id}`)).json)];
      const audit = await api('GET', '/v1/audit?action=receiver.&limit=5', undefined, w.cfg.adminToken);
      shown.push(JSON.stringify(audit.json.entries.filter((e: { details?: { reason?: string } }) => e.details?.reason)));
      for (const text of shown) {
        for (const secret of [w.cfg.adminToken, token, receiverSecret, JWT]) expect(text).not.toContain(secret);
        expect(text).toContain('pasted [redacted token]');
        expect(text).toMatch(/\[redacted jwt sha256:[0-9a-f]{64}\]/);
      }
    }
  });

  it('the stream’s own authorization_header pasted into it is taken out too (status, audit)', async () => {
    const own = 'stream-own-credential-0123';
    const created = await api('POST', '/ssf/streams', {
      delivery: { method: PUSH, endpoint_url: 'http://127.0.0.1:9/push', authorization_header: `Bearer ${own}` },
      events_requested: [CAEP_RISK],
    });
    expect(created.status).toBe(201);
    const id = created.json.stream_id as string;
    const set = await api('POST', '/ssf/status', { stream_id: id, status: 'paused', reason: `our header is Bearer ${own}, or ${own}` });
    expect(set.status, JSON.stringify(set.json)).toBe(200);
    const audit = await api('GET', '/v1/audit?action=receiver.&limit=5', undefined, w.cfg.adminToken);
    const mine = audit.json.entries.filter((e: { details?: { stream_id?: string; reason?: string } }) => e.details?.stream_id === id && e.details.reason);
    expect(mine).toHaveLength(1);
    const shown = [JSON.stringify(set.json), JSON.stringify((await api('GET', `/ssf/status?stream_id=${id}`)).json), JSON.stringify(mine)];
    for (const text of shown) {
      expect(text).not.toContain(own);
      expect(text).toMatch(/our header is Bearer \[redacted[^\]]*\], or \[redacted token\]/);
    }
  });

  it('a credential in the stream’s own endpoint URL (a query value, e.g. a function key) pasted into it is taken out too', async () => {
    const code = 'fn-key-0123456789abcdef';
    const created = await api('POST', '/ssf/streams', {
      delivery: { method: PUSH, endpoint_url: `http://127.0.0.1:9/push?code=${code}&v=2` },
      events_requested: [CAEP_RISK],
    });
    expect(created.status, JSON.stringify(created.json)).toBe(201);
    const id = created.json.stream_id as string;
    const set = await api('POST', '/ssf/status', { stream_id: id, status: 'paused', reason: `called ?code=${code}&v=2` });
    expect(set.status, JSON.stringify(set.json)).toBe(200);
    const audit = await api('GET', '/v1/audit?action=receiver.&limit=5', undefined, w.cfg.adminToken);
    const mine = audit.json.entries.filter((e: { details?: { stream_id?: string; reason?: string } }) => e.details?.stream_id === id && e.details.reason);
    expect(mine).toHaveLength(1);
    for (const text of [JSON.stringify(set.json.reason), JSON.stringify(mine)]) {
      expect(text).not.toContain(code);
      expect(text).toContain('called ?code=[redacted');
    }
  });

  it("a status the transmitter (an admin) set is not the receiver's to undo: 403, the status kept; an admin can (SSF 1.0 §8.1.2.2)", async () => {
    const created = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: 'http://127.0.0.1:9/push' }, events_requested: [CAEP_RISK] });
    const id = created.json.stream_id as string;
    const statusOf = async (): Promise<string> => (await api('GET', `/ssf/status?stream_id=${id}`)).json.status as string;
    for (const held of ['disabled', 'paused']) {
      expect((await api('POST', '/ssf/status', { stream_id: id, status: held, reason: 'under review' }, w.cfg.adminToken)).status).toBe(200);
      for (const status of ['enabled', held === 'paused' ? 'disabled' : 'paused']) {
        const r = await api('POST', '/ssf/status', { stream_id: id, status });
        expect([r.status, r.json.error], status).toEqual([403, 'forbidden']);
        expect(await statusOf()).toBe(held);
      }
      // Asking for the status it already has changes nothing and is no error.
      expect((await api('POST', '/ssf/status', { stream_id: id, status: held })).json).toMatchObject({ status: held, reason: 'under review' });
      expect((await api('POST', '/ssf/status', { stream_id: id, status: 'enabled' }, w.cfg.adminToken)).status).toBe(200);
    }
    // Enabled again by the admin: the receiver manages its status again.
    expect((await api('POST', '/ssf/status', { stream_id: id, status: 'paused' })).status).toBe(200);
    expect((await api('POST', '/ssf/status', { stream_id: id, status: 'enabled' })).status).toBe(200);
    expect(await statusOf()).toBe('enabled');
  });
});
