/**
 * The owner's side of `revoke_sessions` (pure, frozen clock): the revocation mark a trigger leaves
 * in the user's risk state (its arrival), and the session logins applied after it that are at or
 * before it in event time (late logins: shipper lag), each to revoke on its own.
 */
import { describe, expect, it } from 'vitest';
import { FLOAT32_OPTIONS, Packr } from 'msgpackr';
import type { ResponseRule } from '../../src/config/responses.js';
import { applyItems, type ApplyContext } from '../../src/engine/apply.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import { orderKey } from '../../src/partition.js';
import { decodeState, encodeState } from '../../src/risk/state-codec.js';
import { emptyState } from '../../src/risk/state.js';
import { lateLogin, markAfter, revokeRulesOf } from '../../src/sessions/policy-mark.js';
import type { BehaviorHit, CanonicalEvent, LevelChange } from '../../src/types.js';
import { behavior } from '../helpers/behavior-config.js';

const USER = 'alice@example.com';
const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const T0 = NOW - 6 * HOUR;

const LEVEL_HIGH: ResponseRule = { when: { level: 'high' }, revoke_sessions: true };
const LEVEL_MEDIUM: ResponseRule = { when: { level: 'medium' }, revoke_sessions: true };
const HIJACK: ResponseRule = { when: { behavior: 'session_hijack' }, revoke_sessions: true };
const OFF: ResponseRule = { when: { level: 'high' }, revoke_sessions: false };

const change = (over: Partial<LevelChange> = {}): LevelChange => ({
  id: 'c-1',
  user: USER,
  version: 1,
  previous: 'low',
  current: 'high',
  behaviors: ['endpoint_detection'],
  reason: 'malware',
  initiatingEntity: 'system',
  time: NOW,
  occurredAt: T0 + HOUR,
  ...over,
});
const hit = (over: Partial<BehaviorHit> = {}): BehaviorHit => ({
  behavior: 'session_hijack',
  level: 'high',
  time: T0 + 2 * HOUR,
  summary: 's',
  evidence: {},
  eventIds: ['e-1'],
  ...over,
});

describe('markAfter: the arrival of the latest trigger a revoke_sessions rule fires on', () => {
  // markAfter(…, NOW): the event arrived at NOW (its entry id's time); its own time is hours before (a lagging feed).
  const rows: Array<[string, number | undefined, ResponseRule[], BehaviorHit[], LevelChange[], number | undefined]> = [
    ['a change reaching the level: its arrival, not its event time', undefined, [LEVEL_HIGH], [], [change()], NOW],
    ['without occurredAt: its arrival', undefined, [LEVEL_HIGH], [], [change({ occurredAt: undefined })], NOW],
    ['a change reaching a lower rule level', undefined, [LEVEL_MEDIUM], [], [change()], NOW],
    ['a change below the level', undefined, [LEVEL_HIGH], [], [change({ current: 'medium' })], undefined],
    ['a change staying at the level', undefined, [LEVEL_HIGH], [], [change({ previous: 'high' })], undefined],
    ['a medium rule on a raise from medium to high (it holds above its level)', undefined, [LEVEL_MEDIUM], [], [change({ previous: 'medium' })], NOW],
    ['a medium rule on a fall from high to medium (an expiry)', undefined, [LEVEL_MEDIUM], [], [change({ previous: 'high', current: 'medium' })], undefined],
    ['a high rule on a raise from low to medium', undefined, [LEVEL_HIGH], [], [change({ current: 'medium' })], undefined],
    ["an admin's change", undefined, [LEVEL_HIGH], [], [change({ initiatingEntity: 'admin' })], undefined],
    ['revoke_sessions: false', undefined, [OFF], [], [change()], undefined],
    ['a hit of the behavior: its arrival', undefined, [HIJACK], [hit()], [], NOW],
    ['a hit expired on arrival', undefined, [HIJACK], [hit({ expiredOnArrival: true })], [], undefined],
    ['a hit of another behavior', undefined, [HIJACK], [hit({ behavior: 'dlp_detection' })], [], undefined],
    ['an earlier arrival never lowers the mark', NOW + HOUR, [LEVEL_HIGH, HIJACK], [hit()], [change()], NOW + HOUR],
    ['a later trigger raises it', T0, [LEVEL_HIGH, HIJACK], [hit()], [change()], NOW],
    ['nothing fires: the mark stays', T0, [LEVEL_HIGH], [], [], T0],
    // A trigger stamped ahead (a skewed clock: ingest takes events up to max_future ahead) counts when it arrived.
    ['a hit stamped ahead of its arrival: its arrival', undefined, [HIJACK], [hit({ time: NOW + 24 * HOUR })], [], NOW],
    ['a change stamped ahead of its processing time: its processing time', undefined, [LEVEL_HIGH], [], [change({ occurredAt: NOW + HOUR })], NOW],
  ];
  it.each(rows)('%s', (_name, mark, rules, hits, changes, expected) => {
    expect(markAfter(mark, rules, hits, changes, NOW)).toBe(expected);
  });

  it('revokeRulesOf keeps the revoking rules; none at all is undefined (no policy work in the owner)', () => {
    expect(revokeRulesOf([OFF, HIJACK])).toEqual([HIJACK]);
    expect(revokeRulesOf([OFF])).toBeUndefined();
    expect(revokeRulesOf([])).toBeUndefined();
  });
});

