import type { ChainableCommander } from 'ioredis';
import type { Keys } from '../keys.js';
import type { SessionIdentity } from './identity.js';

/** What one {@link SessionStore.put} did. */
export interface PutResult {
  stored: number;
  /** Already expired, older than the stored login of the same session, revoked, or refused. */
  skipped: number;
  /** Session ids removed to keep users under `max_per_user`. */
  dropped: string[];
  /**
   * Logins refused because their session id is bound to another user (the first binding wins;
   * the login is still scored). Present only when non-empty.
   */
  refused?: Array<{ session_id: string; user: string; owner: string }>;
}

/** A login refused by the put script, with the owner's stored times (to restore the global indexes). */
interface Refusal {
  s: SessionIdentity;
  owner: string;
  loginAt: number;
  expiresAt: number;
}

/** The replies of a put pipeline, read. */
export interface PutOutcome {
  result: PutResult;
  revoked: SessionIdentity[];
  refused: Refusal[];
}

/**
 * Reads the put pipeline's replies: one per live session (1 stored, 0 older, -1 revoked,
 * `{-2, owner, login_at, expires_at}` refused), two index replies, then one per user (trimmed ids).
 * An id refused for a user is never among that user's dropped ids (it is the owner's session).
 */
export function readPutReplies(
  live: readonly SessionIdentity[],
  users: readonly string[],
  res: readonly unknown[],
  skipped: number,
  unlisted?: ReadonlySet<SessionIdentity>,
): PutOutcome {
  const out: PutOutcome = { result: { stored: 0, skipped, dropped: [] }, revoked: [], refused: [] };
  live.forEach((s, i) => {
    const r = res[i];
    // Expired on the wall clock (stored as a baseline only): counted among `skipped` already.
    const counted = !unlisted?.has(s);
    if (Array.isArray(r)) {
      out.refused.push({ s, owner: String(r[1]), loginAt: Number(r[2]), expiresAt: Number(r[3]) });
      if (counted) out.result.skipped++;
      return;
    }
    const code = Number(r);
    if (counted && code === 1) out.result.stored++;
    else if (counted) out.result.skipped++;
    if (code === -1) out.revoked.push(s);
  });
  const notOwn = new Set(out.refused.map((x) => `${x.s.user}\u0000${x.s.session_id}`));
  users.forEach((user, j) => {
    for (const id of (res[live.length + 2 + j] as string[] | null) ?? []) if (!notOwn.has(`${user}\u0000${id}`)) out.result.dropped.push(id);
  });
  if (out.refused.length) out.result.refused = out.refused.map((x) => ({ session_id: x.s.session_id, user: x.s.user, owner: x.owner }));
  return out;
}

/** True when {@link cleanupAfterPut} has something to do. */
export function needsCleanup(o: PutOutcome): boolean {
  return o.revoked.length > 0 || o.refused.length > 0;
}

/**
 * Queues the index clean-up after a put of partition `p`'s identities: revoked replays, refused
 * logins. (Trimmed sessions are deleted by the commit script itself: a clean-up here, after the
 * commit, could delete what a later commit stored again, or never run.)
 */
export function cleanupAfterPut(c: ChainableCommander, k: Keys, p: number, o: PutOutcome): void {
  for (const s of o.revoked) {
    c.zrem(k.sessionsByLogin(p), s.session_id).zrem(k.sessionsByExpiry(p), s.session_id).zrem(k.userSessions(s.user), s.session_id);
  }
  // A refused login: out of the other user's index; the partition's indexes get the owner's times
  // back — unless the commit trimmed the owner's session (deleted with its members).
  const trimmed = new Set(o.result.dropped);
  for (const x of o.refused) {
    c.zrem(k.userSessions(x.s.user), x.s.session_id);
    if (trimmed.has(x.s.session_id)) continue;
    if (Number.isFinite(x.loginAt)) c.zadd(k.sessionsByLogin(p), x.loginAt, x.s.session_id);
    if (Number.isFinite(x.expiresAt)) c.zadd(k.sessionsByExpiry(p), x.expiresAt, x.s.session_id);
  }
}
