import { createHash } from 'node:crypto';
import type { SessionIdentity } from './identity.js';

/** A revoked session, handed to the sink that queues the CAEP session-revoked SET. */
export interface SessionRevocation {
  /** The revocation's change id (one per revocation; kept in its notice, so a retry reuses it): the delivery job id / SET `txn`. */
  id: string;
  user: string;
  sessionId: string;
  reason: string;
  actor: string;
  /** When it was revoked (epoch ms). */
  time: number;
}

/**
 * Change id of a session copy's revocation at `time` (epoch ms): one per copy (id, login time and
 * user: users of different partitions who logged in with one id at one time are each told) and
 * per revocation — a session stored again after it was revoked (its login replayed with a later
 * expiry, a longer lifetime configured) and revoked again is another change, with its own SETs
 * (delivery jobs and `jti`s are keyed by it).
 */
export function revocationId(s: Pick<SessionIdentity, 'session_id' | 'login_at' | 'user'>, time: number): string {
  return `session-revoked:${createHash('sha256').update(`${s.session_id}\n${s.login_at}\n${s.user}\n${time}`).digest('hex').slice(0, 32)}`;
}

/** The revocation of `identity` by `meta.actor` at `time` (pure). */
export function revocationOf(identity: SessionIdentity, meta: { actor: string; reason: string }, time: number): SessionRevocation {
  return { id: revocationId(identity, time), user: identity.user, sessionId: identity.session_id, reason: meta.reason, actor: meta.actor, time };
}

/**
 * A revocation not yet told (audited and queued as SETs), as its partition's notice hash holds it:
 * written in the same step as the deletion (src/redis/scripts/session-revoke-6.lua), removed once
 * told. `claimed_at`: when a teller took it (the revoker, or a later drain after a crash).
 */
export interface RevocationNotice extends SessionRevocation {
  claimed_at: number;
}

/** A notice read back; null when unreadable. */
export function parseNotice(json: string): RevocationNotice | null {
  try {
    const v = JSON.parse(json) as Partial<RevocationNotice> | null;
    if (!v || typeof v.id !== 'string' || typeof v.user !== 'string' || typeof v.sessionId !== 'string') return null;
    return {
      id: v.id,
      user: v.user,
      sessionId: v.sessionId,
      reason: typeof v.reason === 'string' ? v.reason : '',
      actor: typeof v.actor === 'string' ? v.actor : 'system',
      time: typeof v.time === 'number' ? v.time : 0,
      claimed_at: typeof v.claimed_at === 'number' ? v.claimed_at : 0,
    };
  } catch {
    return null;
  }
}
