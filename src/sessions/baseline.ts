/**
 * The one rule for session_hijack's baseline, shared by every path that decides it — the router's
 * lookup (src/sessions/captured.ts), the partition owner's memory (src/engine/pending-sessions.ts),
 * the identity builder (./build-identity.ts) and the commit script's SPUT
 * (src/redis/scripts/engine-commit-n.lua) — so a verdict never depends on how entries were batched,
 * on which of them were committed, or on a crash:
 *
 * - A session's **record** is folded from its user's successful logins and refreshes carrying its
 *   id, in apply (stream) order: a login starts it, and becomes its baseline, when there is none or
 *   the record ended (its `expires_at`, event time) at or before the login; a later login or refresh
 *   within it extends it (the baseline stays, `expires_at` moves to the later); a login earlier in
 *   event time than the record's start replaces the start only when that start is a refresh's
 *   (`from_refresh`), and is refused otherwise, as is one of a session bound to another user.
 * - A use at event time `t` is compared with the record as it stands when the use is applied, and
 *   only when `t` lies in the record's window `[login_at, expires_at)` (a login only when it is later
 *   than the start). A use outside it is not compared. A use arriving before any record is kept by
 *   the detector for the login that starts one, and compared only if it lies in that login's window.
 *
 * Only event time decides: the wall clock sets how long Redis keeps a record, never whether a use
 * is compared. Pure.
 */
import { addSessionProperties, type CapturedSession } from '../detect/captured-session.js';
import { isRefresh } from '../login.js';
import type { CanonicalEvent } from '../types.js';
import { epochMs } from './build-identity.js';
import { extendedIdentity } from './extend-identity.js';
import { isSessionLogin, storedSessionId, type SessionIdentity } from './identity.js';

/** `sessions.default_lifetime`'s shipped default (12 h): a session's end when neither event nor caller gives one. */
export const DEFAULT_SESSION_LIFETIME = 12 * 3_600_000;

/** The baseline a stored identity gives. */
export function capturedFromIdentity(s: SessionIdentity): CapturedSession {
  return addSessionProperties({ session_id: s.session_id, user: s.user, login_at: s.login_at } as CapturedSession, s);
}

/**
 * True when `c` may be the baseline `e` is compared with: any use's — but a session login's
 * (a refresh too) only when `c` is earlier: the login that captured it, or a refresh stored as
 * the session's start, is no baseline of its own (a refresh before its login is then kept for
 * that login by the detector, as in event-time order).
 */
export function baselineFor(e: CanonicalEvent, c: Pick<CapturedSession, 'login_at'>): boolean {
  return !isSessionLogin(e) || c.login_at < e.time;
}

/** The baseline of `e` given its session's record as `e` is applied: none outside the record's window. */
export function baselineAt(record: SessionIdentity | undefined, e: CanonicalEvent): CapturedSession | undefined {
  return record && record.expires_at > e.time && !record.sign_out_only && baselineFor(e, record) ? capturedFromIdentity(record) : undefined;
}

/**
 * The identity kept after `next` is offered where `cur` is kept (SPUT's rule, without the
 * tombstone): `cur` when bound to another user, older-than-its-start unless that start is a
 * refresh's that `next`'s session reaches, a refresh's start offered over a login's, or one not
 * signed out offered over a signed-out `cur` it does not precede — unless `cur` ended at or before
 * `next` begins: then `next` starts the id's session again.
 */
export function storedAfter(cur: SessionIdentity | undefined, next: SessionIdentity): SessionIdentity {
  // A sign-out kept with no login is no session: whatever comes replaces it (what it ends, ended).
  if (!cur || cur.sign_out_only) return next;
  if (cur.user !== next.user) return cur;
  if (cur.expires_at <= next.login_at) return next;
  // An older login takes a refresh's start over only when its session reaches the refresh.
  if (cur.login_at > next.login_at && (!cur.from_refresh || next.expires_at <= cur.login_at)) return cur;
  if (!cur.from_refresh && next.from_refresh) return cur;
  // A sign-out ended `cur` after `next` began: only what extends it (keeping that end) replaces it.
  if (cur.signed_out_at !== undefined && next.signed_out_at === undefined && next.login_at >= cur.login_at) return cur;
  return next;
}

/**
 * The record after session login `e` (a successful login or refresh with a session id and a finite
 * time) is applied to `cur`: the start and window only (no claims, nothing redacted), as the stored
 * identity would have them. `lifetime`: `sessions.default_lifetime`, for a login without `expires_at`.
 */
export function recordAfter(cur: SessionIdentity | undefined, e: CanonicalEvent, lifetime: number): SessionIdentity {
  const loginAt = Math.round(e.time);
  const fresh: SessionIdentity = {
    session_id: storedSessionId(String(e.session!.id)),
    user: e.user,
    claims: {},
    login_at: loginAt,
    expires_at: Math.round(epochMs(e.session!.expires_at) ?? loginAt + lifetime),
  };
  if (typeof e.device === 'object' && e.device !== null) fresh.device = e.device as Record<string, unknown>;
  if (typeof e.network === 'object' && e.network !== null) fresh.network = e.network as Record<string, unknown>;
  if (typeof e.geo === 'object' && e.geo !== null) fresh.geo = e.geo as Record<string, unknown>;
  return storedAfter(cur, extendedIdentity(fresh, cur, isRefresh(e)));
}

/**
 * Where the window of the session `login` starts ends, for the detector's uses kept for a late
 * login (`SESSION_END`): the record's `expires_at` when `login` became its start, else the login's
 * own time (an empty window: a login that extends or is refused starts nothing).
 */
export function windowEndOf(record: SessionIdentity, login: CanonicalEvent): number {
  return record.user === login.user && record.login_at === Math.round(login.time) ? record.expires_at : login.time;
}
