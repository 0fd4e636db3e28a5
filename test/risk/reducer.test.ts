/** The pure reducer: tables of cases with a frozen `now`; no Redis, no clock. */
import { describe, expect, it } from 'vitest';
import { behavior } from '../helpers/behavior-config.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { travelLogins } from '../../src/detect/impossible-travel.js';
import { changeId, expire, reduce, reset, type ReduceInput } from '../../src/risk/reducer.js';
import { emptyState, nextExpiry, type UserState } from '../../src/risk/state.js';
import { MAX_HIT_TEXT } from '../../src/risk/hit-text.js';
import type { CanonicalEvent } from '../../src/types.js';

const USER = 'alice@example.com';
const LOGIN = 'rs:login';
const ACTIVITY = 'rs:activity';
const MIN = 60_000;
const HOUR = 60 * MIN;
/** Frozen processing time; event times are a little earlier, as in a live stream. */
const NOW = Date.parse('2026-11-23T12:00:00Z');
const T0 = Date.parse('2026-11-23T08:00:00Z');
const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * 24 * HOUR, allowedLateness: 10 * MIN };

const TRAVEL = behavior('impossible_travel', { enabled: true, risk_level: 'high', expires_after: '24h', max_speed_kmh: 1000, min_distance_km: 500 });
const DLP = behavior('dlp_detection', { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' });
const EDR = behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '6h', min_severity: 'high' });
const BEHAVIORS = [TRAVEL, DLP, EDR];

const PLACES = {
  London: { lat: 51.5074, lon: -0.1278, accuracy_km: 20, country: 'GB', city: 'London' },
  NewYork: { lat: 40.7128, lon: -74.006, accuracy_km: 20, country: 'US', city: 'New York' },
  Sydney: { lat: -33.8688, lon: 151.2093, accuracy_km: 20, country: 'AU', city: 'Sydney' },
};

let seq = 0;
/** A stream entry id: a fixed ms part and a growing sequence, like XADD's. */
const entryId = (): string => `${T0}-${++seq}`;

function login(id: string, place: keyof typeof PLACES, at: number, ip: string): ReduceInput {
  const event: CanonicalEvent = { type: 'login', id, user: USER, time: T0 + at, outcome: 'success', ip, geo: PLACES[place] };
  return { event, ref: { stream: LOGIN, id: entryId() } };
}
function dlp(id: string, at: number, severity = 'high'): ReduceInput {
  return {
    event: { type: 'dlp', id, user: USER, time: T0 + at, profile: 'credit-cards', severity, action: 'block', app: 'drive' },
    ref: { stream: ACTIVITY, id: entryId() },
  };
}
function edr(id: string, at: number, severity = 'critical'): ReduceInput {
  return {
    event: { type: 'endpoint', id, user: USER, time: T0 + at, device: { id: 'd-9' }, vendor: 'crowdstrike', detection: 'malware', severity },
    ref: { stream: ACTIVITY, id: entryId() },
  };
}

/** JSON round trip, as the state goes through Redis between batches. */
const stored = (s: UserState): UserState => JSON.parse(JSON.stringify(s)) as UserState;

/** London at 08:00, then Sydney at 10:00: ~17 000 km in 2 h. */
const londonSydney = (): [ReduceInput, ReduceInput] => [login('l-1', 'London', 0, '81.2.69.142'), login('l-2', 'Sydney', 2 * HOUR, '1.128.0.1')];

describe('reduce: what a hit quotes from its event is bounded', () => {
  it('a detection text and device id of 200 000 characters: summary, evidence strings and the change reason at most 1024 characters', () => {
    const input = edr('e-big', 0);
    Object.assign(input.event, { detection: `Malware ${'A'.repeat(200_000)}`, device: { id: 'D'.repeat(200_000) } });
    const r = reduce(emptyState(USER), [input], BEHAVIORS, NOW, LIMITS);
    expect(r.hits).toHaveLength(1);
    const hit = r.hits[0]!;
    expect(hit.summary).toHaveLength(MAX_HIT_TEXT);
    expect(hit.summary.startsWith('crowdstrike: Malware AAA')).toBe(true);
    expect(hit.summary.endsWith('…')).toBe(true);
    for (const v of Object.values(hit.evidence)) if (typeof v === 'string') expect(v.length).toBeLessThanOrEqual(MAX_HIT_TEXT);
    expect(r.changes[0]!.reason).toBe(hit.summary);
    expect(r.state.behaviors.endpoint_detection).toMatchObject({ summary: hit.summary, evidence: hit.evidence });
    expect(JSON.stringify(r.state).length).toBeLessThan(10_000);
  });
});

