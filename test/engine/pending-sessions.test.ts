import { describe, expect, it } from 'vitest';
import { buildSessions, sessionFinder, type PendingSessions } from '../../src/engine/pending-sessions.js';
import { identityBuilder } from '../../pipelines/session-audit.js';
import { attachStored } from '../../src/sessions/identity.js';
import type { CanonicalEvent, StreamEvent } from '../../src/types.js';
import { login, settings } from '../sessions/helpers.js';
import { sessionPairKey } from '../../src/sessions/pair-key.js';

/**
 * A session refresh (or a later login with the same session id) whose login is not committed yet —
 * routed in the same step, or committed by the commit still in flight — extends the login's pending
 * identity instead of standing as a login of its own.
 */
const T0 = Date.UTC(2026, 10, 23, 8);
const HOUR = 3_600_000;
const build = identityBuilder(settings());
const se = (event: CanonicalEvent, i: number): StreamEvent => ({ ref: { stream: 's', id: `${i}-0` }, event, deliveries: 1 });
const refresh = (sid: string, time: number, over: Partial<CanonicalEvent> = {}): CanonicalEvent => ({
  type: 'session_refresh',
  user: 'alice@example.com',
  outcome: 'success',
  time,
  session: { id: sid, expires_at: T0 + 8 * HOUR },
  ...over,
});
const fresh = (): PendingSessions => ({ sessions: [] });
/** Pending identities built from `events` (as an earlier step would have). */
const pendingOf = (...events: CanonicalEvent[]): PendingSessions => {
  const p = fresh();
  buildSessions(
    events.map((e, i) => se(e, i)),
    build,
    p,
    sessionFinder(p, undefined),
  );
  return p;
};

describe('buildSessions', () => {
  const loginEvent = (over: Partial<CanonicalEvent> = {}): CanonicalEvent => ({ ...login({ sessionId: 's-1', time: T0, expiresAt: T0 + HOUR }), ...over });

  it('a refresh after its login in the same events extends the login’s identity', () => {
    const out = pendingOf(loginEvent(), refresh('s-1', T0 + 60_000));
    expect(out.sessions).toHaveLength(2);
    const [first, second] = out.sessions;
    expect(second).toEqual({ ...first, expires_at: T0 + 8 * HOUR, refreshed_at: T0 + 60_000 });
    expect(second!.device).toBeDefined();
  });

  it('a later login of the user with the same session id extends it too: the first login’s device and network stay', () => {
    const out = pendingOf(loginEvent(), loginEvent({ time: T0 + 60_000, device: { id: 'd-evil' }, network: { asn: 1221 } }));
    expect(out.sessions[1]).toMatchObject({ login_at: T0, device: { id: 'd-9' }, refreshed_at: T0 + 60_000 });
    expect(out.sessions[1]!.network).toEqual(out.sessions[0]!.network);
  });

  it('a refresh whose login is pending in this delta or in the commit in flight extends it', () => {
    const first = loginEvent();
    const pending = pendingOf(first);
    for (const [into, inflight] of [
      [pendingOf(first), undefined],
      [fresh(), pending],
    ] as Array<[PendingSessions, PendingSessions | undefined]>) {
      buildSessions([se(refresh('s-1', T0 + 60_000), 2)], build, into, sessionFinder(into, inflight));
      expect(into.sessions[into.sessions.length - 1]).toEqual({ ...pending.sessions[0], expires_at: T0 + 8 * HOUR, refreshed_at: T0 + 60_000 });
    }
  });

  it('the latest pending identity wins over an older stored one the router attached', () => {
    const out = pendingOf(loginEvent());
    const r = refresh('s-1', T0 + 60_000);
    attachStored(r, { ...out.sessions[0]!, login_at: T0 - HOUR, claims: { stale: true } });
    buildSessions([se(r, 2)], build, out, sessionFinder(out, undefined));
    expect(out.sessions[1]!.claims).toEqual(out.sessions[0]!.claims);
    expect(out.sessions[1]!.login_at).toBe(T0);
  });

  it('another user’s or another session’s pending identity is not taken; a login again at the same time is itself', () => {
    const out = pendingOf(loginEvent());
    buildSessions(
      [se(refresh('s-1', T0 + 60_000, { user: 'bob@example.com' }), 2), se(refresh('s-2', T0 + 60_000), 3)],
      build,
      out,
      sessionFinder(out, undefined),
    );
    expect(out.sessions.slice(1).map((s) => [s.user, s.session_id, s.login_at, s.refreshed_at])).toEqual([
      ['bob@example.com', 's-1', T0 + 60_000, undefined],
      ['alice@example.com', 's-2', T0 + 60_000, undefined],
    ]);
    const again = loginEvent();
    const replay = pendingOf(again);
    buildSessions([se(again, 1)], build, replay, sessionFinder(replay, undefined));
    expect(replay.sessions[1]).toEqual(build([se(again, 1)])[0]);
  });

  it('an older login arriving after a newer one does not replace it (as the store refuses it); an expired identity is not extended', () => {
    const newer = loginEvent({ time: T0 + HOUR, device: { id: 'd-new' }, session: { id: 's-1', expires_at: T0 + 5 * HOUR } });
    const out = pendingOf(newer, loginEvent({ time: T0, device: { id: 'd-old' } }));
    expect(out.latest!.get(sessionPairKey('alice@example.com', 's-1'))!.device).toEqual({ id: 'd-new' });
    const expired = pendingOf(loginEvent()); // expires at T0 + 1 h
    buildSessions([se(refresh('s-1', T0 + 2 * HOUR), 2)], build, expired, sessionFinder(expired, undefined));
    expect(expired.sessions[1]).toMatchObject({ login_at: T0 + 2 * HOUR });
    expect(expired.sessions[1]!.refreshed_at).toBeUndefined();
  });
  it('a refresh the router found stored from a refresh, while the owner already took the login into it, extends the owner’s identity', () => {
    // R (from_refresh, T+30s, d-evil) stored; then the login L (T) merged with it here: M.
    const early = refresh('s-1', T0 + 30_000, { device: { id: 'd-evil' } });
    const stored = pendingOf(early).sessions[0]!;
    expect(stored.from_refresh).toBe(true);
    const l = loginEvent();
    attachStored(l, stored);
    const owner = pendingOf(l);
    expect(owner.sessions[0]).toMatchObject({ login_at: T0, device: { id: 'd-9' }, refreshed_at: T0 + 30_000 });
    // The router read R from the store before M's commit and attached it to a later refresh R3.
    const r3 = refresh('s-1', T0 + 90_000);
    attachStored(r3, stored);
    const into = fresh();
    buildSessions([se(r3, 9)], build, into, sessionFinder(into, owner));
    expect(into.sessions[0]).toMatchObject({ login_at: T0, device: { id: 'd-9' }, refreshed_at: T0 + 90_000 });
    expect(into.sessions[0]!.from_refresh).toBeUndefined();
  });

  it('the same login delivered again keeps what refreshes added since (expiry, refreshed_at)', () => {
    const l = loginEvent();
    const merged = pendingOf(l, refresh('s-1', T0 + 60_000)).sessions[1]!;
    const again = loginEvent();
    attachStored(again, merged);
    const out = pendingOf(again).sessions[0]!;
    expect(out).toMatchObject({ login_at: T0, expires_at: T0 + 8 * HOUR, refreshed_at: T0 + 60_000 });
  });
});
