import type { SessionIdentity } from './identity.js';
import { sessionPairKey } from './pair-key.js';

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
  /** Sessions a sign-out ended (src/sessions/sign-out.ts), never counted as stored or skipped. Present only when non-empty. */
  signedOut?: Array<{ session_id: string; user: string }>;
}

/** A login refused by the put script. */
interface Refusal {
  s: SessionIdentity;
  owner: string;
}

/** The replies of a put pipeline, read. */
export interface PutOutcome {
  result: PutResult;
  refused: Refusal[];
}

/**
 * Reads the put pipeline's replies: one per live session (1 stored, 0 older, -1 revoked,
 * `{-2, owner, login_at, expires_at}` refused; for one of `ended`, 1 when its sign-out ended a stored session), two index replies, then one per user (trimmed ids).
 * An id refused for a user is never among that user's dropped ids (it is the owner's session).
 */
export function readPutReplies(
  live: readonly SessionIdentity[],
  users: readonly string[],
  res: readonly unknown[],
  skipped: number,
  unlisted?: ReadonlySet<SessionIdentity>,
  ended?: ReadonlySet<SessionIdentity>,
): PutOutcome {
  const out: PutOutcome = { result: { stored: 0, skipped, dropped: [] }, refused: [] };
  live.forEach((s, i) => {
    const r = res[i];
    if (ended?.has(s)) {
      if (Number(r) === 1 && !s.sign_out_only) (out.result.signedOut ??= []).push({ session_id: s.session_id, user: s.user });
      return;
    }
    // Expired on the wall clock (stored as a baseline only): counted among `skipped` already.
    const counted = !unlisted?.has(s);
    if (Array.isArray(r)) {
      out.refused.push({ s, owner: String(r[1]) });
      if (counted) out.result.skipped++;
      return;
    }
    const code = Number(r);
    if (counted && code === 1) out.result.stored++;
    else if (counted) out.result.skipped++;
  });
  const notOwn = new Set(out.refused.map((x) => sessionPairKey(x.s.user, x.s.session_id)));
  users.forEach((user, j) => {
    for (const id of (res[live.length + 2 + j] as string[] | null) ?? []) if (!notOwn.has(sessionPairKey(user, id))) out.result.dropped.push(id);
  });
  if (out.refused.length) out.result.refused = out.refused.map((x) => ({ session_id: x.s.session_id, user: x.s.user, owner: x.owner }));
  return out;
}