describe('reduce: logins and impossible travel', () => {
  it("a user's first login: remembered, no hit, no change", () => {
    const input = login('l-1', 'London', 0, '81.2.69.142');
    const r = reduce(emptyState(USER), [input], BEHAVIORS, NOW, LIMITS);
    expect(r.hits).toEqual([]);
    expect(r.changes).toEqual([]);
    expect(r.state).toMatchObject({ user: USER, level: 'low', version: 0, behaviors: {}, changedAt: 0, updatedAt: NOW });
    expect(travelLogins(r.state.windows.impossible_travel)).toEqual([expect.objectContaining({ id: 'l-1', time: T0, city: 'London', ip: '81.2.69.142' })]);
  });

  it('a slow, plausible trip (London → New York in 10 h, ~560 km/h): no hit, stays LOW', () => {
    const r = reduce(emptyState(USER), [login('l-1', 'London', 0, '81.2.69.142'), login('l-2', 'NewYork', 10 * HOUR, '66.65.120.1')], BEHAVIORS, NOW, LIMITS);
    expect(r.hits).toEqual([]);
    expect(r.changes).toEqual([]);
    expect(r.state.level).toBe('low');
    expect(r.state.windows.impossible_travel).toHaveLength(2);
  });

  it('a fast, implausible trip (London → Sydney in 2 h): LOW → HIGH, version 1, one change with a deterministic id', () => {
    const [a, b] = londonSydney();
    const r = reduce(emptyState(USER), [a, b], BEHAVIORS, NOW, LIMITS);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]).toMatchObject({ behavior: 'impossible_travel', level: 'high', time: T0 + 2 * HOUR, eventIds: ['l-2', 'l-1'] });
    expect(Number(r.hits[0]!.evidence.distance_km)).toBeGreaterThan(16_000);
    expect(r.state).toMatchObject({ level: 'high', version: 1, changedAt: NOW });
    expect(r.state.behaviors.impossible_travel).toEqual({
      level: 'high',
      firstAt: T0 + 2 * HOUR,
      lastAt: T0 + 2 * HOUR,
      // Counted from the event time (10:00), not from when it was processed (12:00).
      expiresAt: T0 + 2 * HOUR + 24 * HOUR,
      hits: 1,
      ids: ['l-2', 'l-1'],
      summary: r.hits[0]!.summary,
      evidence: r.hits[0]!.evidence,
    });
    expect(r.changes).toHaveLength(1);
    const c = r.changes[0]!;
    expect(c).toEqual({
      id: changeId(USER, 1, `${LOGIN}/${b.ref.id}/impossible_travel`),
      user: USER,
      version: 1,
      previous: 'low',
      current: 'high',
      behaviors: ['impossible_travel'],
      reason: r.hits[0]!.summary,
      initiatingEntity: 'system',
      time: NOW,
      occurredAt: T0 + 2 * HOUR,
    });
    expect(c.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-a[0-9a-f]{3}-[0-9a-f]{12}$/);
    // The same cause gives the same id; another version or cause another one.
    expect(changeId(USER, 1, `${LOGIN}/${b.ref.id}/impossible_travel`)).toBe(c.id);
    expect(changeId(USER, 2, `${LOGIN}/${b.ref.id}/impossible_travel`)).not.toBe(c.id);
    expect(changeId('bob@example.com', 1, `${LOGIN}/${b.ref.id}/impossible_travel`)).not.toBe(c.id);
  });

  it('the trip split over two batches (state stored in between) gives the same result', () => {
    const [a, b] = londonSydney();
    const one = reduce(emptyState(USER), [a, b], BEHAVIORS, NOW, LIMITS);
    const first = reduce(emptyState(USER), [a], BEHAVIORS, NOW, LIMITS);
    const two = reduce(stored(first.state), [b], BEHAVIORS, NOW, LIMITS);
    expect(two).toEqual(one);
  });

  it('the same login again (same event id, new entry) is not a second hit', () => {
    const [a, b] = londonSydney();
    const r1 = reduce(emptyState(USER), [a, b], BEHAVIORS, NOW, LIMITS);
    const again = { ...b, ref: { stream: LOGIN, id: entryId() } };
    const r2 = reduce(stored(r1.state), [again], BEHAVIORS, NOW, LIMITS);
    expect(r2.hits).toEqual([]);
    expect(r2.changes).toEqual([]);
    expect(r2.state.behaviors.impossible_travel!.hits).toBe(1);
  });
});

