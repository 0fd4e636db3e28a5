/**
 * Event time, black-box (found by an audit of CONTRACT §2–§4 against the docs): times in every
 * documented form, expiry at its boundary as the input entry's time decides it, backfills, future
 * (skewed) times, duplicates, out-of-order arrival, resets followed by late events, and the edges
 * of `window`, `learning` and `baseline` — all through XADD, the admin API and the SETs received.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf, type ReceivedSet } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const h = workerHarness(
  'e2e-event-time',
  (url) => ({
    receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://rx.test', subject_format: 'email' }],
    state: { sweep_interval: '100ms' },
  }),
  {
    receiver: { audience: 'https://rx.test', issuer: 'https://riskstream.test' },
    behaviors: {
      endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '1h', min_severity: 'high' },
      probe: { kind: 'threshold', enabled: true, risk_level: 'medium', expires_after: '1h', match: { type: 'probe' }, count: 2, window: '1m' },
      impossible_travel: { enabled: true, risk_level: 'high', expires_after: '24h' },
      brute_force: { enabled: true, risk_level: 'high', expires_after: '24h', failures: 3, window: '10m' },
      new_country: { enabled: true, risk_level: 'medium', expires_after: '24h', learning: '7d', baseline: '30d' },
    },
  },
);

type RiskEvent = {
  kind: string;
  behavior?: string;
  occurred_at?: string;
  processed_at?: string;
  expires_at?: string;
  expired_on_arrival?: boolean;
  current?: string;
};

async function admin(method: string, path: string, body?: unknown): Promise<{ status: number; body: any }> {
  const r = await fetch(`${h.worker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${h.cfg.adminToken}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  return { status: r.status, body: await r.json().catch(() => null) };
}

const risk = (u: string) => admin('GET', `/v1/users/${encodeURIComponent(u)}/risk`);
async function events(u: string): Promise<RiskEvent[]> {
  const r = await admin('GET', `/v1/users/${encodeURIComponent(u)}/events`);
  return (r.body?.events ?? []) as RiskEvent[];
}
const hits = async (u: string) => (await events(u)).filter((e) => e.kind === 'hit').reverse();
const setsFor = (u: string): ReceivedSet[] => h.receiver.received.filter((s) => (s.claims.sub_id as { email?: string } | undefined)?.email === u);
const levels = (u: string) => setsFor(u).map((s) => `${String(eventOf(s).body.previous_level)}→${String(eventOf(s).body.current_level)}`);

const edr = (user: string, time: unknown, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'endpoint', user, time, device: { id: 'd-1' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical', ...extra });
const login = (user: string, time: number, country: string, extra: Record<string, unknown> = {}) =>
  JSON.stringify({ type: 'login', user, time, outcome: 'success', geo: { country }, ...extra });

async function add(stream: 'login' | 'activity', json: string, id = '*'): Promise<void> {
  await h.redis.xadd(`${h.prefix}:${stream}`, id, 'event', json);
}
const quiet = (users: string[]) => untilQuiet(h.redis, { prefix: h.prefix, users });

describe('event time through the contract (black box)', () => {
  it('time bounds are judged at the entry arrival, not when a worker behind a backlog reads it (found by this audit: an event inside ingest.max_past when it arrived was dead-lettered once read 20 min later)', async () => {
    // Runs first: its entries' ids (their arrival, 20 min ago: a worker that was down) are the stream's oldest.
    const at = Date.now() - 20 * 60_000;
    const inside = 'arrival-past-in@example.com';
    const outside = 'arrival-past-out@example.com';
    await add('activity', edr(inside, at - 365 * DAY + 5 * 60_000, { id: 'ap-1' }), `${at}-0`);
    await add('activity', edr(outside, at - 365 * DAY - 5 * 60_000, { id: 'ap-2' }), `${at}-1`);
    await quiet([inside, outside]);
    expect((await hits(inside)).map((e) => [e.expired_on_arrival, Date.parse(e.processed_at!)])).toEqual([[true, at]]);
    expect((await risk(outside)).status).toBe(404);
    const dead = (await h.redis.xrange(`${h.prefix}:dead-letter`, '-', '+')).map(([, f]) => f.join(' '));
    expect(dead.filter((d) => d.includes('arrival-past-')).map((d) => [d.includes(outside), d.includes('time_out_of_range')])).toEqual([[true, true]]);
  });

  it('expiry at its boundary: a hit at T with expires_after 1h counts when its entry arrives at T+1h−1ms, is expired on arrival at T+1h', async () => {
    // The input entry's id is its processing time (docs/operations.md "Time"): pick it.
    const x = Date.now() - 20_000;
    const live = 'edge-live@example.com';
    const late = 'edge-late@example.com';
    await add('activity', edr(live, x + 1 - HOUR, { id: 'edge-1' }), `${x}-0`);
    await add('activity', edr(late, x - HOUR, { id: 'edge-2' }), `${x}-1`);
    await quiet([live, late]);
    expect((await hits(live)).map((e) => e.expired_on_arrival)).toEqual([false]);
    expect((await hits(late)).map((e) => e.expired_on_arrival)).toEqual([true]);
    // The live one rose, and the sweep (wall clock past its expiry) lowers it again: the receiver
    // gets the lower level, or both (docs/operations.md "Time").
    await waitFor(async () => (await risk(live)).body?.level === 'low', { what: `${live} back to low` });
    const changes = (await events(live)).filter((e) => e.kind === 'change').reverse();
    expect(changes.map((c) => [c.current, c.occurred_at])).toEqual([
      ['high', new Date(x + 1 - HOUR).toISOString()],
      ['low', new Date(x + 1).toISOString()],
    ]);
    await waitFor(() => levels(live).at(-1) === 'HIGH→LOW', { what: `the LOW SET for ${live}` });
    expect([['LOW→HIGH', 'HIGH→LOW'], ['HIGH→LOW']]).toContainEqual(levels(live));
    expect(levels(late)).toEqual([]);
    expect((await risk(late)).body).toMatchObject({ level: 'low', version: 0 });
  });

  it("time forms: ISO with an offset, fractions, no zone (UTC), epoch ms or seconds (a fraction of a ms cut, as an ISO time's: found by this audit, epoch times were rounded), as number and as a flat string field name the same instant", async () => {
    const t = Math.floor((Date.now() - 5 * 60_000) / 1000) * 1000; // whole second, 5 min ago
    const iso = new Date(t).toISOString(); // …Z
    const plus2 =
      new Date(t + 2 * HOUR)
        .toISOString()
        .replace('Z', '')
        .replace(/\.\d+$/, '') + '+02:00';
    const noZone = iso.replace('Z', '');
    const frac = iso.replace('.000Z', '.000999Z');
    const forms: Array<[string, unknown]> = [
      ['iso', iso],
      ['plus2', plus2],
      ['nozone', noZone],
      ['frac', frac],
      ['epoch', t],
      ['epochsec', t / 1000],
      ['epochsecfrac', t / 1000 + 0.0007],
      ['epochmsfrac', t + 0.7],
      ['epochsecfracstr', `${t / 1000}.0007`],
      ['space', iso.replace('T', ' ')],
      ['comma', iso.replace('.', ',')],
      ['hhmm', plus2.replace('+02:00', '+0200')],
      ['hh', plus2.replace('+02:00', '+02')],
      ['minus', new Date(t - 5.5 * HOUR).toISOString().replace('.000Z', '-05:30')],
      ['basic', iso.replace(/[-:]/g, '').replace('.000', '')],
    ];
    for (const [name, time] of forms) await add('activity', edr(`form-${name}@example.com`, time, { id: `form-${name}` }));
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'type',
      'endpoint',
      'user',
      'form-flat@example.com',
      'time',
      String(t),
      'severity',
      'critical',
      'detection',
      'malware',
      'device.id',
      'd-1',
    );
    const users = [...forms.map(([n]) => `form-${n}@example.com`), 'form-flat@example.com'];
    await quiet(users);
    for (const u of users) {
      const [hit] = await hits(u);
      expect({ u, at: hit?.occurred_at && Date.parse(hit.occurred_at), exp: hit?.expires_at && Date.parse(hit.expires_at) }).toEqual({
        u,
        at: t,
        exp: t + HOUR,
      });
    }
  });

  it('a future time (a skewed shipper, 3h ahead) counts from when it is processed; beyond ingest.max_future it is dead-lettered', async () => {
    const u = 'skewed@example.com';
    const before = Date.now();
    await add('activity', edr(u, before + 3 * HOUR, { id: 'skew-1' }));
    await add('activity', edr('too-far@example.com', before + 3 * DAY, { id: 'skew-2' }));
    await quiet([u]);
    const body = (await risk(u)).body;
    expect(body.level).toBe('high');
    const exp = Date.parse(body.active_behaviors?.[0]?.expires_at ?? body.behaviors?.[0]?.expires_at ?? body.next_expiry);
    expect(exp).toBeGreaterThanOrEqual(before + HOUR);
    expect(exp).toBeLessThan(Date.now() + HOUR + 1);
    const dead = await h.redis.xrange(`${h.prefix}:dead-letter`, '-', '+');
    expect(dead.map(([, f]) => f.join(' ')).some((s) => s.includes('time_out_of_range'))).toBe(true);
    expect((await risk('too-far@example.com')).status).toBe(404);
  });

  it('an event whose hit counted, delivered again after the hit expired (a shipper replaying its file), is not recorded again (found by this audit: a second hit, expired on arrival)', async () => {
    const u = 'redeliver-expired@example.com';
    const ev = edr(u, Date.now() - HOUR + 1500, { id: 'rx-1' });
    await add('activity', ev);
    await quiet([u]);
    expect((await risk(u)).body.level).toBe('high');
    await waitFor(async () => (await risk(u)).body.level === 'low', { what: 'the sweep to expire the hit' });
    await add('activity', ev);
    await quiet([u]);
    expect((await hits(u)).map((e) => e.expired_on_arrival)).toEqual([false]);
    expect((await risk(u)).body).toMatchObject({ level: 'low', version: 2 });
  });

  it('time bounds: ingest.max_future (2d) and ingest.max_past (365d) take times just inside, dead-letter those just outside', async () => {
    const now = Date.now();
    const inside: Array<[string, number]> = [
      ['bound-future-in', now + 2 * DAY - 60_000],
      ['bound-past-in', now - 365 * DAY + 60_000],
    ];
    const outside: Array<[string, number]> = [
      ['bound-future-out', now + 2 * DAY + 60_000],
      ['bound-past-out', now - 365 * DAY - 60_000],
    ];
    for (const [n, t] of [...inside, ...outside]) await add('activity', edr(`${n}@example.com`, t, { id: n }));
    await quiet([...inside, ...outside].map(([n]) => `${n}@example.com`));
    expect((await hits('bound-future-in@example.com')).map((e) => e.expired_on_arrival)).toEqual([false]);
    expect((await hits('bound-past-in@example.com')).map((e) => e.expired_on_arrival)).toEqual([true]);
    expect((await risk('bound-past-in@example.com')).body).toMatchObject({ level: 'low', version: 0 });
    const dead = (await h.redis.xrange(`${h.prefix}:dead-letter`, '-', '+')).map(([, f]) => f.join(' '));
    for (const [n] of outside) {
      expect((await risk(`${n}@example.com`)).status).toBe(404);
      expect(dead.some((d) => d.includes(`${n}@example.com`) && d.includes('time_out_of_range'))).toBe(true);
    }
  });

  it('duplicates: the same id twice is one hit (also within a counting window); without ids each counts', async () => {
    const now = Date.now() - 10_000;
    const u = 'dup-id@example.com';
    await add('activity', edr(u, now, { id: 'dup-1' }));
    await add('activity', edr(u, now, { id: 'dup-1' }));
    const v = 'dup-window@example.com';
    await add('activity', JSON.stringify({ type: 'probe', id: 'p-1', user: v, time: now }));
    await add('activity', JSON.stringify({ type: 'probe', id: 'p-1', user: v, time: now }));
    const w = 'dup-noid@example.com';
    await add('activity', JSON.stringify({ type: 'probe', user: w, time: now }));
    await add('activity', JSON.stringify({ type: 'probe', user: w, time: now }));
    await quiet([u, v, w]);
    expect((await hits(u)).length).toBe(1);
    expect((await hits(v)).length).toBe(0);
    expect((await hits(w)).length).toBe(1);
  });

  it('threshold window edges: two matches exactly `window` apart count, 1 ms more do not, in either arrival order', async () => {
    const t = Date.now() - 5 * 60_000;
    const cases: Array<[string, number, number, boolean]> = [
      ['thr-edge-in', 60_000, 1, false],
      ['thr-edge-out', 60_001, 0, false],
      ['thr-edge-in-rev', 60_000, 1, true],
      ['thr-edge-out-rev', 60_001, 0, true],
    ];
    for (const [name, gap, , reversed] of cases) {
      const pair = [
        JSON.stringify({ type: 'probe', id: `${name}-a`, user: `${name}@example.com`, time: t }),
        JSON.stringify({ type: 'probe', id: `${name}-b`, user: `${name}@example.com`, time: t + gap }),
      ];
      for (const e of reversed ? pair.reverse() : pair) await add('activity', e);
    }
    await quiet(cases.map(([n]) => `${n}@example.com`));
    for (const [name, , n] of cases) expect({ name, n: (await hits(`${name}@example.com`)).length }).toEqual({ name, n });
  });

  it('a late match never makes a counting behavior fire again; it may leave its hit at the match that completed the count on arrival (README "How time works")', async () => {
    const t = Date.now() - 5 * 60_000;
    const inOrder = 'thr-late-order@example.com';
    const late = 'thr-late-arrival@example.com';
    for (const off of [0, 20_000, 40_000]) await add('activity', JSON.stringify({ type: 'probe', id: `o-${off}`, user: inOrder, time: t + off }));
    for (const off of [20_000, 40_000, 0]) await add('activity', JSON.stringify({ type: 'probe', id: `l-${off}`, user: late, time: t + off }));
    await quiet([inOrder, late]);
    const at = async (u: string) => (await hits(u)).map((e) => Date.parse(e.occurred_at!) - t);
    expect(await at(inOrder)).toEqual([20_000]);
    expect(await at(late)).toEqual([40_000]);
  });

  it('new_country: learning and baseline include both their ends', async () => {
    const t0 = Date.now() - 60 * DAY;
    // learning 7d: a new country exactly 7d after the first login is flagged, 1 ms earlier not.
    await add('login', login('learn-at@example.com', t0, 'GB', { id: 'la-1' }));
    await add('login', login('learn-at@example.com', t0 + 7 * DAY, 'FR', { id: 'la-2' }));
    await add('login', login('learn-before@example.com', t0, 'GB', { id: 'lb-1' }));
    await add('login', login('learn-before@example.com', t0 + 7 * DAY - 1, 'FR', { id: 'lb-2' }));
    // baseline 30d: GB seen at t0+1d (while learning); GB again exactly 30d later is known, 1 ms more is new.
    for (const [u, gap] of [
      ['base-at@example.com', 30 * DAY],
      ['base-after@example.com', 30 * DAY + 1],
    ] as const) {
      await add('login', login(u, t0, 'DE', { id: `${u}-1` }));
      await add('login', login(u, t0 + DAY, 'GB', { id: `${u}-2` }));
      await add('login', login(u, t0 + DAY + gap, 'GB', { id: `${u}-3` }));
    }
    const users = ['learn-at', 'learn-before', 'base-at', 'base-after'].map((n) => `${n}@example.com`);
    await quiet(users);
    const got = Object.fromEntries(await Promise.all(users.map(async (u) => [u, (await hits(u)).map((e) => [e.behavior, e.expired_on_arrival])])));
    expect(got).toEqual({
      'learn-at@example.com': [['new_country', true]],
      'learn-before@example.com': [],
      'base-at@example.com': [],
      'base-after@example.com': [['new_country', true]],
    });
    expect(levels('learn-at@example.com')).toEqual([]);
  });

  it('out of order across the login and activity streams: impossible travel judged in event time, whichever stream/order arrives first', async () => {
    const t = Date.now() - 2 * HOUR;
    const u = 'ooo@example.com';
    // 5 min apart: within state.allowed_lateness (10m).
    // Sydney (later) first, on the activity stream as a session refresh; London (earlier) second, on the login stream.
    await add(
      'activity',
      JSON.stringify({
        type: 'session_refresh',
        id: 'o-2',
        user: u,
        time: t + 5 * 60_000,
        outcome: 'success',
        geo: { lat: -33.87, lon: 151.21, country: 'AU' },
      }),
    );
    await add('login', JSON.stringify({ type: 'login', id: 'o-1', user: u, time: t, outcome: 'success', geo: { lat: 51.5, lon: -0.12, country: 'GB' } }));
    await quiet([u]);
    expect((await hits(u)).map((e) => e.behavior)).toEqual(['impossible_travel']);
    expect((await risk(u)).body.level).toBe('high');
  });

  it('a login arriving an hour late (beyond state.allowed_lateness, within the travel horizon) still pairs: impossible travel is order-free', async () => {
    const t = Date.now() - 2 * HOUR;
    const u = 'ooo-1h@example.com';
    await add(
      'login',
      JSON.stringify({ type: 'login', id: 'q-2', user: u, time: t + HOUR, outcome: 'success', geo: { lat: -33.87, lon: 151.21, country: 'AU' } }),
    );
    await add('login', JSON.stringify({ type: 'login', id: 'q-1', user: u, time: t, outcome: 'success', geo: { lat: 51.5, lon: -0.12, country: 'GB' } }));
    await quiet([u]);
    expect((await hits(u)).map((e) => [e.behavior, Date.parse(e.occurred_at!)])).toEqual([['impossible_travel', t + HOUR]]);
  });

  it('brute_force: failures arriving after the success count within state.allowed_lateness (10m), not an hour behind the newest login (README "How time works")', async () => {
    const now = Date.now();
    const attempt = (u: string, id: string, time: number, outcome: string) => JSON.stringify({ type: 'login', id, user: u, time, outcome, ip: '203.0.113.9' });
    const near = 'bf-late-near@example.com';
    await add('login', attempt(near, 'n-s', now - 20 * 60_000, 'success'));
    for (let i = 0; i < 3; i++) await add('login', attempt(near, `n-f${i}`, now - 25 * 60_000 + i, 'failure'));
    const far = 'bf-late-far@example.com';
    await add('login', attempt(far, 'f-s', now - 60 * 60_000, 'success'));
    await add('login', attempt(far, 'f-x', now - 60_000, 'success'));
    for (let i = 0; i < 3; i++) await add('login', attempt(far, `f-f${i}`, now - 65 * 60_000 + i, 'failure'));
    await quiet([near, far]);
    expect((await hits(near)).map((e) => [e.behavior, Date.parse(e.occurred_at!)])).toEqual([['brute_force', now - 20 * 60_000]]);
    expect(await hits(far)).toEqual([]);
  });

  it('brute_force window edges: a failure exactly `window` (10m) before the success counts, 1 ms more does not (behaviors.yaml)', async () => {
    const s0 = Date.now() - 30 * 60_000;
    const attempt = (u: string, id: string, time: number, outcome: string) => JSON.stringify({ type: 'login', id, user: u, time, outcome });
    for (const [u, first] of [
      ['bf-edge-in@example.com', s0 - 10 * 60_000],
      ['bf-edge-out@example.com', s0 - 10 * 60_000 - 1],
    ] as const) {
      await add('login', attempt(u, `${u}-f0`, first, 'failure'));
      await add('login', attempt(u, `${u}-f1`, s0 - 5 * 60_000, 'failure'));
      await add('login', attempt(u, `${u}-f2`, s0 - 60_000, 'failure'));
      await add('login', attempt(u, `${u}-s`, s0, 'success'));
    }
    await quiet(['bf-edge-in@example.com', 'bf-edge-out@example.com']);
    expect((await hits('bf-edge-in@example.com')).map((e) => e.behavior)).toEqual(['brute_force']);
    expect(await hits('bf-edge-out@example.com')).toEqual([]);
  });

  it('a later event stamped in the future (skew) does not expire a live hit early: expiry follows the clock', async () => {
    const u = 'skew-expire@example.com';
    const t = Date.now() - 30 * 60_000;
    await add('activity', edr(u, t, { id: 'se-1' }));
    await add('activity', JSON.stringify({ type: 'probe', id: 'se-2', user: u, time: t + HOUR + 1 }));
    await quiet([u]);
    const body = (await risk(u)).body;
    expect(body.level).toBe('high');
    expect(Date.parse(body.next_expiry)).toBe(t + HOUR);
  });

  it('reset, then a late event older than the reset: a new event raises again (the admin vouched only for what had arrived); the cleared one delivered again does not', async () => {
    const u = 'reset-late@example.com';
    const t = Date.now() - 10 * 60_000;
    await add('activity', edr(u, t, { id: 'r-1' }));
    await quiet([u]);
    expect((await risk(u)).body.level).toBe('high');
    expect((await admin('POST', `/v1/users/${encodeURIComponent(u)}/risk/reset`, { reason: 'checked' })).status).toBe(200);
    expect((await risk(u)).body.level).toBe('low');
    await add('activity', edr(u, t, { id: 'r-1' })); // resent: vouched for
    await quiet([u]);
    expect((await risk(u)).body.level).toBe('low');
    await add('activity', edr(u, t - 60_000, { id: 'r-0' })); // new, older than the reset
    await quiet([u]);
    expect((await risk(u)).body.level).toBe('high');
  });

  it('an idle user: the level drops by the clock at event time + expires_after with no later event', async () => {
    const u = 'idle@example.com';
    const t = Date.now() - HOUR + 3000; // expires ~3 s from now
    await add('activity', edr(u, t, { id: 'idle-1' }));
    await quiet([u]);
    expect(Date.parse((await risk(u)).body.next_expiry)).toBe(t + HOUR);
    const listed = async (level: string) => ((await admin('GET', `/v1/users?level=${level}`)).body.users as Array<{ user: string }>).some((x) => x.user === u);
    expect(await listed('high')).toBe(true);
    await waitFor(async () => (await risk(u)).body.level === 'low', { what: 'the idle user to drop' });
    expect(Date.now()).toBeGreaterThanOrEqual(t + HOUR);
    expect(await listed('high')).toBe(false);
    // The change is dated when the behavior stopped counting (event time), and audited as riskstream's own.
    const change = (await events(u)).find((e) => e.kind === 'change' && e.current === 'low');
    expect(change?.occurred_at).toBe(new Date(t + HOUR).toISOString());
    await waitFor(() => levels(u).at(-1) === 'HIGH→LOW', { what: 'the LOW SET' });
  });
});
