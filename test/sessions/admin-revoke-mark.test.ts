/**
 * An admin's revoke-all of a user's sessions raises the user's revocation mark (pure, frozen
 * clock): its `revoke_sessions` control op, applied in order with the user's events, sets
 * `revokedUpTo` to its arrival and `revokedBy` to the admin — whatever the response rules — and a
 * session login applied after it, not later in event time, is a late login carrying the admin, whom
 * its revocation names as actor.
 */
import { describe, expect, it } from 'vitest';
import { FLOAT32_OPTIONS, Packr } from 'msgpackr';
import type { ResponseRule } from '../../src/config/responses.js';
import { applyItems, type ApplyContext } from '../../src/engine/apply.js';
import { decodeControl } from '../../src/engine/control.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import { decodeState, encodeState } from '../../src/risk/state-codec.js';
import { emptyState, seen, type UserState } from '../../src/risk/state.js';
import { policyTriggers } from '../../src/sessions/response-policy.js';
import type { CanonicalEvent } from '../../src/types.js';
import { behavior } from '../helpers/behavior-config.js';

const USER = 'alice@example.com';
const ADMIN = 'token:ab12cd34';
const MIN = 60_000;
const HOUR = 60 * MIN;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const REVOKED = NOW - 2 * HOUR; // the revoke-all's arrival
const EDR = behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' });
const CTX: ApplyContext = {
  behaviors: [EDR],
  limits: { maxLogins: 10, maxAge: 7 * 24 * HOUR, allowedLateness: 10 * MIN },
  now: NOW,
  sessionLifetime: 12 * HOUR,
};
const LEVEL_HIGH: ResponseRule = { when: { level: 'high' }, revoke_sessions: true };

const login = (time: number, id: string): CanonicalEvent => ({ type: 'login', user: USER, time, outcome: 'success', session: { id } });
const at = (e: CanonicalEvent, ms: number): RoutedItem => ({ k: [ms, 0], s: 'rs:login', i: `${ms}-0`, e });
const revokeAll = (ms: number, actor = ADMIN): RoutedItem => ({
  k: [ms, 0],
  s: 'rs:control',
  i: `${ms}-0`,
  c: { op: 'revoke_sessions', req: `r-${ms}`, user: USER, actor, reason: 'offboarding' },
});
/** A user riskstream holds a state for (a login applied before). */
const known = (): UserState => applyItems(USER, emptyState(USER), [at(login(REVOKED - 3 * HOUR, 's-0'), REVOKED - 3 * HOUR)], CTX).state;