describe('reduce: levels', () => {
  it('several behaviors: the level is the highest active one; each change gets the next version', () => {
    const r = reduce(emptyState(USER), [dlp('d-1', 10 * MIN), edr('e-1', 20 * MIN)], BEHAVIORS, NOW, LIMITS);
    expect(r.changes.map((c) => [c.version, c.previous, c.current])).toEqual([
      [1, 'low', 'medium'],
      [2, 'medium', 'high'],
    ]);
    expect(r.changes.map((c) => c.behaviors)).toEqual([['dlp_detection'], ['dlp_detection', 'endpoint_detection']]);
    expect(r.state).toMatchObject({ level: 'high', version: 2 });
    // In event-time order whatever the arrival order.
    const swapped = reduce(
      emptyState(USER),
      [edr('e-1', 20 * MIN), dlp('d-1', 10 * MIN)].map((x, i) => ({ ...x, ref: { ...x.ref, id: `${T0}-${900 + i}` } })),
      BEHAVIORS,
      NOW,
      LIMITS,
    );
    expect(swapped.changes.map((c) => c.current)).toEqual(['medium', 'high']);
  });

  it('one event hitting several behaviors is one change, to the highest level, whatever their order in the config (found by a black-box audit: LOW → MEDIUM then MEDIUM → HIGH, two SETs, for one event)', () => {
    const T = (id: string, level: string) =>
      behavior(id, {
        kind: 'threshold',
        enabled: true,
        risk_level: level,
        expires_after: '24h',
        match: { type: 'access', app: 'payroll' },
        count: 1,
        window: '5m',
      });
    const ref = { stream: ACTIVITY, id: entryId() };
    const access = (): ReduceInput => ({ event: { type: 'access', id: 'a-1', user: USER, time: T0, app: 'payroll' }, ref });
    for (const order of [
      [T('t_medium', 'medium'), T('t_high', 'high')],
      [T('t_high', 'high'), T('t_medium', 'medium')],
    ]) {
      const r = reduce(emptyState(USER), [access()], order, NOW, LIMITS);
      expect(r.hits.map((h) => h.behavior).sort()).toEqual(['t_high', 't_medium']);
      expect(r.changes.map((c) => [c.version, c.previous, c.current, c.behaviors, c.occurredAt])).toEqual([[1, 'low', 'high', ['t_high', 't_medium'], T0]]);
      expect(r.state).toMatchObject({ level: 'high', version: 1 });
    }
    // The change's id is the one a single hit of the raising behavior gives (the same after an upgrade or a replay).
    const single = reduce(emptyState(USER), [access()], [T('t_high', 'high')], NOW, LIMITS);
    const both = reduce(emptyState(USER), [access()], [T('t_medium', 'medium'), T('t_high', 'high')], NOW, LIMITS);
    expect(both.changes[0]!.id).toBe(single.changes[0]!.id);
    expect(both.changes[0]!.reason).toBe(single.changes[0]!.reason);
  });

  it('a hit below the current level changes nothing but the behavior', () => {
    const r1 = reduce(emptyState(USER), [edr('e-1', 0)], BEHAVIORS, NOW, LIMITS);
    const r2 = reduce(stored(r1.state), [dlp('d-1', MIN)], BEHAVIORS, NOW, LIMITS);
    expect(r2.hits).toHaveLength(1);
    expect(r2.changes).toEqual([]);
    expect(r2.state).toMatchObject({ level: 'high', version: 1 });
    expect(Object.keys(r2.state.behaviors).sort()).toEqual(['dlp_detection', 'endpoint_detection']);
  });

  it('a disabled behavior does not fire (nor keep a window)', () => {
    const off = behavior('impossible_travel', { enabled: false, risk_level: 'high', max_speed_kmh: 1000, min_distance_km: 500 });
    const r = reduce(emptyState(USER), londonSydney(), [off, DLP, EDR], NOW, LIMITS);
    expect(r.hits).toEqual([]);
    expect(r.changes).toEqual([]);
    expect(r.state.level).toBe('low');
    expect(r.state.windows).toEqual({});
    // Enabled: the same inputs fire.
    expect(reduce(emptyState(USER), londonSydney(), BEHAVIORS, NOW, LIMITS).hits).toHaveLength(1);
  });

  it('levels are not retroactive: a hit keeps the level configured when it happened', () => {
    const r1 = reduce(emptyState(USER), [dlp('d-1', 0)], BEHAVIORS, NOW, LIMITS);
    expect(r1.state.behaviors.dlp_detection!.level).toBe('medium');
    // dlp_detection is now configured HIGH: the active hit stays MEDIUM …
    const dlpHigh = behavior('dlp_detection', { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' });
    const r2 = reduce(stored(r1.state), [login('l-1', 'London', MIN, '81.2.69.142')], [TRAVEL, dlpHigh, EDR], NOW + MIN, LIMITS);
    expect(r2.changes).toEqual([]);
    expect(r2.state).toMatchObject({ level: 'medium', version: 1 });
    expect(r2.state.behaviors.dlp_detection!.level).toBe('medium');
    // … until a new hit, which takes the new level.
    const r3 = reduce(stored(r2.state), [dlp('d-2', 2 * MIN)], [TRAVEL, dlpHigh, EDR], NOW + 2 * MIN, LIMITS);
    expect(r3.changes.map((c) => [c.version, c.previous, c.current])).toEqual([[2, 'medium', 'high']]);
    expect(r3.state.behaviors.dlp_detection).toMatchObject({ level: 'high', hits: 2 });
  });
});

describe('impossible_travel in any arrival order', () => {
  it('a login arriving late between two others: the same expiry (and hits) as in event-time order', () => {
    const a = (): ReduceInput => login('o-a', 'London', 0, '81.2.69.142');
    const b = (): ReduceInput => login('o-b', 'Sydney', 2 * HOUR, '1.128.0.1');
    const c = (): ReduceInput => login('o-c', 'London', 4 * HOUR, '81.2.69.143');
    const apply = (inputs: ReduceInput[]) => {
      let st = emptyState(USER);
      const hits = [];
      for (const i of inputs) {
        const r = reduce(stored(st), [i], BEHAVIORS, T0 + 5 * HOUR, LIMITS);
        st = r.state;
        hits.push(...r.hits);
      }
      return { b: st.behaviors.impossible_travel!, hits: hits.map((h) => h.time).sort() };
    };
    const inOrder = apply([a(), b(), c()]);
    const late = apply([a(), c(), b()]);
    expect(inOrder.hits).toEqual([T0 + 2 * HOUR, T0 + 4 * HOUR]);
    expect(late.hits).toEqual(inOrder.hits);
    expect([late.b.expiresAt, late.b.lastAt, late.b.hits]).toEqual([inOrder.b.expiresAt, inOrder.b.lastAt, inOrder.b.hits]);
  });
});

describe('the evidence an active behavior shows', () => {
  it('is its latest hit in event time, whatever the arrival order: a late, older hit does not replace it', () => {
    const older = (): ReduceInput => ({ ...dlp('v-old', 10 * MIN), event: { ...dlp('v-old', 10 * MIN).event, profile: 'older' } });
    const newer = (): ReduceInput => ({ ...dlp('v-new', 20 * MIN), event: { ...dlp('v-new', 20 * MIN).event, profile: 'newer' } });
    const apply = (inputs: ReduceInput[]) => {
      let st = emptyState(USER);
      for (const i of inputs) st = reduce(stored(st), [i], BEHAVIORS, NOW, LIMITS).state;
      return st.behaviors.dlp_detection!;
    };
    const inOrder = apply([older(), newer()]);
    const late = apply([newer(), older()]);
    expect(inOrder).toMatchObject({ lastAt: T0 + 20 * MIN, evidence: { profile: 'newer' } });
    expect(late).toMatchObject({ lastAt: T0 + 20 * MIN, hits: 2 });
    expect([late.summary, late.evidence]).toEqual([inOrder.summary, inOrder.evidence]);
  });
});

describe('tokens quoted by a detector', () => {
  it('a JWT in an event field a detector quotes is scrubbed from the hit, the active behavior and the change reason', () => {
    const jwt = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9.REASONJWTSIGxyzabcdefghijklmnop';
    const e = edr('t-1', 0);
    e.event = { ...e.event, detection: `token ${jwt} leaked`, device: { id: jwt } };
    const r = reduce(emptyState(USER), [e], BEHAVIORS, T0 + MIN, LIMITS);
    expect(r.hits).toHaveLength(1);
    const everything = JSON.stringify([r.hits, r.changes, r.state]);
    expect(everything).not.toContain('REASONJWTSIG');
    expect(everything).toContain('[redacted jwt sha256:');
  });
});

describe('one behavior hit at two levels', () => {
  // dlp_detection HIGH with a 2 h expiry, then (after a reload) MEDIUM with 24 h.
  const dlpHigh = behavior('dlp_detection', { enabled: true, risk_level: 'high', expires_after: '2h', min_severity: 'high' });

  it('a lower hit never prolongs the higher level: HIGH until its own expiry, then MEDIUM until the lower hit’s, then LOW', () => {
    const r1 = reduce(emptyState(USER), [dlp('d-1', 0)], [TRAVEL, dlpHigh, EDR], T0 + MIN, LIMITS);
    const r2 = reduce(stored(r1.state), [dlp('d-2', HOUR)], BEHAVIORS, T0 + HOUR + MIN, LIMITS);
    expect(r2.changes).toEqual([]);
    expect(r2.state.behaviors.dlp_detection).toMatchObject({
      level: 'high',
      expiresAt: T0 + 2 * HOUR,
      hits: 2,
      lower: [{ level: 'medium', expiresAt: T0 + 25 * HOUR }],
    });
    expect(nextExpiry(r2.state)).toBe(T0 + 2 * HOUR);
    const r3 = expire(stored(r2.state), T0 + 2 * HOUR);
    expect(r3.changes.map((c) => [c.previous, c.current, c.occurredAt])).toEqual([['high', 'medium', T0 + 2 * HOUR]]);
    expect(r3.state.behaviors.dlp_detection).toMatchObject({ level: 'medium', expiresAt: T0 + 25 * HOUR, hits: 2 });
    expect(r3.state.behaviors.dlp_detection!.lower).toBeUndefined();
    const r4 = expire(stored(r3.state), T0 + 25 * HOUR);
    expect(r4.changes.map((c) => [c.previous, c.current, c.occurredAt])).toEqual([['medium', 'low', T0 + 25 * HOUR]]);
    expect(r4.state.behaviors).toEqual({});
  });

  it('both tiers passed at once (a sweep late): one change to LOW, in event time at the later expiry', () => {
    const r1 = reduce(emptyState(USER), [dlp('d-1', 0)], [TRAVEL, dlpHigh, EDR], T0 + MIN, LIMITS);
    const r2 = reduce(stored(r1.state), [dlp('d-2', HOUR)], BEHAVIORS, T0 + HOUR + MIN, LIMITS);
    const r3 = expire(stored(r2.state), T0 + 30 * HOUR);
    expect(r3.changes.map((c) => [c.previous, c.current, c.occurredAt])).toEqual([['high', 'low', T0 + 25 * HOUR]]);
    expect(r3.state.behaviors).toEqual({});
  });

  it('a lower hit expiring before the higher one changes nothing', () => {
    const r1 = reduce(emptyState(USER), [dlp('d-1', 0)], BEHAVIORS, NOW, LIMITS); // MEDIUM, 24 h
    const dlpHighLong = behavior('dlp_detection', { enabled: true, risk_level: 'high', expires_after: '48h', min_severity: 'high' });
    const r2 = reduce(stored(r1.state), [dlp('d-2', HOUR)], [TRAVEL, dlpHighLong, EDR], NOW + MIN, LIMITS); // HIGH, 49 h
    expect(r2.state.behaviors.dlp_detection).toMatchObject({ level: 'high', expiresAt: T0 + 49 * HOUR });
    expect(r2.state.behaviors.dlp_detection!.lower).toBeUndefined();
  });
});

describe('expire', () => {
  const high = (): UserState => reduce(emptyState(USER), londonSydney(), BEHAVIORS, NOW, LIMITS).state;

  it('nothing due: the very same state, no change', () => {
    const s = high();
    const r = expire(s, T0 + 26 * HOUR - 1);
    expect(r.state).toBe(s);
    expect(r.changes).toEqual([]);
  });

  it('a behavior expiring lowers the level: one change HIGH → LOW, next version, input untouched', () => {
    const s = high();
    const before = structuredClone(s);
    const at = nextExpiry(s)!;
    expect(at).toBe(T0 + 26 * HOUR);
    const r = expire(s, at);
    expect(s).toEqual(before); // pure
    expect(r.state).toMatchObject({ level: 'low', version: 2, behaviors: {}, changedAt: at, updatedAt: at });
    expect(r.changes).toEqual([
      {
        id: changeId(USER, 2, `expire:impossible_travel:${at}`),
        user: USER,
        version: 2,
        previous: 'high',
        current: 'low',
        behaviors: [],
        reason: 'expired: impossible_travel',
        initiatingEntity: 'system',
        time: at,
        occurredAt: at,
      },
    ]);
    expect(nextExpiry(r.state)).toBeNull();
    // Windows survive expiry: the logins are still remembered for the next trip.
    expect(r.state.windows.impossible_travel).toHaveLength(2);
  });

  it('only the expired behavior goes; the level falls to the highest one left', () => {
    // endpoint (HIGH) expires 6 h after it happened, DLP (MEDIUM) after 24 h.
    const s = reduce(emptyState(USER), [dlp('d-1', 0), edr('e-1', MIN)], BEHAVIORS, NOW, LIMITS).state;
    expect(s).toMatchObject({ level: 'high', version: 2 });
    expect(expire(s, T0 + 6 * HOUR + MIN - 1).changes).toEqual([]);
    const r = expire(s, T0 + 6 * HOUR + MIN);
    expect(r.changes.map((c) => [c.version, c.previous, c.current, c.behaviors])).toEqual([[3, 'high', 'medium', ['dlp_detection']]]);
    expect(Object.keys(r.state.behaviors)).toEqual(['dlp_detection']);
  });

  it('reduce expires what is due before applying new events', () => {
    const s = high();
    const later = NOW + 25 * HOUR;
    const r = reduce(stored(s), [dlp('d-1', 25 * HOUR)], BEHAVIORS, later, LIMITS);
    expect(r.changes.map((c) => [c.version, c.previous, c.current])).toEqual([
      [2, 'high', 'low'],
      [3, 'low', 'medium'],
    ]);
  });

  it('expires_after: never — the first hit never expires (it expired at once: epoch 0)', () => {
    const forever = behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: 'never', min_severity: 'high' });
    const r = reduce(emptyState(USER), [edr('e-1', 0)], [forever], NOW, LIMITS);
    expect(r.state.level).toBe('high');
    expect(r.state.behaviors.endpoint_detection?.expiresAt).toBeNull();
    expect(nextExpiry(r.state)).toBeNull();
    // Years later, a sweep or a new event changes nothing.
    expect(expire(stored(r.state), NOW + 3650 * 24 * HOUR).changes).toEqual([]);
    const again = reduce(stored(r.state), [edr('e-2', HOUR)], [forever], NOW + HOUR, LIMITS);
    expect(again.state.behaviors.endpoint_detection).toMatchObject({ expiresAt: null, hits: 2 });
    expect(again.changes).toEqual([]);
  });

  it('a finite expiry after a `never` hit keeps never; a later `never` hit makes a finite one never', () => {
    const forever = behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: 'never', min_severity: 'high' });
    const first = reduce(emptyState(USER), [edr('e-1', 0)], [forever], NOW, LIMITS);
    expect(reduce(stored(first.state), [edr('e-2', HOUR)], [EDR], NOW + HOUR, LIMITS).state.behaviors.endpoint_detection?.expiresAt).toBeNull();
    const finite = reduce(emptyState(USER), [edr('e-1', 0)], [EDR], NOW, LIMITS);
    expect(finite.state.behaviors.endpoint_detection?.expiresAt).toBe(T0 + 6 * HOUR);
    expect(reduce(stored(finite.state), [edr('e-2', HOUR)], [forever], NOW + HOUR, LIMITS).state.behaviors.endpoint_detection?.expiresAt).toBeNull();
  });
});

