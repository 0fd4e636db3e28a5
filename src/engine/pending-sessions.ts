import { addSessionProperties, attachCaptured, capturedOf, revokedUse, type CapturedSession } from '../detect/session-hijack.js';
import { baselineFor, capturedFromIdentity, usesSession } from '../sessions/captured.js';
import { attachStored, epochMs, isSessionLogin, storedOf, storedSessionId, type SessionIdentity } from '../sessions/identity.js';
import type { CanonicalEvent, StreamEvent } from '../types.js';

/** A partition's session identities not yet committed, with the latest per (user, session id). */
export interface PendingSessions {
  sessions: SessionIdentity[];
  /** The latest of `sessions` per {@link pendingKey}; built as they are added. */
  latest?: Map<string, SessionIdentity>;
}

/** The key of a session identity among the owner's: user and stored session id. */
export const pendingKey = (user: string, sid: string): string => `${user}\u0000${sid}`;

/** The owner's latest identity of a session by {@link pendingKey}: uncommitted, in flight, or committed lately. */
export type FindSession = (key: string) => SessionIdentity | undefined;

/** The finder over a partition's delta, the commit in flight and the identities committed lately. */
export function sessionFinder(
  into: PendingSessions,
  inflight: PendingSessions | undefined,
  committed?: { get(k: string): SessionIdentity | undefined },
): FindSession {
  return (k) => into.latest?.get(k) ?? inflight?.latest?.get(k) ?? committed?.get(k);
}

/**
 * Builds the session identities of `events` (one user's, in order) into `into`, the partition's
 * identities not yet committed. A session refresh — or a later login with the same session id —
 * extends the identity stored for its session; when that session's login (or an earlier refresh)
 * is still uncommitted — in `into`, or in the commit in flight (`inflight`) — nothing is stored yet,
 * so the router found nothing: it extends that pending identity instead, the latest one, rather
 * than standing as a login of its own.
 */
export function buildSessions(
  events: readonly StreamEvent[],
  build: (events: StreamEvent[]) => SessionIdentity[],
  into: PendingSessions,
  find: FindSession,
): void {
  for (const se of events) {
    const e = se.event;
    if (!isSessionLogin(e)) continue;
    const k = pendingKey(e.user, storedSessionId(String(e.session!.id)));
    const pending = live(find(k), e.time);
    const stored = storedOf(e);
    // The owner's identity wins over what the router read unless that holds an earlier login; and
    // always over one stored from a refresh that the owner's already took a login into (the router
    // read the store before that commit).
    if (pending && (!stored || stored.login_at <= pending.login_at || (stored.from_refresh && !pending.from_refresh))) attachStored(e, pending);
    for (const id of build([se])) {
      into.sessions.push(id);
      const key = pendingKey(id.user, id.session_id);
      const prev = (into.latest ??= new Map()).get(key) ?? pending;
      // As the store's rule: a login older than the session's known one does not replace it, unless
      // that one was stored from a refresh (the identity built from it holds both).
      if (!prev || prev.login_at <= id.login_at || prev.from_refresh) into.latest.set(key, id);
    }
  }
}

/**
 * Attaches session_hijack's baseline to the events of one user (in order) that carry a session id
 * the router found no baseline for (or a later one), from what this owner holds and the router may
 * not know: the session's identity not committed yet or committed lately (`find`), or a login
 * earlier among `events`.
 * A router that restarted after routing a login whose commit was lost remembers nothing of it;
 * the owner re-applies that login before the use, so a use is compared as in a run without the
 * crash. A login gets a baseline only from an earlier login (the one that captured it gets none).
 */
export function attachPendingBaselines(events: readonly CanonicalEvent[], find: FindSession): void {
  // The first login of each session among `events` (its baseline made only when a later event needs
  // it), and the latest `expires_at` its logins so far gave: a use after it has no baseline, as at the router.
  let local: Map<string, { login: CanonicalEvent; exp: number | undefined }> | undefined;
  for (const e of events) {
    const sid = usesSession(e);
    if (sid === undefined || revokedUse(e)) continue; // revoked when routed: no baseline, as after a restart
    const login = isSessionLogin(e);
    const pending = live(find(pendingKey(e.user, sid)), e.time);
    const known = pending ? undefined : local?.get(sid);
    const first = known && (known.exp === undefined || known.exp > e.time) ? known.login : undefined;
    // Another user's login with the id gives this user no baseline (the detector skips it): not the router's word.
    const attached = capturedOf(e);
    const routed = attached?.user === e.user ? attached : undefined;
    // The earliest login known wins, as at the router: one the owner holds may be earlier than the
    // router's (a restarted router took a refresh in its step for the baseline).
    if (pending || first) {
      const loginAt = pending ? pending.login_at : first!.time;
      if (!routed || loginAt < routed.login_at) {
        const c = pending ? capturedFromIdentity(pending) : baselineOf(first!, sid);
        if (baselineFor(e, c)) attachCaptured(e, c);
      }
    }
    if (login && events.length > 1 && Number.isFinite(e.time)) {
      const exp = epochMs(e.session!.expires_at);
      const had = (local ??= new Map()).get(sid);
      if (!had) local.set(sid, { login: e, exp });
      else if (exp !== undefined && (had.exp === undefined || exp > had.exp)) had.exp = exp;
    }
  }
}

/** An identity the owner holds, unless it expired before `time` (the store would have let it go). */
function live(s: SessionIdentity | undefined, time: number): SessionIdentity | undefined {
  return s && s.expires_at > time ? s : undefined;
}

/** The baseline a session login captures. */
function baselineOf(login: CanonicalEvent, sid: string): CapturedSession {
  return addSessionProperties({ session_id: sid, user: login.user, login_at: login.time } as CapturedSession, login);
}
