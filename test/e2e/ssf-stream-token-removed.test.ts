/**
 * A self-registered SSF stream belongs to the ssf token that created it. Removing that token from
 * the configuration revokes the receiver's credential: its streams must stop receiving SETs at once
 * (new changes, and SETs already queued or held), while other tokens' streams go on; configuring the
 * token again restores delivery. Before, removed tokens' streams kept delivering for ever.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse, stringify } from 'yaml';
import { waitFor } from '../helpers/redis.js';
import { apiClient, CAEP_RISK, PUSH } from '../helpers/ssf-api.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';

const kept = 'ssf-token-kept-for-revocation-tests-0123';
const gone = 'ssf-token-gone-for-revocation-tests-0123';
const h = workerHarness('ssf-token-removed', () => ({ http: { ssf_tokens: [kept, gone] }, ssf: { allowed_endpoints: ['127.0.0.1'] } }));
const api = apiClient(() => h.worker.url, kept);

const emailOf = (s: { claims: Record<string, unknown> }): string | undefined => (s.claims.sub_id as { email?: string } | undefined)?.email;
const at = (path: string, user: string) => h.receiver.received.filter((s) => s.path === path && emailOf(s) === user);

async function high(user: string): Promise<void> {
  await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
}

async function auditEntries(action: string): Promise<Array<Record<string, unknown>>> {
  const r = await api('GET', `/v1/audit?action=${action}&limit=1000`, undefined, h.cfg.adminToken);
  expect(r.status).toBe(200);
  return r.json.entries as Array<Record<string, unknown>>;
}

/** Rewrites the worker's ssf tokens and reloads it (SIGHUP), waiting for its config.reloaded entry. */
async function reloadWith(tokens: string[]): Promise<void> {
  const file = join(h.cfg.dir, 'riskstream.yaml');
  const yaml = parse(readFileSync(file, 'utf8')) as { http: Record<string, unknown> };
  yaml.http.ssf_tokens = tokens;
  writeFileSync(file, stringify(yaml));
  const before = (await auditEntries('config.reloaded')).length;
  h.worker.child.kill('SIGHUP');
  await waitFor(async () => (await auditEntries('config.reloaded')).length > before, { what: 'config.reloaded' });
}

describe('an ssf token removed from the configuration', () => {
  it("stops its streams' deliveries (new, held and queued SETs), leaves other tokens' streams alone, and resumes when it is back", async () => {
    const create = async (token: string, path: string): Promise<string> => {
      const r = await api(
        'POST',
        '/ssf/streams',
        { delivery: { method: PUSH, endpoint_url: `${h.receiver.url}${path}` }, events_requested: [CAEP_RISK] },
        token,
      );
      expect(r.status, JSON.stringify(r.json)).toBe(201);
      return r.json.stream_id as string;
    };
    const keptId = await create(kept, '/kept');
    const goneId = await create(gone, '/gone');

    // Both streams receive while both tokens are configured.
    await high('before@example.com');
    await waitFor(() => at('/kept', 'before@example.com').length === 1 && at('/gone', 'before@example.com').length === 1, { what: 'SETs on both streams' });

    // A SET held for the gone token's stream while it is paused, then the token is removed.
    expect((await api('POST', '/ssf/status', { stream_id: goneId, status: 'paused' }, gone)).status).toBe(200);
    await high('held@example.com');
    await waitFor(() => at('/kept', 'held@example.com').length === 1, { what: 'the SET on the kept stream' });
    await reloadWith([kept]);

    // The removed token can no longer manage its stream (401); an admin still sees it.
    expect((await api('GET', `/ssf/streams?stream_id=${goneId}`, undefined, gone)).status).toBe(401);
    expect((await api('GET', `/ssf/streams?stream_id=${goneId}`, undefined, h.cfg.adminToken)).status).toBe(200);

    // New changes reach the kept stream only.
    await high('after@example.com');
    await waitFor(() => at('/kept', 'after@example.com').length === 1, { what: 'the SET on the kept stream' });
    // An admin resuming the revoked stream releases its held SET as a job: it is not sent either.
    expect((await api('POST', '/ssf/status', { stream_id: goneId, status: 'enabled' }, h.cfg.adminToken)).status).toBe(200);
    await waitFor(async () => (await auditEntries('set.failed')).some((e) => (e.details as { outcome?: string }).outcome === 'owner_revoked'), {
      what: 'the held SET failed as owner_revoked',
    });
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['after@example.com', 'held@example.com'] });
    expect(at('/gone', 'after@example.com')).toHaveLength(0);
    expect(at('/gone', 'held@example.com')).toHaveLength(0);
    const failed = (await auditEntries('set.failed')).filter((e) => (e.details as { outcome?: string }).outcome === 'owner_revoked');
    expect(failed.map((e) => e.target)).toEqual([`ssf-stream-${goneId}`]);

    // The token configured again: its stream receives again.
    await reloadWith([kept, gone]);
    await high('back@example.com');
    await waitFor(() => at('/gone', 'back@example.com').length === 1 && at('/kept', 'back@example.com').length === 1, { what: 'SETs on both streams again' });
    expect(keptId).not.toBe(goneId);
  }, 90_000);
});