describe('counted behaviors and backfills', () => {
  it('a backfilled crossing whose hit arrived expired does not silence live activity in the same window', () => {
    const DLP3 = behavior('dlp_detection', { enabled: true, risk_level: 'medium', expires_after: '5m', min_severity: 'high', count: 3, window: '30m' });
    const at = (min: number, i: number): ReduceInput => dlp(`b-${min}-${i}`, NOW - T0 - min * MIN + i * 1000);
    const backfill = reduce(emptyState(USER), [at(20, 0), at(20, 1), at(20, 2)], [DLP3], NOW, LIMITS);
    expect(backfill.hits.map((h) => h.expiredOnArrival)).toEqual([true]);
    expect(backfill.state.level).toBe('low');
    const live = reduce(stored(backfill.state), [at(1, 0), at(1, 1), at(1, 2)], [DLP3], NOW, LIMITS);
    expect(live.hits).toHaveLength(1);
    expect(live.state.level).toBe('medium');
  });
});

describe('reset', () => {
  it('an admin reset clears behaviors and windows: one change to LOW, initiating entity admin', () => {
    const s = reduce(emptyState(USER), londonSydney(), BEHAVIORS, NOW, LIMITS).state;
    const r = reset(s, NOW + HOUR, 'travelling with a VPN');
    expect(r.state).toMatchObject({ level: 'low', version: 2, behaviors: {}, windows: {}, changedAt: NOW + HOUR });
    expect(r.changes).toEqual([
      {
        id: changeId(USER, 2, `reset:${NOW + HOUR}`),
        user: USER,
        version: 2,
        previous: 'high',
        current: 'low',
        behaviors: [],
        reason: 'travelling with a VPN',
        initiatingEntity: 'admin',
        time: NOW + HOUR,
        occurredAt: NOW + HOUR,
      },
    ]);
    expect(s.level).toBe('high'); // pure
    expect(reset(s, NOW + HOUR, '').changes[0]!.reason).toBe('risk reset by an administrator');
  });

  it('the events an admin vouched for, delivered again after the reset, never count again; new events do', () => {
    const first = reduce(emptyState(USER), [...londonSydney(), dlp('d-1', 3 * HOUR)], BEHAVIORS, NOW, LIMITS).state;
    expect(first.level).toBe('high');
    const cleared = stored(reset(first, NOW + MIN, 'vouched').state);
    // A shipper's retry: the same events (same ids), in new stream entries.
    const again = reduce(cleared, [...londonSydney(), dlp('d-1', 3 * HOUR)], BEHAVIORS, NOW + 2 * MIN, LIMITS);
    expect(again.hits).toEqual([]);
    expect(again.changes).toEqual([]);
    expect(again.state.behaviors).toEqual({});
    // A vouched login is not even remembered: a new login from New York compares with nothing before it.
    expect(reduce(stored(again.state), [login('l-3', 'NewYork', 3 * HOUR, '8.8.8.8')], BEHAVIORS, NOW + 3 * MIN, LIMITS).hits).toEqual([]);
    // A new event (another id) counts as ever.
    const fresh = reduce(stored(again.state), [dlp('d-2', 4 * HOUR)], BEHAVIORS, NOW + 4 * MIN, LIMITS);
    expect(fresh.hits.map((h) => h.behavior)).toEqual(['dlp_detection']);
    expect(fresh.state.level).toBe('medium');
    // A second reset keeps the first one's ids too.
    const twice = stored(reset(fresh.state, NOW + 5 * MIN, 'again').state);
    expect(reduce(twice, [dlp('d-1', 3 * HOUR), dlp('d-2', 4 * HOUR)], BEHAVIORS, NOW + 6 * MIN, LIMITS).hits).toEqual([]);
  });

  it('a reset after a behavior expired gives what the expiry sweep then the reset give, whether the sweep came first or not', () => {
    // EDR (high, 6 h) at 08:00 and DLP (medium, 24 h) at 09:00: at 15:00 the EDR has expired, not yet swept.
    const s = stored(reduce(emptyState(USER), [edr('e-1', 0), dlp('d-1', HOUR)], BEHAVIORS, T0 + HOUR, LIMITS).state);
    expect(s.level).toBe('high');
    const at = T0 + 7 * HOUR;
    const swept = expire(s, at);
    const afterSweep = reset(stored(swept.state), at, 'x');
    const direct = reset(s, at, 'x');
    expect(swept.changes.map((c) => `${c.previous}→${c.current}`)).toEqual(['high→medium']);
    expect(direct.changes).toEqual([...swept.changes, ...afterSweep.changes]);
    expect(direct.changes.map((c) => `v${c.version} ${c.previous}→${c.current} ${c.initiatingEntity}`)).toEqual([
      'v2 high→medium system',
      'v3 medium→low admin',
    ]);
    expect(direct.state).toEqual(afterSweep.state);
  });

  it('resetting a LOW user changes no level and emits nothing', () => {
    const r = reset(reduce(emptyState(USER), [login('l-1', 'London', 0, '81.2.69.142')], BEHAVIORS, NOW, LIMITS).state, NOW, 'x');
    expect(r.changes).toEqual([]);
    expect(r.state).toMatchObject({ level: 'low', version: 0, windows: {} });
  });
});