const sessionLogin = (time: number, session: unknown = 's-1', over: Partial<CanonicalEvent> = {}): CanonicalEvent => ({
  type: 'login',
  user: USER,
  time,
  outcome: 'success',
  session: { id: session as string },
  ...over,
});

describe('lateLogin: a session login at or before the mark', () => {
  const mark = T0 + HOUR;
  const rows: Array<[string, CanonicalEvent, number | undefined, boolean]> = [
    ['before the mark', sessionLogin(mark - MIN), mark, true],
    ['at the mark', sessionLogin(mark), mark, true],
    ['after the mark', sessionLogin(mark + 1), mark, false],
    ['no mark', sessionLogin(mark - MIN), undefined, false],
    ['a session refresh before the mark', sessionLogin(mark - MIN, 's-1', { type: 'session_refresh' }), mark, true],
    ['a failed login', sessionLogin(mark - MIN, 's-1', { outcome: 'failure' }), mark, false],
    ['a login without a session', { ...sessionLogin(mark - MIN), session: undefined }, mark, false],
    ['a use of a session', sessionLogin(mark - MIN, 's-1', { type: 'access', outcome: 'allowed' }), mark, false],
  ];
  it.each(rows)('%s', (_name, e, m, late) => {
    const r = lateLogin(e, m);
    expect(r).toEqual(late ? { session: 's-1', login_at: e.time, trigger: m, expires_at: e.time + 12 * HOUR } : undefined);
  });

  it("carries the end of the login's own session: its expires_at (epoch ms or ISO), else sessions.default_lifetime after it", () => {
    const at = mark - HOUR;
    const withEnd = (expires_at: unknown): CanonicalEvent => ({ ...sessionLogin(at), session: { id: 's-1', expires_at: expires_at as number } });
    expect(lateLogin(withEnd(mark + MIN), mark)?.expires_at).toBe(mark + MIN);
    expect(lateLogin(withEnd(new Date(mark + HOUR).toISOString()), mark)?.expires_at).toBe(mark + HOUR);
    expect(lateLogin(sessionLogin(at), mark, 2 * HOUR)?.expires_at).toBe(at + 2 * HOUR);
  });

  it('none when its session was over by the mark (a backfill of old logs: nothing the revocation could have found)', () => {
    const at = mark - HOUR;
    const withEnd = (expires_at: number): CanonicalEvent => ({ ...sessionLogin(at), session: { id: 's-1', expires_at } });
    expect(lateLogin(withEnd(mark), mark)).toBeUndefined();
    expect(lateLogin(withEnd(mark - MIN), mark)).toBeUndefined();
    expect(lateLogin(sessionLogin(at), mark, HOUR)).toBeUndefined();
    expect(lateLogin(sessionLogin(mark - 30 * 24 * HOUR), mark)).toBeUndefined();
    expect(lateLogin(withEnd(mark + 1), mark)?.session).toBe('s-1');
  });

  it('a token session id is named by its stored id (never the token)', () => {
    const jwt = `${Buffer.from('{"alg":"RS256"}').toString('base64url')}.${Buffer.from('{"sub":"a"}').toString('base64url')}.${'x'.repeat(43)}`;
    expect(lateLogin(sessionLogin(mark - MIN, jwt), mark)?.session).toMatch(/^jwt-sha256:[0-9a-f]{64}$/);
  });
});

const EDR = behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' });
const CTX: ApplyContext = { behaviors: [EDR], limits: { maxLogins: 10, maxAge: 7 * 24 * HOUR, allowedLateness: 10 * MIN }, now: NOW };

let n = 0;
/** An item arriving (its entry id's time) an hour before NOW: after the events of these tests. */
const item = (e: CanonicalEvent): RoutedItem => {
  const id = `${NOW - HOUR + ++n}-0`;
  const k = orderKey(id, 0);
  return { k: [k.ms, k.seq], s: 'rs:in', i: id, e };
};
const edrEvent = (time: number): CanonicalEvent => ({
  type: 'endpoint',
  id: `x-${time}`,
  user: USER,
  time,
  device: { id: 'd-9' },
  vendor: 'crowdstrike',
  detection: 'malware',
  severity: 'critical',
});
const edr = (time: number): RoutedItem => item(edrEvent(time));

