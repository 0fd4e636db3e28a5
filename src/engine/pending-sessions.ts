import { attachStored, isSessionLogin, storedOf, storedSessionId, type SessionIdentity } from '../sessions/identity.js';
import type { StreamEvent } from '../types.js';

/** A partition's session identities not yet committed, with the latest per (user, session id). */
export interface PendingSessions {
  sessions: SessionIdentity[];
  /** The latest of `sessions` per {@link pendingKey}; built as they are added. */
  latest?: Map<string, SessionIdentity>;
}

const pendingKey = (user: string, sid: string): string => `${user}\u0000${sid}`;

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
  inflight: PendingSessions | undefined,
): void {
  for (const se of events) {
    const e = se.event;
    if (!isSessionLogin(e)) continue;
    const k = pendingKey(e.user, storedSessionId(String(e.session!.id)));
    const pending = into.latest?.get(k) ?? inflight?.latest?.get(k);
    const stored = storedOf(e);
    if (pending && (!stored || stored.login_at <= pending.login_at)) attachStored(e, pending);
    for (const id of build([se])) {
      into.sessions.push(id);
      (into.latest ??= new Map()).set(pendingKey(id.user, id.session_id), id);
    }
  }
}
