import { isRefresh } from '../login.js';
import { attachStored, isSessionLogin, storedOf, storedSessionId, type SessionIdentity } from '../sessions/identity.js';
import type { StreamEvent } from '../types.js';

/**
 * Builds the session identities of `events` (one user's, in order) into `out`, the partition's
 * identities not yet committed. A session refresh extends the identity stored for its session; when
 * that session's login (or an earlier refresh) is still uncommitted — in `out`, or in the commit in
 * flight (`inflight`) — nothing is stored yet, so the router found nothing: the refresh extends that
 * pending identity instead, the latest one, rather than standing as a login of its own.
 */
export function buildSessions(
  events: readonly StreamEvent[],
  build: (events: StreamEvent[]) => SessionIdentity[],
  out: SessionIdentity[],
  inflight: readonly SessionIdentity[] | undefined,
): void {
  if (!events.some((se) => isRefresh(se.event))) {
    for (const id of build(events as StreamEvent[])) out.push(id);
    return;
  }
  for (const se of events) {
    const e = se.event;
    if (isRefresh(e) && isSessionLogin(e)) {
      const pending = latest(out, storedSessionId(String(e.session!.id)), e.user) ?? latest(inflight, storedSessionId(String(e.session!.id)), e.user);
      if (pending && (!storedOf(e) || storedOf(e)!.login_at <= pending.login_at)) attachStored(e, pending);
    }
    for (const id of build([se])) out.push(id);
  }
}

/** The last identity of session `sid` of `user` in `list`. */
function latest(list: readonly SessionIdentity[] | undefined, sid: string, user: string): SessionIdentity | undefined {
  if (!list) return undefined;
  for (let i = list.length - 1; i >= 0; i--) {
    const s = list[i]!;
    if (s.session_id === sid && s.user === user) return s;
  }
  return undefined;
}
