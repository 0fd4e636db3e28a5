/**
 * applyItems (pure, frozen `now`): one reducer call per item makes the result independent of how
 * items were batched — the basis of crash determinism (a replay from the committed position gives
 * the same states, risk events and order) — plus resets routed as control items and items the
 * reducer throws on.
 */
import { describe, expect, it } from 'vitest';
import type { BehaviorConfig } from '../../src/config/behaviors-schema.js';
import { behavior } from '../helpers/behavior-config.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { applyItems, arrivalOf, type ApplyContext, type Applied } from '../../src/engine/apply.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import { orderKey } from '../../src/partition.js';
import { decodeState, encodeState } from '../../src/risk/state-codec.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import type { CanonicalEvent } from '../../src/types.js';

const USER = 'alice@example.com';
const LOGIN = 'rs:login';
const ACTIVITY = 'rs:activity';
const CONTROL = 'rs:control';
const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const T0 = NOW - 6 * HOUR;
const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * 24 * HOUR, allowedLateness: 10 * MIN };

const TRAVEL = behavior('impossible_travel', { enabled: true, risk_level: 'high', expires_after: '24h', max_speed_kmh: 1000, min_distance_km: 500 });
const DLP = behavior('dlp_detection', { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' });
const EDR = behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '6h', min_severity: 'high' });
const CTX: ApplyContext = { behaviors: [TRAVEL, DLP, EDR], limits: LIMITS, now: NOW };

const PLACES = {
  London: { lat: 51.5074, lon: -0.1278, accuracy_km: 20, country: 'GB', city: 'London' },
  Sydney: { lat: -33.8688, lon: 151.2093, accuracy_km: 20, country: 'AU', city: 'Sydney' },
};

/** Items get growing source entry ids (ms = T0 + n), like a router's output. */
let n = 0;
function item(stream: string, source: number, e: CanonicalEvent): RoutedItem {
  const id = `${T0 + ++n}-0`;
  const k = orderKey(id, source);
  return { k: [k.ms, k.seq], s: stream, i: id, e };
}
const login = (id: string, place: keyof typeof PLACES, at: number, outcome = 'success'): RoutedItem =>
  item(LOGIN, 0, { type: 'login', id, user: USER, time: T0 + at, outcome, ip: place === 'London' ? '81.2.69.142' : '1.128.0.1', geo: PLACES[place] });
const dlp = (id: string, at: number, severity = 'high'): RoutedItem =>
  item(ACTIVITY, 1, { type: 'dlp', id, user: USER, time: T0 + at, profile: 'credit-cards', severity, action: 'block', app: 'drive' });
const edr = (id: string, at: number): RoutedItem =>
  item(ACTIVITY, 1, {
    type: 'endpoint',
    id,
    user: USER,
    time: T0 + at,
    device: { id: 'd-9' },
    vendor: 'crowdstrike',
    detection: 'malware',
    severity: 'critical',
  });
function resetItem(req: string, reason = 'false positive'): RoutedItem {
  const id = `${T0 + ++n}-0`;
  const k = orderKey(id, 2);
  return { k: [k.ms, k.seq], s: CONTROL, i: id, c: { op: 'reset', req, user: USER, actor: 'admin:ops', reason } };
}

/** Applies `items` in the given consecutive batches; each batch's state goes through the store codec. */
function inBatches(state: UserState, items: RoutedItem[], cuts: number[], ctx: ApplyContext = CTX): Omit<Applied, 'state'> & { state: UserState } {
  const out: Applied = { state, events: [], applied: [], results: [], audits: [], failed: [] };
  let from = 0;
  for (const to of [...cuts, items.length]) {
    const a = applyItems(USER, out.state, items.slice(from, to), ctx);
    out.state = decodeState(encodeState(a.state), USER)!; // committed and loaded again between batches
    out.events.push(...a.events);
    out.applied.push(...a.applied);
    out.results.push(...a.results);
    out.audits.push(...a.audits);
    out.failed.push(...a.failed);
    from = to;
  }
  return out;
}

/** A mixed history: travel (high), DLP (medium), a reset, EDR (high), a DLP below threshold, a failed login. */
function history(): RoutedItem[] {
  return [
    login('l-1', 'London', 0),
    dlp('d-1', 10 * MIN),
    login('l-2', 'Sydney', 2 * HOUR),
    resetItem('req-1'),
    dlp('d-2', 3 * HOUR, 'low'),
    edr('x-1', 4 * HOUR),
    login('l-3', 'London', 4 * HOUR + 30 * MIN, 'failure'),
    dlp('d-3', 5 * HOUR),
  ];
}

