/**
 * Which idle users may be forgotten (src/risk/retention.ts), pure, at frozen times: only low,
 * version-0 users with nothing active, no revocation mark, nothing vouched for or recorded late;
 * only once their last item and every time their windows hold are the TTL behind the watermark;
 * never one whose new_country history has learned a country. The TTL in force is never shorter
 * than the detectors' look-back. A user idle past it is applied to as a new user, so a state the
 * sweep deleted and one it did not give the same result.
 */
import { describe, expect, it } from 'vitest';
import { applyItems, type ApplyContext } from '../../src/engine/apply.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import {
  effectiveEventRetention,
  effectiveIdleTtl,
  IDLE_BUCKET_MS,
  idleScore,
  idleVerdict,
  learnerIds,
  relistScore,
  unlessIdle,
} from '../../src/risk/retention.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import type { CanonicalEvent } from '../../src/types.js';
import { behavior } from '../helpers/behavior-config.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const TTL = 30 * DAY;
const behaviors = [
  behavior('brute_force', { enabled: true, risk_level: 'high', expires_after: '24h', failures: 10, window: '10m' }),
  behavior('new_country', { enabled: true, risk_level: 'medium', expires_after: '24h', baseline: '30d', learning: '7d' }),
  behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '6h', min_severity: 'high' }),
];
const limits = { maxLogins: 10, maxAge: 7 * DAY, allowedLateness: 600_000 };
const learners = learnerIds(behaviors);
const ctx: ApplyContext = { behaviors, limits, now: NOW, retention: { ttl: TTL, learners } };

let seq = 0;
const item = (e: CanonicalEvent, at: number): RoutedItem & { e: CanonicalEvent } => ({ k: [at, seq++], s: 'in', i: `${at}-${seq}`, e });
const failed = (user: string, time: number): CanonicalEvent => ({ type: 'login', id: `f-${time}`, user, time, outcome: 'failure', ip: '203.0.113.9' });

/** A sprayed user: one failed login applied at `at` (the clock then: an arrival is at most 30 days old). */
function sprayed(at: number, user = 'u@example.com'): UserState {
  return applyItems(user, emptyState(user), [item(failed(user, at), at)], { ...ctx, now: at, retention: undefined }).state;
}

describe('idleScore: candidates', () => {
  it('a sprayed user is one, scored at the end of the hour of its last item', () => {
    const s = sprayed(NOW - 1);
    expect(idleScore(s)).toBe(Math.ceil((NOW - 1) / IDLE_BUCKET_MS) * IDLE_BUCKET_MS);
    expect(idleScore(s)! - (NOW - 1)).toBeLessThan(IDLE_BUCKET_MS);
  });
  it('a user whose level changed, back at low with nothing active, is listed for its risk events (revocation mark or not)', () => {
    const s = sprayed(NOW);
    expect(idleScore({ ...s, version: 1 })).toBe(idleScore(s));
    expect(idleScore({ ...s, version: 1, revokedUpTo: NOW })).toBe(idleScore(s));
    expect(idleScore({ ...s, version: 1, level: 'high' })).toBeNull();
  });
  it('no candidate: a level above low, a behavior active, a revocation mark, unseen or vouched', () => {
    const s = sprayed(NOW);
    expect(idleScore({ ...s, level: 'medium' })).toBeNull();
    expect(idleScore({ ...s, behaviors: { x: { level: 'low', firstAt: 1, lastAt: 1, expiresAt: null, hits: 1, summary: '', evidence: {} } } })).toBeNull();
    expect(idleScore({ ...s, revokedUpTo: NOW })).toBeNull();
    expect(idleScore(emptyState('u'))).toBeNull();
    expect(idleScore({ ...s, windows: { ...s.windows, '#vouched': { ids: ['a'] } } })).toBeNull();
  });
});

