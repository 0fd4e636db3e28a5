/**
 * What a sign-out is and what it does to a session's record (pure: src/sessions/sign-out.ts); the
 * engine's path, with Redis, is test/engine/sign-out.test.ts.
 */
import { describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/ingest/decode.js';
import { isSessionSignOut, signedOut } from '../../src/sessions/sign-out.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import type { CanonicalEvent } from '../../src/types.js';

const T = Date.parse('2026-11-23T08:00:00Z');
const MIN = 60_000;
const out = (time: number, over: Partial<CanonicalEvent> = {}): CanonicalEvent => ({
  type: 'logout',
  user: 'alice@example.com',
  time,
  session: { id: 's-1' },
  ...over,
});
const record: SessionIdentity = { session_id: 's-1', user: 'alice@example.com', claims: {}, login_at: T, expires_at: T + 60 * MIN };

describe('isSessionSignOut', () => {
  it('a successful logout or user.session.end (any case, trimmed, outcome success or left out) with a session id', () => {
    expect(isSessionSignOut(out(T))).toBe(true);
    expect(isSessionSignOut(out(T, { type: ' Logout ', outcome: 'SUCCESS' }))).toBe(true);
    expect(isSessionSignOut(out(T, { type: 'user.session.end', outcome: undefined }))).toBe(true);
    expect(isSessionSignOut(out(T, { outcome: 'failure' }))).toBe(false);
    expect(isSessionSignOut(out(T, { session: undefined }))).toBe(false);
    expect(isSessionSignOut(out(T, { session: { id: '' } }))).toBe(false);
    expect(isSessionSignOut(out(T, { type: 'login' }))).toBe(false);
  });

  it('Okta’s user.session.end, decoded by the okta profile, is one', () => {
    // An Okta System Log LogEvent: the user signed out of Okta session idx-1.
    const okta = {
      eventType: 'user.session.end',
      authenticationContext: { externalSessionId: 'idx-1' },
      actor: { id: '00u1', type: 'User', alternateId: 'alice@example.com' },
      outcome: { result: 'SUCCESS' },
      published: '2026-11-23T08:00:00.000Z',
      uuid: 'b6a3c1f0-0000-11ef-8000-000000000002',
    };
    const r = decodeEntry({ stream: 'riskstream:activity', id: '1-0', fields: { event: JSON.stringify(okta) }, deliveries: 1 });
    expect(r.ok && r.event).toMatchObject({ type: 'user.session.end', outcome: 'success', session: { id: 'idx-1' } });
    expect(r.ok && isSessionSignOut(r.event)).toBe(true);
  });
});

describe('signedOut', () => {
  it('ends the record at its time within the window; not before the login, at or after the end, or before its last extension', () => {
    expect(signedOut(record, out(T + 10 * MIN))).toEqual({ ...record, expires_at: T + 10 * MIN, signed_out_at: T + 10 * MIN });
    expect(signedOut(record, out(T - 1))).toBeUndefined();
    expect(signedOut(record, out(T + 60 * MIN))).toBeUndefined();
    expect(signedOut({ ...record, refreshed_at: T + 20 * MIN }, out(T + 10 * MIN))).toBeUndefined();
  });

  it('another user’s record: nothing; no record: a sign-out kept with no login, the earliest of several', () => {
    expect(signedOut(record, out(T + 10 * MIN, { user: 'bob@example.com' }))).toBeUndefined();
    const kept = signedOut(undefined, out(T + 10 * MIN))!;
    expect(kept).toEqual({ ...record, login_at: T + 10 * MIN, expires_at: T + 10 * MIN, signed_out_at: T + 10 * MIN, sign_out_only: true });
    expect(signedOut(kept, out(T + 20 * MIN))).toBeUndefined();
    expect(signedOut(kept, out(T + 5 * MIN))).toMatchObject({ login_at: T + 5 * MIN, sign_out_only: true });
  });
});
