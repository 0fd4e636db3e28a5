import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { MIN, recentIso } from '../helpers/clock.js';

const h = workerHarness(
  'e2e-spray',
  (url) => ({ receivers: [{ name: 'test-ssf', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://spray.receiver.test', subject_format: 'email' }] }),
  {
    receiver: { audience: 'https://spray.receiver.test', issuer: 'https://riskstream.test' },
    behaviors: {
      password_spray: { risk_level: 'high', expires_after: '24h', users: 5, window: '30m' },
      dlp_detection: { risk_level: 'medium', expires_after: '24h', min_severity: 'high', count: 2, window: '1m' },
    },
  },
);

const add = (e: Record<string, unknown>) => h.redis.xadd(`${h.prefix}:login`, '*', 'event', JSON.stringify({ type: 'login', ...e }));
const sprayFrom = async (ip: string, tag: string, from: number) => {
  for (let i = 0; i < 5; i++)
    await add({ id: `${tag}-f${i}`, user: `${tag}${i}@example.com`, time: recentIso(from + i * MIN), outcome: 'failure', reason: 'bad_password', ip });
};
/** An Entra sign-in record (as Graph or a shipper gives it) of `user` from `ip` with `errorCode`. */
const entraBadPassword = JSON.parse(readFileSync(new URL('../ingest/fixtures/entra-signin-bad-password.json', import.meta.url), 'utf8')) as Record<
  string,
  unknown
>;
const entra = (id: string, user: string, at: number, ip: string, errorCode: number) =>
  h.redis.xadd(
    `${h.prefix}:login`,
    '*',
    'event',
    JSON.stringify({
      ...entraBadPassword,
      id,
      userPrincipalName: user,
      createdDateTime: recentIso(at),
      ipAddress: ip,
      status: { errorCode, failureReason: 'x' },
    }),
  );
const subjects = () => h.receiver.received.map((s) => (s.claims.sub_id as { email?: string }).email);
const risk = async (user: string) => {
  const res = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return (await res.json()) as { level: string; behaviors: Array<{ id: string; evidence: Record<string, unknown> }> };
};

describe('password_spray end to end (real worker, Redis, receiver)', () => {
  it('one IP fails for 5 users, then one of them logs in from it: that user alone goes HIGH, one SET', async () => {
    const ip = '203.0.113.9';
    await sprayFrom(ip, 'sp', 0);
    await add({ id: 'sp-ok', user: 'sp2@example.com', time: recentIso(10 * MIN), outcome: 'success', ip });
    // Same user base, another IP, no spray: nothing.
    await add({ id: 'calm-ok', user: 'calm@example.com', time: recentIso(10 * MIN), outcome: 'success', ip: '198.51.100.4' });
    await waitFor(() => subjects().includes('sp2@example.com'), { what: "the victim's SET" });
    const set = h.receiver.received.find((s) => (s.claims.sub_id as { email?: string }).email === 'sp2@example.com')!;
    expect(set.verified).toBe(true);
    expect(eventOf(set).body).toMatchObject({ current_level: 'HIGH', previous_level: 'LOW' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['sp2@example.com', 'calm@example.com'] });
    expect(subjects().filter((s) => s === 'sp2@example.com')).toHaveLength(1);
    expect(subjects()).not.toContain('calm@example.com');
    expect(subjects()).not.toContain('sp0@example.com');
    const r = await risk('sp2@example.com');
    expect(r.level).toBe('high');
    expect(r.behaviors[0]).toMatchObject({ id: 'password_spray', evidence: { ip, distinct_users: 5, failures: 5, victim_failed_too: true } });
    // The IP's state is its own key, bounded in time.
    expect(await h.redis.pttl(`${h.prefix}:ip:{${ip}}:logins`)).toBeGreaterThan(0);
  });

  it('out of order: the success arrives first, the spray later — the victim is still flagged, once', async () => {
    const ip = '192.0.2.33';
    await add({ id: 'oo-ok', user: 'late@example.com', time: recentIso(60 * MIN), outcome: 'success', ip });
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['late@example.com'] });
    expect(subjects()).not.toContain('late@example.com');
    await sprayFrom(ip, 'oo', 45 * MIN);
    await waitFor(() => subjects().includes('late@example.com'), { what: "the late victim's SET" });
    // Replaying the spray adds nothing.
    await sprayFrom(ip, 'oo', 45 * MIN);
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['late@example.com'] });
    expect(subjects().filter((s) => s === 'late@example.com')).toHaveLength(1);
    const r = await risk('late@example.com');
    expect(r.behaviors[0]).toMatchObject({ id: 'password_spray', evidence: { success: 'oo-ok', distinct_users: 5, victim_failed_too: false } });
  });

  it('a victim revealed mid-batch leaves the entries after it theirs: two DLP matches without ids routed with it both count', async () => {
    const ip = '198.51.100.61';
    // One MULTI: the router reads the whole story in one step, the success first, the DLP matches after the spray.
    const m = h.redis.multi();
    const json = (e: Record<string, unknown>) => m.xadd(`${h.prefix}:login`, '*', 'event', JSON.stringify(e));
    json({ type: 'login', id: 'mid-ok', user: 'mid@example.com', time: recentIso(20 * MIN), outcome: 'success', ip });
    for (let i = 0; i < 5; i++) json({ type: 'login', id: `mid-f${i}`, user: `mid${i}@example.com`, time: recentIso(i * MIN), outcome: 'failure', ip });
    for (const s of [0, 1]) json({ type: 'dlp', user: 'dlp@example.com', time: recentIso(21 * MIN + s * 1000), severity: 'high', profile: 'pii' });
    await m.exec();
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['mid@example.com', 'dlp@example.com'] });
    expect((await risk('mid@example.com')).level).toBe('high');
    const dlp = await risk('dlp@example.com');
    expect(dlp.level).toBe('medium');
    expect(dlp.behaviors[0]).toMatchObject({ id: 'dlp_detection', evidence: { count: 2 } });
    expect(subjects().filter((s) => s === 'dlp@example.com')).toHaveLength(1);
  });

  it('one failure revealing 20 earlier successes flags all 20 users', async () => {
    const ip = '198.51.100.62';
    const users = Array.from({ length: 20 }, (_, i) => `many${i}@example.com`);
    // One MULTI: one routing step; the successes come first, the spray's fifth user reveals them all at once.
    const m = h.redis.multi();
    const json = (e: Record<string, unknown>) => m.xadd(`${h.prefix}:login`, '*', 'event', JSON.stringify({ type: 'login', ip, ...e }));
    users.forEach((user, i) => json({ id: `many-ok${i}`, user, time: recentIso(20 * MIN), outcome: 'success' }));
    for (let i = 0; i < 5; i++) json({ id: `many-f${i}`, user: `manyf${i}@example.com`, time: recentIso(i * MIN), outcome: 'failure' });
    await m.exec();
    await untilQuiet(h.redis, { prefix: h.prefix, users });
    const levels = await Promise.all(users.map(async (u) => (await risk(u)).level));
    expect(levels.filter((l) => l === 'high')).toHaveLength(20);
  });

  it('Entra records: bad passwords (50126) for 5 users, Conditional Access blocks (53003) not counted, then a 53003 victim: flagged, saying the password was accepted', async () => {
    const ip = '198.51.100.63';
    // 4 users' bad passwords and 3 users blocked by Conditional Access: one user short of a spray.
    for (let i = 0; i < 4; i++) await entra(`ca-f${i}`, `caf${i}@example.com`, i * MIN, ip, 50126);
    for (let i = 0; i < 3; i++) await entra(`ca-b${i}`, `cab${i}@example.com`, 5 * MIN, ip, 53003);
    await entra('ca-ok', 'caok@example.com', 6 * MIN, ip, 0);
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['caok@example.com', 'cab0@example.com', 'cab1@example.com', 'cab2@example.com'] });
    expect(subjects().filter((s) => s?.startsWith('ca'))).toEqual([]);
    // The fifth user's bad password, then a sign-in blocked by Conditional Access after the right password.
    await entra('ca-f4', 'caf4@example.com', 7 * MIN, ip, 50126);
    await entra('ca-victim', 'cavictim@example.com', 8 * MIN, ip, 53003);
    await waitFor(() => subjects().includes('cavictim@example.com'), { what: "the blocked victim's SET" });
    const r = await risk('cavictim@example.com');
    expect(r.level).toBe('high');
    expect(r.behaviors[0]).toMatchObject({
      id: 'password_spray',
      evidence: { ip, distinct_users: 5, failures: 5, success: 'ca-victim', outcome: 'blocked', password_accepted: true },
    });
    // The blocked sign-ins before the fifth failure (in event time) had 4 users' failures before them: never flagged.
    const blocked = ['cab0@example.com', 'cab1@example.com', 'cab2@example.com'];
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['cavictim@example.com', ...blocked] });
    expect(subjects().filter((s) => blocked.includes(s ?? ''))).toEqual([]);
  });
});
