import { describe, expect, it } from 'vitest';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { MIN, recent } from '../helpers/clock.js';

/**
 * Detection edges a black-box audit probed through the streams and the admin API only, and found
 * right; kept so they stay so: address spellings against allow_networks and password_spray's
 * per-IP tally, an event id repeated inside a credential window, spellings of the values
 * session_hijack compares, and which mfa pushes count.
 */
const h = workerHarness('e2e-detect-edges', () => ({}), {
  behaviors: {
    impossible_travel: {
      enabled: true,
      risk_level: 'high',
      expires_after: '24h',
      max_speed_kmh: 1000,
      min_distance_km: 500,
      allow_networks: ['203.0.113.0/24', '2001:db8::/32'],
    },
    brute_force: { enabled: true, risk_level: 'high', expires_after: '24h', failures: 3, window: '10m' },
    password_spray: { enabled: true, risk_level: 'medium', expires_after: '24h', users: 3, window: '1h' },
    mfa_fatigue: { enabled: true, risk_level: 'medium', expires_after: '24h', count: 3, window: '10m' },
    session_hijack: { enabled: true, risk_level: 'high', expires_after: '24h', compare: ['device', 'asn', 'country'] },
  },
});

const add = (stream: 'login' | 'activity', ev: Record<string, unknown>): Promise<string | null> =>
  h.redis.xadd(`${h.prefix}:${stream}`, '*', 'event', JSON.stringify(ev));
