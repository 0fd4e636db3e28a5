/**
 * The one rule for session_hijack's baseline (src/sessions/baseline.ts), pure: a session's record
 * folded from its logins in apply order, a use compared with it only inside its window
 * [login_at, expires_at), in event time. Every path folds with these functions, so the table is
 * what every path gives (test/engine/hijack-determinism.test.ts checks the paths agree).
 */
import { describe, expect, it } from 'vitest';
import { baselineAt, recordAfter, storedAfter, windowEndOf } from '../../src/sessions/baseline.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import type { CanonicalEvent } from '../../src/types.js';

const T = Date.parse('2026-11-23T08:00:00Z');
const MIN = 60_000;
const LIFETIME = 12 * 60 * MIN;

const login = (at: number, device: string, expiresIn?: number, type = 'login'): CanonicalEvent => ({
  type,
  user: 'alice@example.com',
  time: T + at * MIN,
  outcome: 'success',
  session: expiresIn === undefined ? { id: 's-1' } : { id: 's-1', expires_at: T + (at + expiresIn) * MIN },
  device: { id: device },
});
const use = (at: number): CanonicalEvent => ({ type: 'access', user: 'alice@example.com', time: T + at * MIN, session: { id: 's-1' }, device: { id: 'd-x' } });

/** The record after `logins`, in this order. */
const fold = (logins: CanonicalEvent[]): SessionIdentity | undefined =>
  logins.reduce<SessionIdentity | undefined>((r, e) => recordAfter(r, e, LIFETIME), undefined);

describe('the session record, folded in apply order', () => {
  it.each([
    // [what, logins (minutes, device, expires in minutes), start minute, device, end minute]
    ['one login', [login(0, 'a', 60)], 0, 'a', 60],
    ['no expires_at: sessions.default_lifetime', [login(0, 'a')], 0, 'a', 720],
    ['a later login inside the window extends it: the baseline stays', [login(0, 'a', 60), login(30, 'b', 60)], 0, 'a', 90],
    ['a login earlier in event time arriving later is refused (finding 1)', [login(20, 'b', 60), login(0, 'a', 60)], 20, 'b', 80],
    ['… the same when it arrives first: the first applied stays', [login(0, 'a', 60), login(20, 'b', 60)], 0, 'a', 80],
    ['a login after the window ended starts the session again (finding 2)', [login(0, 'a', 10), login(20, 'b', 40)], 20, 'b', 60],
    ['… exactly at the end too', [login(0, 'a', 10), login(10, 'b', 40)], 10, 'b', 50],
    ['a refresh first, then the login earlier in event time: the login is the start', [login(10, 'r', 60, 'session_refresh'), login(0, 'a', 60)], 0, 'a', 70],
    ['a refresh after the window ended starts a session of its own', [login(0, 'a', 10), login(20, 'r', 60, 'refresh')], 20, 'r', 80],
    // Found by a black-box review: the late login took the refresh over (start 0, device a), and the
    // refresh was compared with it — a hijack that event-time order never sees.
    [
      '… the same when the refresh arrives first: its login, ended before it, does not take it over',
      [login(20, 'r', 60, 'refresh'), login(0, 'a', 10)],
      20,
      'r',
      80,
    ],
  ])('%s', (_what, logins, start, device, end) => {
    const r = fold(logins)!;
    expect([(r.login_at - T) / MIN, r.device?.id, (r.expires_at - T) / MIN]).toEqual([start, device, end]);
  });
});

describe('a use is compared only inside the record’s window', () => {
  const r = fold([login(0, 'a', 60)]);
  it.each([
    [-1, 'a'], // before the start: attached, and the detector compares nothing earlier than login_at
    [0, 'a'],
    [59, 'a'],
    [60, undefined],
    [600, undefined],
  ])('a use at minute %i → baseline %s', (at, device) => {
    expect(baselineAt(r, use(at))?.device).toBe(device);
  });
  it('a login gets a baseline only from an earlier start; none without a record', () => {
    expect(baselineAt(r, login(0, 'a', 60))).toBeUndefined();
    expect(baselineAt(r, login(5, 'b', 60))?.device).toBe('a');
    expect(baselineAt(undefined, use(5))).toBeUndefined();
  });
});

describe('storedAfter (the commit script’s SPUT rule)', () => {
  const id = (at: number, exp: number, over: Partial<SessionIdentity> = {}): SessionIdentity => ({
    session_id: 's-1',
    user: 'alice@example.com',
    claims: {},
    login_at: T + at * MIN,
    expires_at: T + exp * MIN,
    ...over,
  });
  it.each([
    ['nothing stored', undefined, id(0, 60), 'next'],
    ['a later login', id(0, 60), id(10, 60), 'next'],
    ['an older login', id(10, 60), id(0, 60), 'cur'],
    ['an older login over a refresh’s start', id(10, 60, { from_refresh: true }), id(0, 60), 'next'],
    ['… not when its session ended before the refresh', id(20, 80, { from_refresh: true }), id(0, 10), 'cur'],
    ['a refresh’s start over a login’s', id(0, 60), id(10, 70, { from_refresh: true }), 'cur'],
    ['… unless the login’s session ended', id(0, 5), id(10, 70, { from_refresh: true }), 'next'],
    ['another user’s session', id(0, 60, { user: 'bob@example.com' }), id(10, 60), 'cur'],
    ['another user’s, ended: still refused (a session id is never rebound while kept)', id(0, 5, { user: 'bob@example.com' }), id(10, 60), 'cur'],
  ])('%s → %s', (_what, cur, next, kept) => {
    expect(storedAfter(cur, next)).toBe(kept === 'cur' ? cur : next);
  });
});

describe('windowEndOf', () => {
  it('the record’s end for the login that started it; the login’s own time (an empty window) for one that extended or was refused', () => {
    const first = login(0, 'a', 60);
    const r = fold([first]);
    expect(windowEndOf(r!, first)).toBe(T + 60 * MIN);
    const later = login(10, 'b', 60);
    expect(windowEndOf(recordAfter(r, later, LIFETIME), later)).toBe(later.time);
    const older = login(-10, 'c', 60);
    expect(windowEndOf(recordAfter(r, older, LIFETIME), older)).toBe(older.time);
    // A login that ended before the refresh stored as the session's start: it starts nothing.
    const refreshed = fold([login(20, 'r', 60, 'refresh')]);
    const ended = login(0, 'a', 10);
    expect(windowEndOf(recordAfter(refreshed, ended, LIFETIME), ended)).toBe(ended.time);
  });
});
