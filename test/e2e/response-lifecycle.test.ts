import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf, type ReceivedSet } from '../helpers/receiver.js';
import { spawnWorker, workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { HOUR } from '../helpers/clock.js';

// Black-box: the risk lifecycle of CONTRACT.md §3–5 through the worker's interfaces only (streams,
// admin API, a receiver verifying SETs against the worker's JWKS).
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

const h = workerHarness(
  'e2e-resp-life',
  (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://rx.test', subject_format: 'email' }] }),
  {
    receiver: { audience: 'https://rx.test', issuer: 'https://riskstream.test' },
    behaviors: {
      endpoint_detection: { risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      session_hijack: { risk_level: 'high', expires_after: '24h', compare: ['device'] },
      responses: [
        { when: { level: 'high' }, revoke_sessions: true },
        { when: { behavior: 'session_hijack' }, revoke_sessions: true },
      ],
    },
  },
);

const get = async <T>(path: string, init: RequestInit = {}): Promise<T> =>
  (await (
    await fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${h.cfg.adminToken}`, 'content-type': 'application/json' } })
  ).json()) as T;
const sessionsOf = async (user: string): Promise<string[]> =>
  (await get<{ sessions: Array<{ session_id: string }> }>(`/v1/users/${encodeURIComponent(user)}/sessions`)).sessions.map((s) => s.session_id).sort();
const revokedOf = (user: string): ReceivedSet[] =>
  h.receiver.received.filter((s) => eventOf(s).type === SESSION_REVOKED && (s.claims.sub_id as { user: { email: string } }).user.email === user);
const sessionOf = (s: ReceivedSet): string => (s.claims.sub_id as { session: { id: string } }).session.id;
/** The `session.revoked` audit entries of the sessions whose ids start with `prefix`. */
const revokedAudit = async (prefix: string): Promise<Array<{ actor: string; target: string }>> =>
  (await get<{ entries: Array<{ actor: string; target: string }> }>('/v1/audit?action=session.revoked&limit=500')).entries.filter((e) =>
    e.target.startsWith(prefix),
  );

const login = (user: string, sid: string, time: number, device = 'd-1'): string =>
  JSON.stringify({
    type: 'login',
    id: `l-${sid}`,
    user,
    time,
    outcome: 'success',
    ip: '81.2.69.142',
    device: { id: device },
    session: { id: sid, expires_at: Date.now() + 5 * HOUR },
  });
const detection = (user: string, id: string, time: number): string =>
  JSON.stringify({ type: 'endpoint', id, user, time, device: { id: 'd-1' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' });
const addLogin = (e: string) => h.redis.xadd(`${h.prefix}:login`, '*', 'event', e);
const addActivity = (e: string) => h.redis.xadd(`${h.prefix}:activity`, '*', 'event', e);

describe('responses and reset over the risk lifecycle (real worker, Redis, receiver)', () => {
  it('a hijack that also raises HIGH fires both rules: each session is revoked once, one SET and one audit entry each', async () => {
    const user = 'both@example.com';
    await addLogin(login(user, 'both-1', Date.now() - 60_000));
    await addLogin(login(user, 'both-2', Date.now() - 50_000));
    await waitFor(async () => (await sessionsOf(user)).length === 2, { what: 'two sessions stored' });
    await addActivity(
      JSON.stringify({ type: 'access', user, time: Date.now() - 1000, outcome: 'allowed', app: 'drive', session: { id: 'both-1' }, device: { id: 'd-evil' } }),
    );
    await waitFor(() => revokedOf(user).length >= 2, { what: 'two session-revoked SETs' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(revokedOf(user).map(sessionOf).sort()).toEqual(['both-1', 'both-2']);
    expect(revokedOf(user).every((s) => s.verified && eventOf(s).body.initiating_entity === 'policy')).toBe(true);
    expect((await revokedAudit('both-')).map((e) => [e.target, e.actor]).sort()).toEqual([
      ['both-1', 'policy'],
      ['both-2', 'policy'],
    ]);
    expect(await sessionsOf(user)).toEqual([]);
  }, 60_000);

  it('after an admin reset (LOW, version + 1, an admin SET) HIGH reached again revokes the sessions opened since', async () => {
    const user = 'again@example.com';
    await addLogin(login(user, 'again-1', Date.now() - 60_000));
    await waitFor(async () => (await sessionsOf(user)).length === 1, { what: 'session stored' });
    await addActivity(detection(user, 'again-e1', Date.now() - 30_000));
    await waitFor(() => revokedOf(user).length === 1, { what: 'first revocation' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    const before = await get<{ version: number }>(`/v1/users/${user}/risk`);
    const reset = await get<{ level: string; version: number }>(`/v1/users/${user}/risk/reset`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'cleared' }),
    });
    expect(reset).toMatchObject({ level: 'low', version: before.version + 1 });
    await waitFor(() => h.receiver.received.some((s) => eventOf(s).body.initiating_entity === 'admin' && JSON.stringify(s.claims.sub_id).includes(user)), {
      what: 'the reset’s SET',
    });

    // A login after the reset (after the revocation's mark), then HIGH again from a new detection.
    await addLogin(login(user, 'again-2', Date.now()));
    await waitFor(async () => (await sessionsOf(user)).length === 1, { what: 'new session stored' });
    await addActivity(detection(user, 'again-e2', Date.now()));
    await waitFor(() => revokedOf(user).length === 2, { what: 'second revocation' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(revokedOf(user).map(sessionOf).sort()).toEqual(['again-1', 'again-2']);
    expect(await get<{ level: string; version: number }>(`/v1/users/${user}/risk`)).toMatchObject({ level: 'high', version: before.version + 2 });
  }, 60_000);

  it('kill -9 while revoking 100 sessions: after a restart each is revoked once (one jti per session, one audit entry)', async () => {
    const user = 'crash@example.com';
    const n = 100; // sessions.max_per_user
    const p = h.redis.pipeline();
    for (let i = 0; i < n; i++) p.xadd(`${h.prefix}:login`, '*', 'event', login(user, `crash-${i}`, Date.now() - 120_000 + i));
    await p.exec();
    await waitFor(async () => (await sessionsOf(user)).length === n, { what: 'sessions stored', timeout: 60_000 });
    await addActivity(detection(user, 'crash-e', Date.now() - 1000));
    await waitFor(() => revokedOf(user).length > 0, { what: 'revocation started', interval: 5 });
    await h.worker.stop('SIGKILL');
    h.worker = await spawnWorker(h.cfg.dir);
    h.receiver.setJwks(`${h.worker.url}/.well-known/jwks.json`);
    await waitFor(() => new Set(revokedOf(user).map(sessionOf)).size === n, { what: 'every session revoked', timeout: 90_000 });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user], timeout: 60_000 });
    const jtis = new Map<string, Set<unknown>>();
    for (const s of revokedOf(user)) jtis.set(sessionOf(s), (jtis.get(sessionOf(s)) ?? new Set()).add(s.claims.jti));
    expect([...jtis.values()].filter((j) => j.size !== 1)).toEqual([]); // a retry repeats its jti, never a second revocation
    const audit = await revokedAudit('crash-');
    expect(audit).toHaveLength(n);
    expect(new Set(audit.map((e) => e.target)).size).toBe(n);
    expect(audit.every((e) => e.actor === 'policy')).toBe(true);
    expect(await sessionsOf(user)).toEqual([]);
  }, 240_000);
});
