/**
 * `sessions.redact_claims` as an admin relies on it: a claim named there after a reload is no longer
 * shown by the admin API, also for sessions stored before the reload (they live up to
 * `ingest.max_session_lifetime`). Black box: a real worker process, Redis and HTTP.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';
import { HOUR } from '../helpers/clock.js';

const h = workerHarness('e2e-sess-redact', () => ({ sessions: { redact_claims: ['employee_id'] } }));

async function get(path: string): Promise<any> {
  const r = await fetch(`${h.worker.url}${path}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  expect(r.status).toBe(200);
  return r.json();
}

const login = {
  type: 'login',
  id: 'l-red-1',
  user: 'ruth@example.com',
  time: new Date(Date.now() - 1000).toISOString(),
  outcome: 'success',
  session: {
    id: 's-red-1',
    expires_at: new Date(Date.now() + HOUR).toISOString(),
    idp: 'okta',
    claims: { email: 'ruth@example.com', ssn: '123-45-6789', employee_id: 'E1', nested: [{ SSN: '987-65-4321' }] },
  },
};

describe('sessions.redact_claims changed by a reload (real worker, Redis, HTTP)', () => {
  it('a claim named after the reload is "[redacted]" in every admin read of a session stored before it', async () => {
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', JSON.stringify(login));
    await waitFor(async () => (await fetch(`${h.worker.url}/v1/sessions/s-red-1`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } })).ok, {
      what: 'session stored',
    });
    expect((await get('/v1/sessions/s-red-1')).claims).toEqual({
      email: 'ruth@example.com',
      ssn: '123-45-6789',
      employee_id: '[redacted]',
      nested: [{ SSN: '987-65-4321' }],
    });

    const file = join(h.cfg.dir, 'riskstream.yaml');
    const cfg = parse(readFileSync(file, 'utf8')) as { sessions: { redact_claims: string[] } };
    cfg.sessions.redact_claims = ['employee_id', 'ssn'];
    writeFileSync(file, stringify(cfg));
    h.worker.child.kill('SIGHUP');
    await waitFor(async () => /configuration reloaded/.test(h.worker.output()) || (await get('/v1/audit?action=config.reloaded')).entries.length > 0, {
      what: 'configuration reloaded',
    });

    const expected = { email: 'ruth@example.com', ssn: '[redacted]', employee_id: '[redacted]', nested: [{ SSN: '[redacted]' }] };
    expect((await get('/v1/sessions/s-red-1')).claims).toEqual(expected);
    expect((await get('/v1/sessions')).sessions.map((s: { claims: unknown }) => s.claims)).toEqual([expected]);
    expect((await get('/v1/users/ruth%40example.com/sessions')).sessions.map((s: { claims: unknown }) => s.claims)).toEqual([expected]);
    expect((await get('/v1/sessions?user=ruth%40example.com')).sessions.map((s: { claims: unknown }) => s.claims)).toEqual([expected]);
    expect(JSON.stringify(await get('/v1/sessions'))).not.toContain('6789');
  }, 60_000);
});