describe('determinism and bounds', () => {
  const inputs = (): ReduceInput[] => {
    const out: ReduceInput[] = [];
    for (let i = 0; i < 30; i++) {
      out.push(login(`l-${i}`, i % 7 === 3 ? 'Sydney' : 'London', i * 20 * MIN, `81.2.69.${i}`));
      if (i % 5 === 0) out.push(dlp(`d-${i}`, i * 20 * MIN + MIN, i % 10 === 0 ? 'critical' : 'low'));
      if (i === 17) out.push(edr(`e-${i}`, i * 20 * MIN + 2 * MIN));
    }
    return out;
  };

  it('the same inputs twice → identical results (state, hits, changes and their ids); the input is not modified', () => {
    const xs = inputs();
    const state = stored(reduce(emptyState(USER), [login('l-x', 'London', -HOUR, '81.2.69.200')], BEHAVIORS, NOW, LIMITS).state);
    const copy = structuredClone(state);
    const a = reduce(state, xs, BEHAVIORS, NOW, LIMITS);
    const b = reduce(state, structuredClone(xs), BEHAVIORS, NOW, LIMITS);
    expect(b).toEqual(a);
    expect(state).toEqual(copy);
    expect(a.changes.length).toBeGreaterThan(0);
    // Arrival order within a batch does not matter either.
    expect(reduce(state, [...xs].reverse(), BEHAVIORS, NOW, LIMITS)).toEqual(a);
  });

  it('state is bounded: windows of behaviors no longer configured are dropped; remembered logins are capped', () => {
    const s: UserState = { ...emptyState(USER), windows: { removed_behavior: { e: [[T0, 'x']], f: [] }, impossible_travel: [] } };
    const r = reduce(s, inputs(), BEHAVIORS, NOW, LIMITS);
    expect(Object.keys(r.state.windows)).toEqual(['impossible_travel']);
    expect((r.state.windows.impossible_travel as unknown[]).length).toBe(LIMITS.maxLogins);
    // A behavior removed from the config loses its window too.
    expect(Object.keys(reduce(r.state, [dlp('d-z', 11 * HOUR)], [DLP, EDR], NOW, LIMITS).state.windows)).toEqual([]);
    // 1 000 logins later the state is no bigger.
    let big = r.state;
    for (let k = 0; k < 100; k++) {
      const batch = Array.from({ length: 10 }, (_, j) => login(`m-${k}-${j}`, 'London', 12 * HOUR + (k * 10 + j) * MIN, `81.2.70.${j}`));
      big = reduce(stored(big), batch, BEHAVIORS, NOW, LIMITS).state;
    }
    expect((big.windows.impossible_travel as unknown[]).length).toBe(LIMITS.maxLogins);
    expect(JSON.stringify(big).length).toBeLessThan(JSON.stringify(r.state).length * 2);
  });
});