const quiet = (): Promise<void> => untilQuiet(h.redis, { prefix: h.prefix });
/** The behaviors of a user's hits; the user must be known (its events applied): a 404 fails, never reads as "no hit". */
const hits = async (user: string): Promise<string[]> => {
  const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/events`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  expect(r.status, `GET /v1/users/${user}/events: the user is known`).toBe(200);
  return ((await r.json()) as { events: Array<{ kind: string; behavior: string }> }).events.filter((e) => e.kind === 'hit').map((e) => e.behavior);
};
const login = (user: string, at: number, ip: string, lat: number, lon: number, extra: Record<string, unknown> = {}) =>
  add('login', { type: 'login', user, time: recent(at), outcome: 'success', ip, geo: { lat, lon }, ...extra });
/** London, then Sydney ten minutes later from an address outside every allowed network. */
const trip = async (user: string, fromIp: string): Promise<void> => {
  await login(user, 0, fromIp, 51.5, -0.12);
  await login(user, 10 * MIN, '81.2.69.142', -33.8, 151.2);
};

describe('detection edges (real worker, streams and admin API only)', () => {
  it('allow_networks: an IPv4-mapped IPv6 address is in its IPv4 CIDR; IPv6 in any spelling is in its CIDR; an IPv6 outside is judged', async () => {
    await trip('mapped@example.com', '::ffff:203.0.113.7');
    await trip('upper@example.com', '2001:DB8:0:0:0:0:0:1');
    await trip('outside@example.com', '2001:db9::1');
    await quiet();
    expect(await hits('mapped@example.com')).toEqual([]);
    expect(await hits('upper@example.com')).toEqual([]);
    expect(await hits('outside@example.com')).toEqual(['impossible_travel']);
  });

  it('password_spray counts one address in its spellings as one IP, and one user in any case as one user', async () => {
    for (const [user, ip] of [
      ['sp1@example.com', '::ffff:198.51.100.40'],
      ['sp2@example.com', '198.51.100.40'],
      ['sp3@example.com', '::FFFF:c633:6428'],
    ])
      await add('login', { type: 'login', user, time: recent(0), outcome: 'failure', ip });
    await add('login', { type: 'login', user: 'sp1@example.com', time: recent(MIN), outcome: 'success', ip: '198.51.100.40' });
    for (const user of ['Case1@example.com', 'case1@example.com', 'case2@example.com'])
      await add('login', { type: 'login', user, time: recent(0), outcome: 'failure', ip: '198.51.100.41' });
    await add('login', { type: 'login', user: 'case2@example.com', time: recent(MIN), outcome: 'success', ip: '198.51.100.41' });
    await quiet();
    expect(await hits('sp1@example.com')).toEqual(['password_spray']);
    expect(await hits('case2@example.com')).toEqual([]);
  });

  it('one event id delivered three times is one failed login or one refused push: no brute_force, no mfa_fatigue', async () => {
    for (let i = 0; i < 3; i++)
      await add('login', { type: 'login', id: 'dup-f', user: 'dup1@example.com', time: recent(1000), outcome: 'failure', ip: '198.51.100.20' });
    await add('login', { type: 'login', id: 'dup-s', user: 'dup1@example.com', time: recent(MIN), outcome: 'success', ip: '198.51.100.20' });
    for (let i = 0; i < 3; i++)
      await add('login', { type: 'mfa', id: 'dup-m', user: 'dup2@example.com', time: recent(1000), outcome: 'denied', factor: 'push' });
    // The same without ids: three of each.
    for (let i = 0; i < 3; i++)
      await add('login', { type: 'login', user: 'dup3@example.com', time: recent(1000 + i), outcome: 'failure', ip: '198.51.100.22' });
    await add('login', { type: 'login', user: 'dup3@example.com', time: recent(MIN), outcome: 'success', ip: '198.51.100.22' });
    for (let i = 0; i < 3; i++) await add('login', { type: 'mfa', user: 'dup4@example.com', time: recent(1000 + i), outcome: 'denied', factor: 'push' });
    await quiet();
    expect(await hits('dup1@example.com')).toEqual([]);
    expect(await hits('dup2@example.com')).toEqual([]);
    expect(await hits('dup3@example.com')).toEqual(['brute_force']);
    expect(await hits('dup4@example.com')).toEqual(['mfa_fatigue']);
  });

  it('mfa_fatigue: denied and timeout count together, a factor outside `factors` does not, one without a factor does', async () => {
    const pushes = async (user: string, extra: Record<string, unknown>) => {
      for (const [i, outcome] of ['denied', 'timeout', 'denied'].entries())
        await add('login', { type: 'mfa', user, time: recent(i * 1000), outcome, ...extra });
    };
    await pushes('mixed@example.com', { factor: 'push' });
    await pushes('sms@example.com', { factor: 'sms' });
    await pushes('nofactor@example.com', {});
    await quiet();
    expect(await hits('mixed@example.com')).toEqual(['mfa_fatigue']);
    expect(await hits('sms@example.com')).toEqual([]);
    expect(await hits('nofactor@example.com')).toEqual(['mfa_fatigue']);
  });

  it('session_hijack: AS1221 is 1221, Australia is AU, Korea, Republic of is KR, a trimmed device id is the same; a property missing at the login is not compared', async () => {
    const session = (user: string, sid: string, extra: Record<string, unknown>) =>
      add('login', {
        type: 'login',
        user,
        time: recent(0),
        outcome: 'success',
        ip: '81.2.69.142',
        session: { id: sid, expires_at: Date.now() + 3_600_000 },
        ...extra,
      });
    await session('spell@example.com', 'sp-s1', { network: { asn: 'AS1221' }, geo: { country: 'Australia' }, device: { id: ' d-7 ' } });
    await session('bare@example.com', 'sp-s2', { device: { id: 'd-1' } });
    await session('iso@example.com', 'sp-s3', { geo: { country: 'KR' } });
    await quiet();
    const use = (user: string, sid: string, at: number, extra: Record<string, unknown>) =>
      add('activity', { type: 'access', user, time: recent(at), session: { id: sid }, ...extra });
    await use('spell@example.com', 'sp-s1', MIN, { network: { asn: 1221 }, geo: { country: 'au' }, device: { id: 'd-7' } });
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'type',
      'access',
      'user',
      'spell@example.com',
      'time',
      String(recent(2 * MIN)),
      'session.id',
      'sp-s1',
      'network.asn',
      '1221',
      'geo.country',
      'AUS',
    );
    await use('bare@example.com', 'sp-s2', MIN, { network: { asn: 1221 }, geo: { country: 'AU' } });
    // ISO 3166-1's short name, inverted at its comma, is the same country (found by this audit: a hijack).
    await use('iso@example.com', 'sp-s3', MIN, { geo: { country: 'Korea, Republic of' } });
    await quiet();
    expect(await hits('iso@example.com')).toEqual([]);
    expect(await hits('spell@example.com')).toEqual([]);
    expect(await hits('bare@example.com')).toEqual([]);
    await use('bare@example.com', 'sp-s2', 2 * MIN, { device: { id: 'd-2' } });
    await quiet();
    expect(await hits('bare@example.com')).toEqual(['session_hijack']);
  });
});