describe('effectiveIdleTtl', () => {
  it('0 is off; never shorter than the longest window or login_max_age, plus the allowed lateness', () => {
    expect(effectiveIdleTtl(0, behaviors, limits)).toBeNull();
    expect(effectiveIdleTtl(TTL, behaviors, limits)).toBe(TTL);
    expect(effectiveIdleTtl(DAY, behaviors, limits)).toBe(7 * DAY + 600_000);
    const long = [
      ...behaviors,
      behavior('dlp_detection', { enabled: true, risk_level: 'low', expires_after: '1h', min_severity: 'high', count: 2, window: '40d' }),
    ];
    expect(effectiveIdleTtl(TTL, long, limits)).toBe(40 * DAY + 600_000);
    // A disabled behavior's window is dropped from its users' states: it does not count.
    const off = [
      ...behaviors,
      behavior('dlp_detection', { enabled: false, risk_level: 'low', expires_after: '1h', min_severity: 'high', count: 2, window: '40d' }),
    ];
    expect(effectiveIdleTtl(TTL, off, limits)).toBe(TTL);
  });
});

describe('idleVerdict', () => {
  const at = NOW - 40 * DAY;
  it('forget once the last item and every window time are the TTL behind the watermark; later before that', () => {
    const s = sprayed(at);
    expect(idleVerdict(s, at + TTL, TTL, learners)).toEqual({ kind: 'forget' });
    expect(idleVerdict(s, at + TTL - 1, TTL, learners)).toEqual({ kind: 'later', score: idleScore(s) });
  });
  it('a window time after the last item (a skewed clock) holds the user until it is the TTL behind', () => {
    const user = 'skew@example.com';
    const s = applyItems(user, emptyState(user), [item(failed(user, at + 10 * DAY), at)], { ...ctx, now: at, retention: undefined }).state;
    const v = idleVerdict(s, at + TTL, TTL, learners);
    expect(v.kind).toBe('later');
    expect(v.kind === 'later' && v.score).toBeGreaterThanOrEqual(at + 10 * DAY);
    expect(idleVerdict(s, at + 10 * DAY + TTL, TTL, learners)).toEqual({ kind: 'forget' });
  });
  it('a new_country history that learned a country keeps the user for good; one of failed logins only does not', () => {
    const user = 'gb@example.com';
    const login: CanonicalEvent = { ...failed(user, at), outcome: 'success', geo: { country: 'GB', lat: 51.5, lon: -0.1 } };
    const s = applyItems(user, emptyState(user), [item(login, at)], { ...ctx, now: at, retention: undefined }).state;
    expect(idleVerdict(s, NOW + 400 * DAY, TTL, learners)).toEqual({ kind: 'keep' });
    // Not even listed in the idle index (its commit writes no entry for it).
    expect(idleScore(s)).toBeNull();
    expect(idleVerdict(sprayed(at), NOW + 400 * DAY, TTL, learners)).toEqual({ kind: 'forget' });
  });
  it('ids of hits that expired hold the user as its risk events are: for good without a risk-event retention (listed again a TTL later), else that long', () => {
    const s = { ...sprayed(at), windows: { ...sprayed(at).windows, '#late': { x: ['a'] } } };
    const EVENTS = 3 * TTL;
    expect(idleVerdict(s, NOW + 400 * DAY, TTL, learners)).toEqual({ kind: 'later', score: relistScore(NOW + 400 * DAY) });
    expect(idleVerdict(s, at + TTL, TTL, learners, EVENTS)).toEqual({ kind: 'later', score: idleScore(s)! + EVENTS - TTL });
    expect(idleVerdict(s, at + EVENTS, TTL, learners, EVENTS)).toEqual({ kind: 'forget' });
    expect(effectiveEventRetention(0, TTL)).toBeUndefined();
    expect(effectiveEventRetention(DAY, TTL)).toBe(TTL);
  });
  it('a user whose level changed: kept without a risk-event retention (listed again a TTL later), else its risk events pruned (never forgotten) past it', () => {
    const s = { ...sprayed(at), version: 2 };
    const EVENTS = 3 * TTL;
    expect(idleVerdict(s, NOW + 400 * DAY, TTL, learners)).toEqual({ kind: 'later', score: relistScore(NOW + 400 * DAY) });
    expect(relistScore(NOW + 400 * DAY)).toBeGreaterThanOrEqual(NOW + 400 * DAY);
    expect(idleVerdict(s, at + TTL, TTL, learners, EVENTS)).toEqual({ kind: 'later', score: idleScore(s)! + EVENTS - TTL });
    expect(idleVerdict(s, at + EVENTS, TTL, learners, EVENTS)).toEqual({ kind: 'prune' });
    expect(unlessIdle(s, at + EVENTS, { ttl: TTL, learners, events: EVENTS })).toBe(s);
  });
  it('unlessIdle tells when the risk events go at the item: pruned or forgotten past the retention, never before it', () => {
    const EVENTS = 3 * TTL;
    const r = { ttl: TTL, learners, events: EVENTS };
    const told = (s: UserState, when: number, ret: typeof r | { ttl: number; learners: typeof learners } = r): boolean => {
      let dropped = false;
      unlessIdle(s, when, ret, () => (dropped = true));
      return dropped;
    };
    const changed = { ...sprayed(at), version: 2 };
    expect([told(changed, at + TTL), told(changed, at + EVENTS - 1), told(changed, at + EVENTS)]).toEqual([false, false, true]);
    // Forgotten at the TTL, its risk events only past the retention (as the sweep judges them).
    const plain = sprayed(at);
    expect(unlessIdle(plain, at + TTL, r)).not.toBe(plain);
    expect([told(plain, at + TTL), told(plain, at + EVENTS)]).toEqual([false, true]);
    // No risk-event retention: never.
    expect(told(plain, at + 400 * DAY, { ttl: TTL, learners })).toBe(false);
  });
  it('no candidate: keep', () => {
    expect(idleVerdict({ ...sprayed(at), level: 'high' }, NOW + 400 * DAY, TTL, learners)).toEqual({ kind: 'keep' });
  });
});