describe("an admin's revoke-all raises the user's revocation mark", () => {
  it('to its arrival, with the admin; a login applied after it at or before it in event time is late (carrying the admin), a later one is not', () => {
    const items = [revokeAll(REVOKED), at(login(REVOKED - 10 * MIN, 's-late'), REVOKED + HOUR), at(login(REVOKED + 1, 's-after'), REVOKED + HOUR + 1)];
    const a = applyItems(USER, known(), items, CTX);
    expect(a.state).toMatchObject({ revokedUpTo: REVOKED, revokedBy: ADMIN });
    expect(a.late).toEqual([{ session: 's-late', login_at: REVOKED - 10 * MIN, trigger: REVOKED, expires_at: REVOKED + 11 * HOUR + 50 * MIN, by: ADMIN }]);
    expect(a.results).toEqual([{ req: `r-${REVOKED}`, user: USER, outcome: { found: true, revoked_up_to: REVOKED } }]);
  });

  it('a login applied before it is no late login (stored by then: the revoke-all revokes it)', () => {
    const a = applyItems(USER, known(), [at(login(REVOKED - MIN, 's-first'), REVOKED - 1), revokeAll(REVOKED)], CTX);
    expect(a.late).toBeUndefined();
  });

  it('never lowers the mark: an earlier revoke-all (or a replay) leaves a later mark and its author', () => {
    const first = applyItems(USER, known(), [revokeAll(REVOKED, 'token:later')], CTX).state;
    const again = applyItems(USER, first, [revokeAll(REVOKED - HOUR)], CTX);
    expect(again.state).toBe(first);
    expect(again.results[0]!.outcome).toEqual({ found: true, revoked_up_to: REVOKED });
  });

  it('a response trigger raising the mark later takes the author back (policy)', () => {
    const edr: CanonicalEvent = { type: 'endpoint', id: 'x-1', user: USER, time: REVOKED, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' };
    const items = [revokeAll(REVOKED), at(edr, REVOKED + HOUR), at(login(REVOKED + 30 * MIN, 's-late'), REVOKED + 2 * HOUR)];
    const a = applyItems(USER, known(), items, { ...CTX, revoke: [LEVEL_HIGH] });
    expect(a.state.revokedUpTo).toBe(REVOKED + HOUR);
    expect(a.state.revokedBy).toBeUndefined();
    expect(a.late?.map((l) => [l.session, l.by])).toEqual([['s-late', undefined]]);
  });

  it('marks a user never seen (found false): the state holds the mark only, not seen; their first login, late, is revoked', () => {
    const a = applyItems(USER, emptyState(USER), [revokeAll(REVOKED)], CTX);
    expect(a.state).toEqual({ ...emptyState(USER), revokedUpTo: REVOKED, revokedBy: ADMIN });
    expect(seen(a.state)).toBe(false);
    expect(a.results[0]!.outcome).toEqual({ found: false, revoked_up_to: REVOKED });
    // A reset of such a user finds none (nothing changed); the first event makes it seen, the mark kept.
    const reset = { ...revokeAll(REVOKED + 1), c: { op: 'reset' as const, req: 'r-reset', user: USER, actor: ADMIN, reason: 'x' } };
    const r = applyItems(USER, a.state, [reset], CTX);
    expect(r.results[0]!.outcome).toEqual({ found: false });
    expect(r.state).toBe(a.state);
    const first = applyItems(USER, decodeState(encodeState(a.state), USER)!, [at(login(REVOKED - MIN, 's-late'), REVOKED + MIN)], CTX);
    expect(first.late?.map((l) => [l.session, l.by])).toEqual([['s-late', ADMIN]]);
    expect(seen(first.state)).toBe(true);
    expect(first.state).toMatchObject({ revokedUpTo: REVOKED, revokedBy: ADMIN });
  });

  it('is stored and read back (as msgpackr packs the stored object): a later apply from the committed state finds the late login', () => {
    const state = applyItems(USER, known(), [revokeAll(REVOKED)], CTX).state;
    const stored = decodeState(encodeState(state), USER)!;
    expect(stored).toMatchObject({ revokedUpTo: REVOKED, revokedBy: ADMIN });
    const { user: _user, ...plain } = state;
    expect(encodeState(state).equals(new Packr({ useRecords: false, moreTypes: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT }).pack(plain))).toBe(true);
    const next = applyItems(USER, stored, [at(login(REVOKED - MIN, 's-late'), REVOKED + MIN)], CTX);
    expect(next.late?.map((l) => l.by)).toEqual([ADMIN]);
  });
});

describe("a late login after an admin's revoke-all, as the relay revokes it", () => {
  it('is revoked as that admin, the reason naming the revoke-all; a policy’s late login stays actor policy', () => {
    const late = { session: 's-late', login_at: REVOKED - MIN, trigger: REVOKED, expires_at: REVOKED + HOUR };
    const [byAdmin, byPolicy] = policyTriggers(
      [],
      [],
      [],
      [
        { user: USER, late: { ...late, by: ADMIN } },
        { user: 'bob@example.com', late },
      ],
    );
    expect(byAdmin).toMatchObject({ user: USER, session: 's-late', before: REVOKED + HOUR, actor: ADMIN });
    expect(byAdmin!.marker).toMatch(/^late:/);
    expect(byAdmin!.reason).toMatch(/^revoke-all by token:ab12cd34: /);
    expect(byPolicy!.actor).toBeUndefined();
    expect(byPolicy!.reason).toMatch(/^policy: /);
  });
});

describe('decodeControl', () => {
  it('reads a revoke_sessions op; refuses an op it does not know', () => {
    const fields = { op: 'revoke_sessions', req: 'r-1', user: USER, actor: ADMIN, reason: 'x' };
    expect(decodeControl(fields)).toEqual(fields);
    expect(decodeControl({ ...fields, op: 'drop' })).toMatch(/^control_invalid:/);
  });
});