describe('expiry in event time', () => {
  const DAY = 24 * HOUR;

  it('a backfill (a trip three days old, expires_after 24h): the hit is recorded as expired on arrival; no level, no change', () => {
    const now = T0 + 3 * DAY;
    const r = reduce(emptyState(USER), londonSydney(), BEHAVIORS, now, LIMITS);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]).toMatchObject({
      behavior: 'impossible_travel',
      time: T0 + 2 * HOUR,
      processedAt: now,
      expiresAt: T0 + 26 * HOUR,
      expiredOnArrival: true,
    });
    expect(r.changes).toEqual([]);
    expect(r.state).toMatchObject({ level: 'low', version: 0, behaviors: {}, changedAt: 0 });
    expect(nextExpiry(r.state)).toBeNull();
    // The logins are still remembered (event-time verdicts stay correct for what comes next).
    expect(r.state.windows.impossible_travel).toHaveLength(2);
  });

  it('expiring exactly when it arrives counts as expired on arrival', () => {
    const now = T0 + 26 * HOUR;
    const r = reduce(emptyState(USER), londonSydney(), BEHAVIORS, now, LIMITS);
    expect(r.hits[0]).toMatchObject({ expiresAt: now, expiredOnArrival: true });
    expect(r.changes).toEqual([]);
    const justBefore = reduce(emptyState(USER), londonSydney(), BEHAVIORS, now - 1, LIMITS);
    expect(justBefore.hits[0]!.expiredOnArrival).toBeUndefined();
    expect(justBefore.state.level).toBe('high');
  });

  it('a late event inside the window (a trip 20 h old): HIGH until event time + 24 h, not 24 h after processing', () => {
    const now = T0 + 22 * HOUR; // the trip happened at T0 + 2 h
    const r = reduce(emptyState(USER), londonSydney(), BEHAVIORS, now, LIMITS);
    expect(r.state.level).toBe('high');
    expect(r.hits[0]).toMatchObject({ time: T0 + 2 * HOUR, processedAt: now, expiresAt: T0 + 26 * HOUR });
    expect(r.hits[0]!.expiredOnArrival).toBeUndefined();
    expect(r.changes[0]).toMatchObject({ current: 'high', time: now, occurredAt: T0 + 2 * HOUR });
    expect(nextExpiry(r.state)).toBe(T0 + 26 * HOUR);
    expect(expire(r.state, T0 + 26 * HOUR - 1).changes).toEqual([]);
    expect(expire(r.state, T0 + 26 * HOUR).changes.map((c) => [c.previous, c.current, c.occurredAt])).toEqual([['high', 'low', T0 + 26 * HOUR]]);
  });

  it('an event time in the future (clock skew) counts from now', () => {
    const r = reduce(emptyState(USER), [edr('e-1', 4 * HOUR + 5 * MIN)], BEHAVIORS, NOW, LIMITS);
    expect(r.hits[0]).toMatchObject({ time: NOW + 5 * MIN, processedAt: NOW, expiresAt: NOW + 6 * HOUR });
    expect(r.state.behaviors.endpoint_detection!.expiresAt).toBe(NOW + 6 * HOUR);
  });

  it('an expired-on-arrival hit leaves an active behavior of the same id as it was', () => {
    const live = reduce(emptyState(USER), [edr('e-2', 3 * HOUR)], BEHAVIORS, NOW, LIMITS).state;
    const r = reduce(stored(live), [edr('e-old', -3 * HOUR)], BEHAVIORS, NOW + MIN, LIMITS);
    expect(r.hits).toEqual([expect.objectContaining({ expiredOnArrival: true, expiresAt: T0 + 3 * HOUR })]);
    expect(r.changes).toEqual([]);
    expect(r.state.behaviors).toEqual(stored(live).behaviors);
  });

  it('a backfilled event delivered again (same event id, new entry) is not a second hit, as a live one is not (found by a black-box review: a shipper resending its backfill recorded every expired hit twice)', () => {
    const first = reduce(emptyState(USER), [edr('e-old', -3 * HOUR)], BEHAVIORS, NOW, LIMITS);
    expect(first.hits).toEqual([expect.objectContaining({ expiredOnArrival: true })]);
    const again = reduce(stored(first.state), [edr('e-old', -3 * HOUR)], BEHAVIORS, NOW + MIN, LIMITS);
    expect(again.hits).toEqual([]);
    expect(again.changes).toEqual([]);
    // Beside an active behavior of the same id too; another old event still makes its own hit.
    const live = reduce(stored(again.state), [edr('e-2', 3 * HOUR)], BEHAVIORS, NOW + MIN, LIMITS).state;
    expect(reduce(stored(live), [edr('e-old', -3 * HOUR)], BEHAVIORS, NOW + 2 * MIN, LIMITS).hits).toEqual([]);
    expect(reduce(stored(live), [edr('e-old-2', -3 * HOUR)], BEHAVIORS, NOW + 2 * MIN, LIMITS).hits).toHaveLength(1);
    // Also after an admin reset (what it vouched for is never counted again either).
    expect(reduce(stored(reset(live, NOW + 2 * MIN, '').state), [edr('e-old', -3 * HOUR)], BEHAVIORS, NOW + 3 * MIN, LIMITS).hits).toEqual([]);
    // A backfilled trip: neither of its logins, delivered again, makes a second hit.
    const trip = reduce(emptyState(USER), londonSydney(), BEHAVIORS, T0 + 3 * 24 * HOUR, LIMITS);
    expect(trip.hits).toHaveLength(1);
    for (const l of londonSydney()) expect(reduce(stored(trip.state), [l], BEHAVIORS, T0 + 3 * 24 * HOUR, LIMITS).hits).toEqual([]);
    // An event without an id is told apart by nothing: each delivery is its own hit, as for live ones.
    const anon = (): ReduceInput => ({ ...edr('x', -3 * HOUR), event: { ...edr('x', -3 * HOUR).event, id: undefined } });
    const noId = reduce(emptyState(USER), [anon()], BEHAVIORS, NOW, LIMITS);
    expect(reduce(stored(noId.state), [anon()], BEHAVIORS, NOW, LIMITS).hits).toHaveLength(1);
  });

  it('an event whose hit counted and has since expired, delivered again, makes no second hit (found by a black-box review: it was recorded again, expired on arrival)', () => {
    // EDR expires after 6 h: a hit at T0 + 3 h counts until T0 + 9 h.
    const live = reduce(emptyState(USER), [edr('e-1', 3 * HOUR), dlp('d-1', 3 * HOUR)], BEHAVIORS, T0 + 4 * HOUR, LIMITS);
    expect(live.hits.map((h) => h.expiredOnArrival)).toEqual([undefined, undefined]);
    // Expired by the sweep, or by the user's next event: either way its event is still known.
    const swept = expire(stored(live.state), T0 + 10 * HOUR).state;
    expect(Object.keys(swept.behaviors)).toEqual(['dlp_detection']);
    const byEvent = reduce(stored(live.state), [dlp('d-2', 9 * HOUR + MIN)], BEHAVIORS, T0 + 10 * HOUR, LIMITS).state;
    for (const s of [swept, byEvent]) {
      expect(reduce(stored(s), [edr('e-1', 3 * HOUR)], BEHAVIORS, T0 + 11 * HOUR, LIMITS).hits).toEqual([]);
      // Another old event still makes its own (expired) hit.
      expect(reduce(stored(s), [edr('e-9', 3 * HOUR)], BEHAVIORS, T0 + 11 * HOUR, LIMITS).hits).toEqual([
        expect.objectContaining({ behavior: 'endpoint_detection', expiredOnArrival: true }),
      ]);
    }
    // Also once expired before an admin's reset.
    const afterReset = reset(stored(live.state), T0 + 10 * HOUR, '').state;
    expect(reduce(stored(afterReset), [edr('e-1', 3 * HOUR)], BEHAVIORS, T0 + 11 * HOUR, LIMITS).hits).toEqual([]);
  });

  it('a replay of the same input at another time gives the same expiry times', () => {
    const xs = (): ReduceInput[] => [...londonSydney(), dlp('d-1', 30 * MIN), edr('e-1', 3 * HOUR)];
    const a = reduce(emptyState(USER), xs(), BEHAVIORS, NOW, LIMITS);
    const b = reduce(emptyState(USER), xs(), BEHAVIORS, NOW + 90 * MIN, LIMITS);
    const expiries = (r: typeof a): Array<[string, number | null | undefined]> => r.hits.map((h) => [h.behavior, h.expiresAt]);
    expect(expiries(b)).toEqual(expiries(a));
    expect(expiries(a)).toEqual([
      ['dlp_detection', T0 + 30 * MIN + DAY],
      ['impossible_travel', T0 + 2 * HOUR + DAY],
      ['endpoint_detection', T0 + 9 * HOUR],
    ]);
    expect(nextExpiry(b.state)).toBe(nextExpiry(a.state));
    expect(b.state.behaviors).toEqual(a.state.behaviors);
  });
});