describe('applyItems: batching does not change the result', () => {
  const items = history();
  const whole = inBatches(emptyState(USER), items, []);

  it('the history makes hits, changes, a reset and an audit (so the comparisons below say something)', () => {
    expect(whole.events.filter((e) => e.kind === 'hit').map((e) => (e.data as { behavior: string }).behavior)).toEqual([
      'dlp_detection',
      'impossible_travel',
      'endpoint_detection',
      'dlp_detection',
    ]);
    expect(whole.events.filter((e) => e.kind === 'change').map((e) => (e.data as { current: string }).current)).toEqual(['medium', 'high', 'low', 'high']);
    expect(whole.results).toHaveLength(1);
    expect(whole.audits).toHaveLength(1);
    expect(whole.applied.map((a) => a.ref.id)).toEqual(items.filter((i) => 'e' in i).map((i) => i.i));
    expect(whole.state.level).toBe('high');
    expect(whole.failed).toEqual([]);
  });

  const splits: Array<[string, number[]]> = [
    ['one item per call', items.map((_, i) => i + 1).slice(0, -1)],
    ['halves', [4]],
    ['thirds', [3, 6]],
    ['a lone first item', [1]],
    ['a lone last item', [items.length - 1]],
    ['around the reset', [3, 4]],
  ];
  it.each(splits)('%s: same state, events (in order), applied, outcomes and audits', (_name, cuts) => {
    const split = inBatches(emptyState(USER), items, cuts);
    expect(split.state).toEqual(whole.state);
    expect(split.events).toEqual(whole.events);
    expect(split.applied).toEqual(whole.applied);
    expect(split.results).toEqual(whole.results);
    expect(split.audits).toEqual(whole.audits);
  });

  it('applying is pure: the input state is not modified, and a second run gives the same result', () => {
    const start = applyItems(USER, emptyState(USER), items.slice(0, 2), CTX).state;
    const frozen = structuredClone(start);
    const a = applyItems(USER, start, items.slice(2), CTX);
    const b = applyItems(USER, start, items.slice(2), CTX);
    expect(start).toEqual(frozen);
    expect(a).toEqual(b);
  });
});

describe('applyItems: reset control items', () => {
  it('a known user: level to low, a change, an audit entry and a found outcome', () => {
    const before = applyItems(USER, emptyState(USER), [login('l-1', 'London', 0), login('l-2', 'Sydney', 2 * HOUR)], CTX).state;
    expect(before).toMatchObject({ level: 'high', version: 1 });
    const req = resetItem('req-7', 'checked with the user');
    const at = req.k[0]; // applied at its arrival: the control entry's time
    const a = applyItems(USER, before, [req], CTX);
    expect(a.state).toMatchObject({ level: 'low', version: 2, behaviors: {}, windows: {}, updatedAt: at, changedAt: at });
    expect(a.events).toHaveLength(1);
    const change = a.events[0]!;
    expect(change).toMatchObject({
      user: USER,
      kind: 'change',
      data: { previous: 'high', current: 'low', version: 2, initiatingEntity: 'admin', reason: 'checked with the user', time: at },
    });
    expect(a.results).toEqual([{ req: 'req-7', user: USER, outcome: { found: true, previous: 'high', level: 'low', version: 2, change: change.data } }]);
    expect(a.audits).toEqual([
      {
        action: 'risk.reset',
        actor: 'admin:ops',
        target: USER,
        time: at,
        details: { previous: 'high', level: 'low', version: 2, reason: 'checked with the user' },
      },
    ]);
    expect(a.applied).toEqual([]);
    expect(a.failed).toEqual([]);
  });

  it('a reset arriving after a behavior expired, before any sweep: the expiry change first, then the reset from the level left (as when the sweep came first)', () => {
    // EDR (high, 6 h) an hour before T0, DLP (medium, 24 h) at T0; the reset arrives at T0 + 5.5 h, after the EDR expired.
    const before = applyItems(USER, emptyState(USER), [edr('e-1', -HOUR), dlp('d-1', 0)], CTX).state;
    expect(before).toMatchObject({ level: 'high', version: 1 });
    const id = `${T0 + 5.5 * HOUR}-0`;
    const k = orderKey(id, 2);
    const req: RoutedItem = { k: [k.ms, k.seq], s: CONTROL, i: id, c: { op: 'reset', req: 'req-x', user: USER, actor: 'admin:ops', reason: 'r' } };
    const a = applyItems(USER, before, [req], CTX);
    expect(a.events.map((e) => e.data as { version: number; previous: string; current: string; initiatingEntity: string })).toMatchObject([
      { version: 2, previous: 'high', current: 'medium', initiatingEntity: 'system' },
      { version: 3, previous: 'medium', current: 'low', initiatingEntity: 'admin' },
    ]);
    expect(a.results).toEqual([
      { req: 'req-x', user: USER, outcome: { found: true, previous: 'medium', level: 'low', version: 3, change: a.events[1]!.data } },
    ]);
    expect(a.audits[0]!.details).toMatchObject({ previous: 'medium', level: 'low', version: 3 });
  });

  it('a known user already low: found, no change (change null), still audited', () => {
    const before = applyItems(USER, emptyState(USER), [login('l-1', 'London', 0)], CTX).state;
    expect(before).toMatchObject({ level: 'low', version: 0 });
    expect(before.updatedAt).toBeGreaterThan(0);
    const a = applyItems(USER, before, [resetItem('req-8')], CTX);
    expect(a.events).toEqual([]);
    expect(a.results).toEqual([{ req: 'req-8', user: USER, outcome: { found: true, previous: 'low', level: 'low', version: 0, change: null } }]);
    expect(a.audits).toHaveLength(1);
    expect(a.state.windows).toEqual({}); // the travel window is cleared too
  });

  it('an unknown user: found false, the state untouched (nothing to store), no events, no audit', () => {
    const empty = emptyState(USER);
    const a = applyItems(USER, empty, [resetItem('req-9')], CTX);
    expect(a.results).toEqual([{ req: 'req-9', user: USER, outcome: { found: false } }]);
    expect(a.state).toBe(empty);
    expect(a.events).toEqual([]);
    expect(a.audits).toEqual([]);
  });
});