/** An item arriving at `ms` (its entry id's time). */
const at = (e: CanonicalEvent, ms: number): RoutedItem => ({ k: [ms, 0], s: 'rs:in', i: `${ms}-0`, e });

describe('applyItems with revoke_sessions rules: the mark and the late logins, in input order', () => {
  const trigger = T0 + 3 * HOUR;
  const arrival = NOW - HOUR; // the trigger's: two hours after its event time
  const ctx: ApplyContext = { ...CTX, revoke: [LEVEL_HIGH] };
  const after = (e: CanonicalEvent): RoutedItem[] => [at(edrEvent(trigger), arrival), at(e, arrival + 2 * HOUR)];
  const rows: Array<[string, RoutedItem[], string[]]> = [
    ['a login before the trigger arriving after it is late', after(sessionLogin(trigger - HOUR, 's-late')), ['s-late']],
    ['one after the trigger but before it arrived is late', after(sessionLogin(trigger + MIN, 's-between')), ['s-between']],
    ['one at the trigger’s arrival is late', after(sessionLogin(arrival, 's-at')), ['s-at']],
    ['a login after the trigger’s arrival is not', after(sessionLogin(arrival + 1, 's-after')), []],
    [
      'a login applied before the trigger is not (the user-wide revocation takes it)',
      [at(sessionLogin(trigger - HOUR, 's-first'), arrival - 1), at(edrEvent(trigger), arrival)],
      [],
    ],
    ['no trigger, no late login', [item(sessionLogin(trigger - HOUR, 's-1'))], []],
  ];
  it.each(rows)('%s', (_name, items, late) => {
    expect((applyItems(USER, emptyState(USER), items, ctx).late ?? []).map((l) => l.session)).toEqual(late);
  });

  it('a trigger stamped ahead of its arrival (a skewed clock) counts at its arrival: a login after that is no late login', () => {
    const items = [
      at(edrEvent(NOW + 24 * HOUR), arrival),
      at(sessionLogin(arrival + 30 * MIN, 's-after'), arrival + 31 * MIN),
      at(sessionLogin(arrival - MIN, 's-late'), arrival + 32 * MIN),
    ];
    const a = applyItems(USER, emptyState(USER), items, ctx);
    expect(a.state.revokedUpTo).toBe(arrival);
    expect((a.late ?? []).map((l) => l.session)).toEqual(['s-late']);
  });

  it("a login after the trigger's event time but before the trigger arrived (the detection's own feed lagging), applied after it, is late: in input order it would have been revoked", () => {
    const detected = NOW - 4 * HOUR; // the EDR's event time; its feed delivers it two hours later
    const items = [
      at(edrEvent(detected), arrival),
      // The attacker's session, opened an hour after the compromise: the IdP's shipper lags three hours.
      at(sessionLogin(detected + HOUR, 's-attacker'), arrival + HOUR),
      // The user's own login after the revocation ran (after the trigger arrived): left alone.
      at(sessionLogin(arrival + MIN, 's-after'), arrival + 2 * MIN),
    ];
    const a = applyItems(USER, emptyState(USER), items, ctx);
    expect(a.state.revokedUpTo).toBe(arrival);
    expect((a.late ?? []).map((l) => l.session)).toEqual(['s-attacker']);
  });

  it('the mark is kept in the state (stored and read back): a later apply, from the committed state, finds the late login', () => {
    const first = applyItems(USER, emptyState(USER), [at(edrEvent(trigger), arrival)], ctx);
    expect(first.state.revokedUpTo).toBe(arrival);
    const stored = decodeState(encodeState(first.state), USER)!;
    expect(stored.revokedUpTo).toBe(arrival);
    const logins = [at(sessionLogin(trigger - HOUR, 's-late'), arrival + MIN), at(sessionLogin(arrival + MIN, 's-new'), arrival + 2 * MIN)];
    const next = applyItems(USER, stored, logins, { ...ctx, sessionLifetime: 4 * HOUR });
    expect(next.late).toEqual([{ session: 's-late', login_at: trigger - HOUR, trigger: arrival, expires_at: trigger + 3 * HOUR }]);
    // The bytes msgpackr packs for the stored object (the codec's fallback path) are the same.
    const { user: _user, ...plain } = first.state;
    expect(encodeState(first.state).equals(new Packr({ useRecords: false, moreTypes: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT }).pack(plain))).toBe(true);
  });

  it('without a revoking rule nothing is kept or looked for: the state is as without responses', () => {
    const items = [edr(trigger), item(sessionLogin(trigger - HOUR, 's-late'))];
    const plain = applyItems(USER, emptyState(USER), items, CTX);
    expect(plain.late).toBeUndefined();
    expect(plain.state.revokedUpTo).toBeUndefined();
    const off = applyItems(USER, emptyState(USER), items, { ...CTX, revoke: revokeRulesOf([OFF]) });
    expect(off.state).toEqual(plain.state);
  });
});