describe("reduce: the worker's own secrets in what a hit quotes (found by a black-box review: an admin token in a detection text reached the API and a SET's reason)", () => {
  it('are taken out of summary, evidence and the change reason; tokens of no known shape too', () => {
    const token = 'rvrisk-admin-token-0123456789';
    const input = edr('e-1', 0);
    const event = input.event as CanonicalEvent & { detection: string; device: { id: string; name?: string } };
    event.detection = `cmdline curl -H 'Authorization: Bearer ${token}'`;
    event.device = { id: 'd-9', name: `laptop of ${token.toUpperCase()}` };
    const r = reduce(emptyState(USER), [input], BEHAVIORS, NOW, LIMITS, [token]);
    expect(r.hits).toHaveLength(1);
    const out = JSON.stringify({ hits: r.hits, changes: r.changes, state: r.state });
    expect(out.toLowerCase()).not.toContain(token);
    expect(r.hits[0]!.summary).toContain("'Authorization: Bearer [redacted token]'");
    // Without the list, the token where nothing names it passes (it has no token shape): the list is
    // what finds it. After `Bearer ` its context names it a credential, list or not.
    const unlisted = reduce(emptyState(USER), [input], BEHAVIORS, NOW, LIMITS).hits[0]!.summary;
    expect(unlisted).toContain(token.toUpperCase());
    expect(unlisted).toContain("'Authorization: Bearer [redacted]'");
  });
});