describe('applyItems: items the reducer throws on', () => {
  it('a behavior whose config makes its detector throw: those items fail with a code, the others are applied', () => {
    // impossible_travel reads its params on every successful login: without them it throws.
    const broken: ApplyContext = { ...CTX, behaviors: [{ ...TRAVEL, params: null as unknown as BehaviorConfig['params'] }, DLP, EDR] };
    const items = [login('l-1', 'London', 0), dlp('d-1', 10 * MIN), login('l-2', 'Sydney', 2 * HOUR), edr('x-1', 3 * HOUR)];
    const a = applyItems(USER, emptyState(USER), items, broken);
    expect(a.failed).toEqual([
      { item: items[0], code: 'INTERNAL' },
      { item: items[2], code: 'INTERNAL' },
    ]);
    expect(a.applied.map((x) => x.ref.id)).toEqual([items[1]!.i, items[3]!.i]);
    expect(a.events.filter((e) => e.kind === 'hit').map((e) => (e.data as { behavior: string }).behavior)).toEqual(['dlp_detection', 'endpoint_detection']);
    expect(a.state.level).toBe('high');
    // Deterministic: the same items fail the same way when batched differently.
    const split = inBatches(emptyState(USER), items, [1, 2, 3], broken);
    expect(split.failed.map((f) => [f.item.i, f.code])).toEqual(a.failed.map((f) => [f.item.i, f.code]));
    expect(split.state).toEqual(a.state);
  });

  it('a malformed event (null): failed with a code, the next item applied', () => {
    const bad = { ...dlp('d-0', 0), e: null as unknown as CanonicalEvent };
    const good = dlp('d-1', MIN);
    const a = applyItems(USER, emptyState(USER), [bad, good], CTX);
    expect(a.failed).toEqual([{ item: bad, code: 'INTERNAL' }]);
    expect(a.applied.map((x) => x.ref.id)).toEqual([good.i]);
    expect(a.state.level).toBe('medium');
  });

  it('an item failing mid-batch leaves the state it had before that item', () => {
    const broken: ApplyContext = { ...CTX, behaviors: [{ ...TRAVEL, params: null as unknown as BehaviorConfig['params'] }, DLP] };
    const first = dlp('d-1', 0);
    const a = applyItems(USER, emptyState(USER), [first, login('l-1', 'London', MIN)], broken);
    const b = applyItems(USER, emptyState(USER), [first], broken);
    expect(a.state).toEqual(b.state);
  });
});

describe('applyItems: an item is applied at its arrival (its source entry id), however late', () => {
  // EDR expires 6 h after its event time; the detection arrives 1 h before that.
  const detection = (): RoutedItem => {
    const it = edr(`edr-${++n}`, 0);
    const at = T0 + 5 * HOUR;
    const k = orderKey(`${at}-0`, 1);
    return { ...it, k: [k.ms, k.seq], i: `${at}-0` };
  };

  it('a hit with life left at its arrival raises the level, also when applied after it expired (a restart, a moved partition)', () => {
    const it = detection();
    const onTime = applyItems(USER, emptyState(USER), [it], { ...CTX, now: T0 + 5 * HOUR + 1000 });
    const late = applyItems(USER, emptyState(USER), [it], { ...CTX, now: T0 + 8 * HOUR });
    expect(onTime.state).toMatchObject({ level: 'high', version: 1 });
    expect(late).toEqual(onTime);
  });

  it("an id that is no recent time (ahead of now, or a producer's own small ids) is applied at now", () => {
    expect(arrivalOf([NOW - HOUR, 0], NOW)).toBe(NOW - HOUR);
    expect(arrivalOf([NOW + 5, 0], NOW)).toBe(NOW);
    expect(arrivalOf([1000, 3], NOW)).toBe(NOW);
    expect(arrivalOf([0, 0], NOW)).toBe(NOW);
  });
});