describe('unlessIdle: a user idle past the TTL is applied to as a new user', () => {
  it('its next item gives the state a new user gets, and version 1 for its first level change', () => {
    const user = 'back@example.com';
    const old = sprayed(NOW - 40 * DAY, user);
    const next = NOW - DAY;
    const critical: CanonicalEvent = {
      type: 'endpoint',
      id: 'x',
      user,
      time: next,
      device: { id: 'd' },
      vendor: 'v',
      detection: 'malware',
      severity: 'critical',
    };
    const items = [item(failed(user, next - 5), next - 5), item(critical, next)];
    const kept = applyItems(user, old, items, ctx);
    expect(kept.state).toEqual(applyItems(user, emptyState(user), items, ctx).state);
    expect(kept.state).toMatchObject({ level: 'high', version: 1 });
    // Without retention the old history stays (new_country's first login time among it).
    expect(applyItems(user, old, items, { ...ctx, retention: undefined }).state).not.toEqual(kept.state);
    expect(unlessIdle(old, next, undefined)).toBe(old);
    expect(unlessIdle(old, NOW - 40 * DAY + TTL - 1, ctx.retention)).toBe(old);
    expect(unlessIdle(old, NOW - 40 * DAY + TTL, ctx.retention)).toEqual(emptyState(user));
  });
  it('a reset of a user idle past the TTL finds no one and leaves nothing to write, as when its sweep forgot it first', () => {
    // Written, its empty (unseen) state would be listed low by GET /v1/users and never forgotten:
    // a run whose sweep came before the reset stores nothing.
    const user = 'reset-idle@example.com';
    const old = sprayed(NOW - 40 * DAY, user);
    const reset = (req: string): RoutedItem => ({
      k: [NOW - DAY, seq++],
      s: 'ctl',
      i: `${NOW - DAY}-${seq}`,
      c: { op: 'reset', req, user, actor: 'admin', reason: 'r' },
    });
    const stored = applyItems(user, old, [reset('a')], ctx);
    expect(stored.results.map((r) => r.outcome)).toEqual([{ found: false }]);
    expect(stored.state).toBe(old); // unchanged: nothing written, the sweep forgets it
    const forgotten = emptyState(user);
    expect(applyItems(user, forgotten, [reset('b')], ctx).state).toBe(forgotten);
    // An item after it that makes a state: written as a new user's.
    const next = applyItems(user, old, [reset('c'), item(failed(user, NOW - DAY + 5), NOW - DAY + 5)], ctx);
    expect(next.state).toEqual(applyItems(user, forgotten, [item(failed(user, NOW - DAY + 5), NOW - DAY + 5)], ctx).state);
  });
});