describe('the behaviors plan (enabled detectors and their ids, per behaviors array)', () => {
  it('an enabled unknown kind throws CONFIG_INVALID on an event, a disabled one never; a disabled behavior drops its window', () => {
    const unknown = { ...DLP, id: 'odd', kind: 'no_such_kind' } as unknown as typeof DLP;
    const s: UserState = { ...emptyState(USER), windows: { odd: { kept: 1 } } };
    expect(() => reduce(s, [dlp('d-1', HOUR)], [DLP, unknown], NOW, LIMITS)).toThrow(expect.objectContaining({ code: 'CONFIG_INVALID' }));
    expect(reduce(s, [], [DLP, unknown], NOW, LIMITS).state.windows).toEqual({ odd: { kept: 1 } });
    const off = { ...unknown, enabled: false };
    expect(reduce(s, [dlp('d-1', HOUR)], [DLP, off], NOW, LIMITS).state.windows.odd).toBeUndefined();
    // The same array again (its plan cached), then another array: each as configured.
    const list = [DLP, unknown];
    expect(reduce(s, [], list, NOW, LIMITS).state.windows.odd).toEqual({ kept: 1 });
    expect(reduce(s, [], list, NOW, LIMITS).state.windows.odd).toEqual({ kept: 1 });
    expect(reduce(s, [dlp('d-3', HOUR)], [DLP], NOW, LIMITS).state.windows.odd).toBeUndefined();
  });
});
