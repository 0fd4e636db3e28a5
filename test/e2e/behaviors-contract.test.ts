import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf, type ReceivedSet } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { HOUR, MIN, recentIso } from '../helpers/clock.js';

/**
 * CONTRACT §3 (behaviors.yaml, receivers) sentence by sentence against a real worker, as a
 * black-box tester reads it: through the input streams, the admin API and a real receiver.
 */
const RISK_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

const h = workerHarness(
  'e2e-beh-contract',
  (url) => ({
    signing: { key_file: 'keys/signing.pem', alg: 'ES256', kid: 'audit-kid-1' },
    receivers: [
      {
        name: 'all',
        kind: 'ssf',
        endpoint: `${url}/all`,
        audience: 'https://all.test',
        subject_format: 'email',
        authorization: 'Bearer rx-all-secret-0123456789',
      },
      { name: 'rev', kind: 'ssf', endpoint: `${url}/rev`, audience: 'https://rev.test', subject_format: 'iss_sub', events: ['session-revoked'] },
      { name: 'opq', kind: 'ssf', endpoint: `${url}/opq`, audience: 'https://opq.test', subject_format: 'opaque', events: ['risk-level-change'] },
    ],
  }),
  {
    receiver: { issuer: 'https://riskstream.test' },
    behaviors: {
      impossible_travel: {
        enabled: true,
        risk_level: 'high',
        expires_after: '24h',
        max_speed_kmh: 1000,
        min_distance_km: 500,
        allow_networks: ['203.0.113.0/24'],
      },
      dlp_detection: { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high', count: 3, window: '1m' },
      endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      brute_force: { enabled: true, risk_level: 'high', expires_after: '24h', failures: 3, window: '10m' },
      password_spray: { enabled: true, risk_level: 'medium', expires_after: '24h', users: 3, window: '1h' },
      new_country: { enabled: true, risk_level: 'medium', expires_after: '24h', baseline: '30d', learning: '7d' },
      mfa_fatigue: { enabled: true, risk_level: 'medium', expires_after: '24h', count: 3, window: '10m' },
      payroll_denied: {
        kind: 'threshold',
        enabled: true,
        risk_level: 'high',
        expires_after: '24h',
        match: { type: 'access', app: 'payroll', outcome: 'denied' },
        count: 2,
        window: '5m',
      },
      wiki_off: {
        kind: 'threshold',
        enabled: false,
        match: { type: 'access', app: 'wiki' },
        count: 1,
        window: '5m',
      },
      responses: [{ when: { behavior: 'brute_force' }, revoke_sessions: true }],
    },
  },
);

const admin = async <T>(path: string): Promise<{ status: number; body: T }> => {
  const r = await fetch(`${h.worker.url}${path}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return { status: r.status, body: (await r.json()) as T };
};
const level = async (user: string): Promise<string | undefined> => (await admin<{ level?: string }>(`/v1/users/${encodeURIComponent(user)}/risk`)).body.level;
interface RiskEvent {
  kind?: string;
  behavior?: string;
  expired_on_arrival?: boolean;
  [k: string]: unknown;
}
const riskEvents = async (user: string): Promise<RiskEvent[]> => {
  const r = await admin<{ events: RiskEvent[] }>(`/v1/users/${encodeURIComponent(user)}/events`);
  return r.status === 200 ? r.body.events : [];
};
/** The behaviors of the user's hits (risk events of kind `hit`). */
const behaviorsOf = async (user: string): Promise<string[]> => (await riskEvents(user)).filter((e) => e.kind === 'hit').map((e) => String(e.behavior));
const subjectUser = (s: ReceivedSet): string | undefined => {
  const sub = s.claims.sub_id as Record<string, unknown> & { user?: Record<string, unknown> };
  const inner = (sub.user ?? sub) as Record<string, unknown>;
  return (inner.email ?? inner.sub ?? inner.id) as string | undefined;
};
const setsFor = (user: string): ReceivedSet[] => h.receiver.received.filter((s) => subjectUser(s) === user);
const add = (stream: 'login' | 'activity', ev: Record<string, unknown>): Promise<string | null> =>
  h.redis.xadd(`${h.prefix}:${stream}`, '*', 'event', JSON.stringify(ev));
const quiet = (users: string[]): Promise<void> => untilQuiet(h.redis, { prefix: h.prefix, users });
/** A critical EDR detection stamped 30 h ago: past endpoint_detection's expires_after when it arrives. */
const addExpiredDetection = (user: string, id: string): Promise<string | null> =>
  add('activity', {
    type: 'endpoint',
    id,
    user,
    time: new Date(Date.now() - 30 * HOUR).toISOString(),
    device: { id: 'd-1' },
    vendor: 'crowdstrike',
    detection: 'malware',
    severity: 'critical',
  });

describe('CONTRACT §3 behaviors.yaml through a real worker', () => {
  it('expires_after from event time: a hit already expired on arrival is a risk event, raises no level, sends no SET', async () => {
    const user = 'expired@example.com';
    await addExpiredDetection(user, 'x-old');
    await waitFor(async () => (await behaviorsOf(user)).includes('endpoint_detection'), { what: 'expired hit recorded' });
    await quiet([user]);
    const risk = (await admin<{ level: string; version: number; behaviors: unknown[] }>(`/v1/users/${encodeURIComponent(user)}/risk`)).body;
    expect(risk).toMatchObject({ level: 'low', version: 0, behaviors: [] });
    expect(setsFor(user)).toEqual([]);
  }, 60_000);

  it('an expired-on-arrival hit of a higher level leaves a user already at high as it was (same version and behaviors, no SET)', async () => {
    const user = 'expired-2@example.com';
    await add('activity', { type: 'access', id: 'pd-1', user, time: recentIso(0), app: 'payroll', outcome: 'denied' });
    await add('activity', { type: 'access', id: 'pd-2', user, time: recentIso(MIN), app: 'payroll', outcome: 'denied' });
    await waitFor(async () => (await level(user)) === 'high', { what: 'HIGH' });
    await waitFor(() => setsFor(user).length === 2, { what: 'the HIGH SET at the two receivers taking levels' });
    await quiet([user]);
    const before = (await admin<{ version: number; behaviors: Array<{ id: string }> }>(`/v1/users/${encodeURIComponent(user)}/risk`)).body;
    await addExpiredDetection(user, 'x-old-2');
    await waitFor(async () => (await behaviorsOf(user)).includes('endpoint_detection'), { what: 'expired hit recorded' });
    await quiet([user]);
    const after = (await admin<{ version: number; behaviors: Array<{ id: string }> }>(`/v1/users/${encodeURIComponent(user)}/risk`)).body;
    expect(after.version).toBe(before.version);
    expect(after.behaviors.map((b) => b.id)).toEqual(['payroll_denied']);
    expect(setsFor(user)).toHaveLength(2);
  }, 60_000);

  it('a disabled behavior emits nothing; a threshold behavior raises its risk_level at exactly `count`', async () => {
    const user = 'thresh@example.com';
    await add('activity', { type: 'access', id: 'w-1', user, time: recentIso(0), app: 'wiki', outcome: 'allowed' });
    await add('activity', { type: 'access', id: 'p-1', user, time: recentIso(0), app: 'payroll', outcome: 'denied' });
    await quiet([user]);
    expect(await behaviorsOf(user)).toEqual([]);
    expect(setsFor(user)).toEqual([]);
    await add('activity', { type: 'access', id: 'p-2', user, time: recentIso(MIN), app: 'payroll', outcome: 'denied' });
    await waitFor(async () => (await level(user)) === 'high', { what: 'threshold HIGH' });
    expect(await behaviorsOf(user)).toEqual(['payroll_denied']);
  }, 60_000);

  it('dlp_detection: `count` matches at or above min_severity within `window` (not one fewer, not one outside it)', async () => {
    const dlp = (user: string, id: string, at: number, severity = 'high'): Promise<string | null> =>
      add('activity', { type: 'dlp', id, user, time: recentIso(at), profile: 'pii', severity, action: 'block' });
    // Below min_severity never counts; two within the window are not three.
    await dlp('dlp-a@example.com', 'a-1', 0, 'medium');
    await dlp('dlp-a@example.com', 'a-2', 10_000);
    await dlp('dlp-a@example.com', 'a-3', 20_000);
    // Three, but the first lies more than 1m before the third.
    await dlp('dlp-b@example.com', 'b-1', 0);
    await dlp('dlp-b@example.com', 'b-2', 30_000);
    await dlp('dlp-b@example.com', 'b-3', 61_000);
    // Three within the minute (critical is above high).
    await dlp('dlp-c@example.com', 'c-1', 0);
    await dlp('dlp-c@example.com', 'c-2', 30_000, 'critical');
    await dlp('dlp-c@example.com', 'c-3', 59_000);
    await waitFor(async () => (await level('dlp-c@example.com')) === 'medium', { what: 'dlp-c MEDIUM' });
    await quiet(['dlp-a@example.com', 'dlp-b@example.com', 'dlp-c@example.com']);
    expect(await level('dlp-a@example.com')).toBe('low');
    expect(await level('dlp-b@example.com')).toBe('low');
    expect(await behaviorsOf('dlp-c@example.com')).toEqual(['dlp_detection']);
  }, 60_000);

  it('endpoint_detection: min_severity high — low and medium do not count, high does', async () => {
    const user = 'edr@example.com';
    const edr = (id: string, severity: string): Promise<string | null> =>
      add('activity', { type: 'endpoint', id, user, time: recentIso(0), device: { id: 'd-1' }, vendor: 'crowdstrike', detection: 'x', severity });
    await edr('e-1', 'low');
    await edr('e-2', 'medium');
    await quiet([user]);
    expect(await behaviorsOf(user)).toEqual([]);
    await edr('e-3', 'high');
    await waitFor(async () => (await level(user)) === 'high', { what: 'edr HIGH' });
  }, 60_000);

  it('impossible_travel: a login from allow_networks is never flagged; the same trip from elsewhere is', async () => {
    const login = (user: string, id: string, at: number, ip: string, geo: Record<string, unknown>): Promise<string | null> =>
      add('login', { type: 'login', id, user, time: recentIso(at), outcome: 'success', ip, geo });
    const LON = { lat: 51.5, lon: -0.12, country: 'GB' };
    const SYD = { lat: -33.87, lon: 151.21, country: 'AU' };
    await login('vpn@example.com', 'v-1', 0, '81.2.69.142', LON);
    await login('vpn@example.com', 'v-2', HOUR, '203.0.113.7', SYD);
    await login('trip@example.com', 't-1', 0, '81.2.69.142', LON);
    await login('trip@example.com', 't-2', HOUR, '1.128.0.1', SYD);
    await waitFor(async () => (await level('trip@example.com')) === 'high', { what: 'trip HIGH' });
    await quiet(['vpn@example.com', 'trip@example.com']);
    expect(await behaviorsOf('vpn@example.com')).toEqual([]);
  }, 60_000);

  it('password_spray: an ip failing for `users` distinct users flags one who then succeeds from it; one fewer does not', async () => {
    const attempt = (user: string, id: string, at: number, ip: string, outcome: string): Promise<string | null> =>
      add('login', { type: 'login', id, user, time: recentIso(at), outcome, ip, ...(outcome === 'failure' ? { reason: 'bad_password' } : {}) });
    // 198.51.100.1 fails for two users (one fewer than 3), then one of them logs in.
    await attempt('sp-a1@example.com', 'sa-1', 0, '198.51.100.1', 'failure');
    await attempt('sp-a2@example.com', 'sa-2', MIN, '198.51.100.1', 'failure');
    await attempt('sp-a2@example.com', 'sa-3', 2 * MIN, '198.51.100.1', 'success');
    // 198.51.100.2 fails for three users, then one of them logs in.
    await attempt('sp-b1@example.com', 'sb-1', 0, '198.51.100.2', 'failure');
    await attempt('sp-b2@example.com', 'sb-2', MIN, '198.51.100.2', 'failure');
    await attempt('sp-b3@example.com', 'sb-3', MIN, '198.51.100.2', 'failure');
    await attempt('sp-b3@example.com', 'sb-4', 2 * MIN, '198.51.100.2', 'success');
    // A user the ip never failed for, logging in from it, is flagged too.
    await attempt('sp-b4@example.com', 'sb-5', 3 * MIN, '198.51.100.2', 'success');
    await waitFor(async () => (await level('sp-b3@example.com')) === 'medium', { what: 'spray victim MEDIUM' });
    await waitFor(async () => (await level('sp-b4@example.com')) === 'medium', { what: 'spray other user MEDIUM' });
    await quiet(['sp-a2@example.com', 'sp-b3@example.com']);
    expect(await behaviorsOf('sp-b1@example.com')).toEqual([]); // failures alone flag nobody
    expect(await behaviorsOf('sp-a2@example.com')).not.toContain('password_spray');
    expect(await behaviorsOf('sp-b3@example.com')).toContain('password_spray');
  }, 60_000);

  it('mfa_fatigue: `count` pushes denied or timeout within window; one fewer does not', async () => {
    const push = (user: string, id: string, at: number, outcome: string): Promise<string | null> =>
      add('login', { type: 'mfa', id, user, time: recentIso(at), outcome, factor: 'push', ip: '81.2.69.142' });
    await push('mfa-a@example.com', 'ma-1', 0, 'denied');
    await push('mfa-a@example.com', 'ma-2', MIN, 'timeout');
    await push('mfa-a@example.com', 'ma-3', 2 * MIN, 'success');
    await push('mfa-b@example.com', 'mb-1', 0, 'denied');
    await push('mfa-b@example.com', 'mb-2', MIN, 'timeout');
    await push('mfa-b@example.com', 'mb-3', 2 * MIN, 'denied');
    await waitFor(async () => (await level('mfa-b@example.com')) === 'medium', { what: 'mfa-b MEDIUM' });
    await quiet(['mfa-a@example.com']);
    expect(await behaviorsOf('mfa-a@example.com')).toEqual([]);
  }, 60_000);

  it('new_country: nothing while learning; a country seen while learning counts as seen; a new one after learning is flagged', async () => {
    const user = 'nc@example.com';
    const DAY = 24 * HOUR;
    const login = (id: string, time: number, country: string, lat: number, lon: number): Promise<string | null> =>
      add('login', { type: 'login', id, user, time: new Date(time).toISOString(), outcome: 'success', ip: '81.2.69.142', geo: { lat, lon, country } });
    const now = Date.now();
    await login('nc-1', now - 10 * DAY, 'GB', 51.5, -0.12);
    await login('nc-2', now - 9 * DAY, 'FR', 48.86, 2.35); // while learning: never flagged, counts as seen
    await login('nc-3', now - 5 * HOUR, 'FR', 48.86, 2.35); // learned, seen: not flagged
    await quiet([user]);
    expect(await behaviorsOf(user)).toEqual([]);
    await login('nc-4', now - 10 * MIN, 'DE', 52.52, 13.4); // learned, new
    await waitFor(async () => (await level(user)) === 'medium', { what: 'new country MEDIUM' });
    expect(await behaviorsOf(user)).toEqual(['new_country']);
  }, 60_000);

  it('password_spray: the success may arrive before the failures — it is flagged when they arrive', async () => {
    const attempt = (user: string, id: string, at: number, outcome: string): Promise<string | null> =>
      add('login', { type: 'login', id, user, time: recentIso(at), outcome, ip: '198.51.100.3', ...(outcome === 'failure' ? { reason: 'bad_password' } : {}) });
    await attempt('sp-c3@example.com', 'sc-4', 2 * MIN, 'success');
    await quiet(['sp-c3@example.com']);
    expect(await behaviorsOf('sp-c3@example.com')).toEqual([]);
    await attempt('sp-c1@example.com', 'sc-1', 0, 'failure');
    await attempt('sp-c2@example.com', 'sc-2', MIN, 'failure');
    await attempt('sp-c3@example.com', 'sc-3', MIN, 'failure');
    await waitFor(async () => (await level('sp-c3@example.com')) === 'medium', { what: 'early success flagged' });
    expect(await behaviorsOf('sp-c3@example.com')).toEqual(['password_spray']);
  }, 60_000);

  it('expires_after: a hit with a future event time counts from when it is processed', async () => {
    const user = 'future@example.com';
    const before = Date.now();
    await add('activity', {
      type: 'endpoint',
      id: 'f-1',
      user,
      time: new Date(before + 6 * HOUR).toISOString(),
      device: { id: 'd-1' },
      vendor: 'crowdstrike',
      detection: 'malware',
      severity: 'high',
    });
    await waitFor(async () => (await level(user)) === 'high', { what: 'future hit HIGH' });
    const hit = (await riskEvents(user)).find((e) => e.kind === 'hit') as RiskEvent & { expires_at: string };
    const expires = Date.parse(hit.expires_at);
    expect(expires).toBeGreaterThanOrEqual(before + 24 * HOUR);
    expect(expires).toBeLessThan(Date.now() + 24 * HOUR + 1000);
  }, 60_000);

  it('brute_force with responses {behavior}: sessions revoked (actor policy); receivers get only the events they list, in their subject_format', async () => {
    const user = 'brute@example.com';
    const login = (id: string, at: number, outcome: string, session?: string): Promise<string | null> =>
      add('login', {
        type: 'login',
        id,
        user,
        time: recentIso(at),
        outcome,
        ip: '81.2.69.142',
        ...(session ? { session: { id: session, expires_at: new Date(Date.now() + 12 * HOUR).toISOString() } } : {}),
      });
    // Two failures then a success: below `failures` (3).
    await login('bf-1', 0, 'failure');
    await login('bf-2', MIN, 'failure');
    await login('bf-3', 2 * MIN, 'success', 'bs-1');
    await waitFor(async () => (await admin<{ sessions: unknown[] }>(`/v1/users/${user}/sessions`)).body.sessions?.length === 1, { what: 'bs-1' });
    await quiet([user]);
    expect(await behaviorsOf(user)).toEqual([]);
    await login('bf-4', 3 * MIN, 'failure');
    await login('bf-5', 4 * MIN, 'failure');
    await login('bf-6', 5 * MIN, 'failure');
    await login('bf-7', 6 * MIN, 'success', 'bs-2');
    await waitFor(() => h.receiver.received.filter((s) => s.path === '/rev' && eventOf(s).type === SESSION_REVOKED).length >= 2, {
      what: 'session-revoked at rev',
    });
    await quiet([user]);
    const mine = setsFor(user);
    const rev = h.receiver.received.filter((s) => s.path === '/rev');
    expect(rev.length).toBeGreaterThan(0);
    expect(rev.every((s) => eventOf(s).type === SESSION_REVOKED)).toBe(true);
    expect(rev.every((s) => s.claims.aud === 'https://rev.test')).toBe(true);
    const revUser = rev.map((s) => (s.claims.sub_id as { user?: { format: string; sub: string } }).user);
    expect(revUser.every((u) => u?.format === 'iss_sub' && u.sub === user)).toBe(true);
    const opq = mine.filter((s) => s.path === '/opq');
    expect(opq.map((s) => eventOf(s).type)).toEqual([RISK_CHANGE]);
    expect(opq[0]!.claims.sub_id).toEqual({ format: 'opaque', id: user });
    const all = mine.filter((s) => s.path === '/all');
    expect(all.map((s) => eventOf(s).type).sort()).toEqual([RISK_CHANGE, SESSION_REVOKED, SESSION_REVOKED].sort());
    expect(all.find((s) => eventOf(s).type === RISK_CHANGE)!.claims.sub_id).toEqual({ format: 'email', email: user });
    const audit = await admin<{ entries: Array<{ actor: string; target: string }> }>('/v1/audit?action=session.revoked');
    expect(audit.body.entries.filter((e) => ['bs-1', 'bs-2'].includes(e.target)).map((e) => e.actor)).toEqual(['policy', 'policy']);
    // Every receiver's SETs verify (signature, iss) under the configured kid; level SETs never reached `rev`.
    expect(h.receiver.received.every((s) => s.verified && s.header.kid === 'audit-kid-1' && s.header.typ === 'secevent+jwt')).toBe(true);
    expect(all.every((s) => s.authorization === 'Bearer rx-all-secret-0123456789')).toBe(true);
    expect(rev.every((s) => s.authorization === undefined)).toBe(true);
    const jwks = (await (await fetch(`${h.worker.url}/.well-known/jwks.json`)).json()) as { keys: Array<{ kid: string }> };
    expect(jwks.keys.map((k) => k.kid)).toContain('audit-kid-1');
    expect(h.receiver.received.filter((s) => s.path === '/rev').some((s) => eventOf(s).type === RISK_CHANGE)).toBe(false);
  }, 90_000);

  it('responses {behavior}: a brute_force hit already expired on arrival revokes no session (it sends no SET)', async () => {
    const user = 'brute-old@example.com';
    const now = Date.now();
    const login = (id: string, time: number, outcome: string, session?: string): Promise<string | null> =>
      add('login', {
        type: 'login',
        id,
        user,
        time: new Date(time).toISOString(),
        outcome,
        ip: '81.2.69.142',
        ...(session ? { session: { id: session, expires_at: new Date(now + 12 * HOUR).toISOString() } } : {}),
      });
    // The whole backfill is old (a later event would leave it beyond state.allowed_lateness); the
    // session its first login opened is still active.
    await login('bo-0', now - 30 * HOUR, 'success', 'bo-live');
    await waitFor(async () => (await admin<{ sessions: unknown[] }>(`/v1/users/${user}/sessions`)).body.sessions?.length === 1, { what: 'bo-live' });
    for (let i = 1; i <= 3; i++) await login(`bo-${i}`, now - 30 * HOUR + i * MIN, 'failure');
    await login('bo-4', now - 30 * HOUR + 5 * MIN, 'success');
    await waitFor(async () => (await behaviorsOf(user)).includes('brute_force'), { what: 'expired brute_force recorded' });
    await quiet([user]);
    expect(await level(user)).toBe('low');
    expect(setsFor(user)).toEqual([]);
    expect(h.receiver.received.some((s) => (s.claims.sub_id as { session?: { id: string } }).session?.id === 'bo-live')).toBe(false);
    expect((await admin<{ sessions: unknown[] }>(`/v1/users/${user}/sessions`)).body.sessions).toHaveLength(1);
  }, 60_000);
});
