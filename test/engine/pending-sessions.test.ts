import { describe, expect, it } from 'vitest';
import { buildSessions } from '../../src/engine/pending-sessions.js';
import { identityBuilder } from '../../pipelines/session-audit.js';
import { attachStored, type SessionIdentity } from '../../src/sessions/identity.js';
import type { CanonicalEvent, StreamEvent } from '../../src/types.js';
import { login, settings } from '../sessions/helpers.js';

/**
 * A session refresh whose login is not committed yet (routed in the same step, or committed by the
 * commit still in flight) extends the login's pending identity instead of standing as a login of its own.
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

describe('buildSessions', () => {
  const loginEvent = (): CanonicalEvent => login({ sessionId: 's-1', time: T0, expiresAt: T0 + HOUR });

  it('a refresh after its login in the same events extends the login’s identity', () => {
    const out: SessionIdentity[] = [];
    buildSessions([se(loginEvent(), 1), se(refresh('s-1', T0 + 60_000), 2)], build, out, undefined);
    expect(out).toHaveLength(2);
    const [first, second] = out;
    expect(second).toEqual({ ...first, expires_at: T0 + 8 * HOUR, refreshed_at: T0 + 60_000 });
    expect(second!.device).toBeDefined();
  });

  it('a refresh whose login is pending in this delta or in the commit in flight extends it', () => {
    const pending = build([se(loginEvent(), 1)]);
    for (const [out, inflight] of [
      [[...pending], undefined],
      [[], pending],
    ] as Array<[SessionIdentity[], SessionIdentity[] | undefined]>) {
      buildSessions([se(refresh('s-1', T0 + 60_000), 2)], build, out, inflight);
      expect(out[out.length - 1]).toEqual({ ...pending[0], expires_at: T0 + 8 * HOUR, refreshed_at: T0 + 60_000 });
    }
  });

  it('the latest pending identity wins over an older stored one the router attached', () => {
    const out = build([se(loginEvent(), 1)]);
    const r = refresh('s-1', T0 + 60_000);
    attachStored(r, { ...out[0]!, login_at: T0 - HOUR, claims: { stale: true } });
    buildSessions([se(r, 2)], build, out, undefined);
    expect(out[1]!.claims).toEqual(out[0]!.claims);
    expect(out[1]!.login_at).toBe(T0);
  });

  it('another user’s or another session’s pending identity is not taken; without a refresh nothing changes', () => {
    const out = build([se(loginEvent(), 1)]);
    buildSessions([se(refresh('s-1', T0 + 60_000, { user: 'bob@example.com' }), 2), se(refresh('s-2', T0 + 60_000), 3)], build, out, undefined);
    expect(out.slice(1).map((s) => [s.user, s.session_id, s.login_at, s.refreshed_at])).toEqual([
      ['bob@example.com', 's-1', T0 + 60_000, undefined],
      ['alice@example.com', 's-2', T0 + 60_000, undefined],
    ]);
    const plain: SessionIdentity[] = [];
    const again = loginEvent();
    buildSessions([se(again, 1)], build, plain, out);
    expect(plain).toEqual(build([se(again, 1)]));
  });
});
