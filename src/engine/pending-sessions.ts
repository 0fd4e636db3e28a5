import { attachCaptured, attachSessionEnd, revokedUse } from '../detect/captured-session.js';
import { baselineAt, DEFAULT_SESSION_LIFETIME, recordAfter, storedAfter, windowEndOf } from '../sessions/baseline.js';
import { sessionPairKey, usesSession } from '../sessions/captured.js';
import { attachStored, isSessionLogin, storedOf, storedSessionId, type SessionIdentity } from '../sessions/identity.js';
import { isSessionSignOut, signedOut } from '../sessions/sign-out.js';
import type { CanonicalEvent, StreamEvent } from '../types.js';

/** A partition's session identities not yet committed, with the latest per (user, session id). */
export interface PendingSessions {
  sessions: SessionIdentity[];
  /** The latest of `sessions` per {@link pendingKey}; built as they are added. */
  latest?: Map<string, SessionIdentity>;
}

/** The key of a session identity among the owner's: user and stored session id. */
export const pendingKey = sessionPairKey;

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
 * than standing as a login of its own. A sign-out ends the user's session it names
 * (src/sessions/sign-out.ts), unless `signOuts` is false (session audit off: `build` stores nothing either).
 */
export function buildSessions(
  events: readonly StreamEvent[],
  build: (events: StreamEvent[]) => SessionIdentity[],
  into: PendingSessions,
  find: FindSession,
  signOuts = true,
): void {
  for (const se of events) {
    const e = se.event;
    if (isSessionSignOut(e)) {
      if (signOuts) signOut(e, into, find);
      continue;
    }
    if (!isSessionLogin(e)) continue;
    const k = pendingKey(e.user, storedSessionId(String(e.session!.id)));
    const held = find(k);
    const pending = live(held, e.time);
    const stored = storedOf(e);
    // The owner's identity wins over what the router read unless that holds an earlier login; and
    // always over one stored from a refresh that the owner's already took a login into (the router
    // read the store before that commit).
    if (pending && (!stored || stored.login_at <= pending.login_at || (stored.from_refresh && !pending.from_refresh))) attachStored(e, pending);
    // The router read the session before a sign-out the owner applied ended it: that session is over.
    else if (held?.signed_out_at !== undefined && stored && stored.signed_out_at === undefined && stored.login_at <= held.login_at) attachStored(e, pending);
    for (const id of build([se])) {
      into.sessions.push(id);
      const key = pendingKey(id.user, id.session_id);
      const prev = (into.latest ??= new Map()).get(key) ?? pending;
      // The store's rule (src/sessions/baseline.ts): a login older than the session's start does not
      // replace it, unless that start is a refresh's (the identity built from it holds both), or the
      // session ended before it.
      if (storedAfter(prev, id) === id) into.latest.set(key, id);
    }
  }
}

/**
 * Attaches session_hijack's baseline to the events of one user (in order) that carry a session id,
 * by the one rule (src/sessions/baseline.ts): the session's record as each event is applied,
 * folded from what this owner holds — the identity not committed yet, in flight, committed lately
 * or read from the store before the step (`find`) — and the session logins and sign-outs earlier among `events`.
 * The owner holds the whole record (it applies every entry of the partition in order, and reads the
 * store for a session it holds nothing of), so its word replaces the router's: a router that
 * restarted, or that took a login the store then refused or trimmed, cannot change a verdict. A
 * session login also gets the end of the window it starts (`SESSION_END`), for the uses the
 * detector kept for it. `lifetime`: `sessions.default_lifetime`.
 */
export function attachPendingBaselines(events: readonly CanonicalEvent[], find: FindSession, lifetime = DEFAULT_SESSION_LIFETIME): void {
  let records: Map<string, SessionIdentity | undefined> | undefined;
  for (const e of events) {
    const sid = usesSession(e);
    if (sid === undefined || revokedUse(e)) continue; // revoked when routed: no baseline, and no login stored
    records ??= new Map();
    const record = records.has(sid) ? records.get(sid) : find(pendingKey(e.user, sid));
    attachCaptured(e, baselineAt(record, e));
    if (isSessionSignOut(e)) {
      const ended = signedOut(record, e);
      if (ended) records.set(sid, ended);
      continue;
    }
    if (!isSessionLogin(e) || !Number.isFinite(e.time)) continue;
    const next = recordAfter(record, e, lifetime);
    attachSessionEnd(e, windowEndOf(next, e));
    records.set(sid, next);
  }
}

/**
 * A sign-out of the user's session the owner holds ends it (src/sessions/sign-out.ts): the ended
 * identity is stored by the commit as a login's is, and taken out of every listing.
 */
function signOut(e: CanonicalEvent, into: PendingSessions, find: FindSession): void {
  const k = pendingKey(e.user, storedSessionId(String(e.session!.id)));
  const ended = signedOut(find(k), e);
  if (!ended) return;
  into.sessions.push(ended);
  (into.latest ??= new Map()).set(k, ended);
}

/** An identity the owner holds, unless it expired before `time` (the store would have let it go). */
function live(s: SessionIdentity | undefined, time: number): SessionIdentity | undefined {
  return s && s.expires_at > time ? s : undefined;
}
