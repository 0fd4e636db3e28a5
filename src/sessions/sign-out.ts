/**
 * A sign-out ends its user's stored session (docs/sessions.md): the one rule, shared by the
 * partition owner (src/engine/pending-sessions.ts), the router's lookup (./captured.ts) and the
 * commit script's `SEND` (src/redis/scripts/engine-commit-n.lua), so that, as for logins, only the
 * apply order and event time decide. Pure.
 */
import type { CanonicalEvent } from '../types.js';
import { storedSessionId, type SessionIdentity } from './identity.js';

/** Event types that end the session they carry: `logout`, Okta's `user.session.end` (trimmed, any case). */
export const SIGN_OUT_TYPES = ['logout', 'user.session.end'] as const;

/** A sign-out type, trimmed, any case (a test that allocates nothing: it runs on every event applied). */
const SIGN_OUT_TYPE = /^\s*(?:logout|user\.session\.end)\s*$/i;

/**
 * True for a successful sign-out (a {@link SIGN_OUT_TYPES} type, `outcome` `success` or left out)
 * that carries a session id: a failed one ends nothing.
 */
export function isSessionSignOut(e: CanonicalEvent): boolean {
  const type = e.type as unknown;
  if (type !== 'logout' && (typeof type !== 'string' || type.length > 64 || !SIGN_OUT_TYPE.test(type))) return false;
  const outcome = e.outcome as unknown;
  if (outcome !== undefined && outcome !== null && outcome !== 'success' && (typeof outcome !== 'string' || !/^\s*(?:success)?\s*$/i.test(outcome)))
    return false;
  const id = e.session?.id as unknown;
  return (typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id));
}

/**
 * The record after sign-out `e` (of `record`'s user, with its session id) is applied: ended at the
 * sign-out's time — `expires_at` moved back to it, `signed_out_at` set — when that time lies in the
 * record's window `[login_at, expires_at)` and after every refresh (or later login) that extended
 * it (`refreshed_at`); else undefined: the sign-out ends nothing. A sign-out before the session's
 * start (a sign-out of an earlier session with the id, arriving late), after its end, or of
 * another user's session ends nothing. One earlier in event time than an extension already applied
 * ends nothing either: in event-time order that extension came after the sign-out and started the
 * id's session again, which stays listed (docs/sessions.md). A sign-out when no record is held
 * leaves a `sign_out_only` record, which ends the login that arrives after it though earlier in
 * event time ({@link endedBySignOutOnly}).
 */
export function signedOut(record: SessionIdentity | undefined, e: CanonicalEvent): SessionIdentity | undefined {
  if (!Number.isFinite(e.time)) return undefined;
  const t = Math.round(e.time);
  // Nothing held of the session (or only an earlier sign-out of it, later in event time): kept for its login.
  if (!record || (record.sign_out_only && t < record.login_at)) return signOutOnly(e, t);
  if (record.user !== e.user || record.sign_out_only) return undefined;
  if (t < record.login_at || t >= record.expires_at || (record.refreshed_at ?? record.login_at) > t) return undefined;
  return { ...record, expires_at: t, signed_out_at: t };
}

/**
 * How long (wall clock) a sign-out of a session riskstream holds no login of is kept for that
 * login, arriving after it though earlier in event time (the IdP's log lagging): 12 h.
 */
export const SIGN_OUT_ONLY_KEPT_MS = 12 * 3_600_000;

/** The record a sign-out leaves when none was held: `sign_out_only`, an empty window at its time. */
function signOutOnly(e: CanonicalEvent, t: number): SessionIdentity {
  return { session_id: storedSessionId(String(e.session!.id)), user: e.user, claims: {}, login_at: t, expires_at: t, signed_out_at: t, sign_out_only: true };
}

/**
 * The session `fresh` (a login or refresh's own identity) starts, given `stored`, a sign-out kept
 * with no login (`sign_out_only`): ended by it when its window reaches the sign-out (as in
 * event-time order), else itself.
 */
export function endedBySignOutOnly(fresh: SessionIdentity, stored: SessionIdentity): SessionIdentity {
  if (stored.user !== fresh.user || fresh.login_at >= stored.login_at || fresh.expires_at <= stored.login_at) return fresh;
  return { ...fresh, expires_at: stored.login_at, signed_out_at: stored.login_at };
}
