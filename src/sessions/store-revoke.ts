import { randomUUID } from 'node:crypto';
import { scriptsOn } from '../redis/scripts.js';
import { clampPx } from '../redis/ttl.js';
import { storedSessionId, type SessionIdentity } from './identity.js';
import { parseNotice, revocationOf, type RevocationNotice, type SessionRevocation } from './revocation.js';
import { storeError, type ListingContext } from './listing.js';
import { findCopies } from './store-reads.js';

/** Who revokes, why, and when (epoch ms; default: the store's clock). */
export interface RevokeMeta {
  actor: string;
  reason: string;
  time?: number;
}

/** Told of each copy a revocation deleted: its identity, the revocation, and the partition holding its notice. */
export type RevokedCopy = (s: SessionIdentity, change: SessionRevocation, part: number) => Promise<void>;

/** How long a revocation tombstone outlives the session at least (blocks replays of its login). */
const TOMBSTONE_MIN_MS = 60_000;

/** {@link SessionStore.revokeCopies}'s work: each copy deleted by the revoke script, with its tombstone and (told to `each`) its notice. */
export async function revokeCopies(
  c: ListingContext,
  id: string,
  meta: RevokeMeta,
  user?: string,
  each?: RevokedCopy,
  startedBefore?: number,
): Promise<SessionIdentity[]> {
  const sid = storedSessionId(id.trim()); // trimmed as at ingest
  // Every partition holding the id (the first binding, and any copy another user's login made), or
  // `user`'s copy only (findCopies leaves out another user's session bound to the id in `user`'s partition).
  const copies = (await findCopies(c, sid, user)).filter((f) => startedBefore === undefined || f.s.login_at < startedBefore);
  const revoked: SessionIdentity[] = [];
  for (const { s: found, p: part } of copies) {
    const now = meta.time ?? c.now();
    // `call`: this call's own, so a resend of it (below) is told apart from another caller's
    // revocation of the same actor, reason and instant (two admins' clicks, one token).
    const tombstone = JSON.stringify({ user: found.user, actor: meta.actor, reason: meta.reason, time: now, call: randomUUID() });
    // The revocation to tell, recorded with the deletion: a crash before it is told leaves it for a drain.
    const change = revocationOf(found, meta, now);
    const notice: RevocationNotice = { ...change, claimed_at: 0 }; // claimed by the script, on Redis's clock
    const px = clampPx(found.expires_at - c.now(), TOMBSTONE_MIN_MS);
    const raw = await scriptsOn(c.redis)
      .sessionRevoke(
        c.keys.session(part, sid),
        c.keys.sessionsByLogin(part),
        c.keys.sessionsByExpiry(part),
        // The user's index is in the user's partition, which holds the copy (a stray copy: its index is pruned lazily).
        c.keys.partitionOf(found.user) === part ? c.keys.userSessions(found.user) : c.keys.sessionsByLogin(part),
        c.keys.sessionTombstone(part, sid),
        c.keys.revocationNotices(part),
        sid,
        tombstone,
        String(px),
        each ? change.id : '', // a caller telling nobody (tests, tools) leaves no notice
        JSON.stringify(notice),
      )
      .catch(storeError);
    // 1: the client's resend of the script found this call's own revocation (the reply of the run
    // that made it was lost to a dropped connection): the copy read is the one it deleted.
    const s = raw === 1 ? found : c.live(raw);
    if (!s) {
      // Exactly one caller gets each copy (GETDEL). One that expired meanwhile was no active session: nothing to tell.
      if (raw) await noticeTold(c, part, change.id);
      continue;
    }
    revoked.push(s);
    await each?.(s, change, part);
  }
  return revoked;
}

/** The notice of revocation `id` in partition `p` was told (audited, SETs queued): removed, with its audited mark. */
export async function noticeTold(c: ListingContext, p: number, id: string): Promise<void> {
  await c.redis.hdel(c.keys.revocationNotices(p), id, `${id}:audited`).catch(storeError);
}

/** The audit entry of revocation `id` is written: a teller after a crash does not write it again. */
export async function noticeAudited(c: ListingContext, p: number, id: string): Promise<void> {
  await c.redis.hset(c.keys.revocationNotices(p), `${id}:audited`, '1').catch(storeError);
}

/** Claims up to `max` of partition `p`'s notices not held by a teller for `staleMs` (src/redis/scripts/revoke-notices-claim-1.lua). */
export async function claimNotices(c: ListingContext, p: number, staleMs: number, max = 100): Promise<Array<{ notice: RevocationNotice; audited: boolean }>> {
  const flat = await scriptsOn(c.redis).revokeNoticesClaim(c.keys.revocationNotices(p), String(staleMs), String(max)).catch(storeError);
  const out: Array<{ notice: RevocationNotice; audited: boolean }> = [];
  for (let i = 0; i + 2 < flat.length; i += 3) {
    const n = parseNotice(flat[i + 1]!);
    if (n) out.push({ notice: n, audited: flat[i + 2] === '1' });
    else await noticeTold(c, p, flat[i]!); // unreadable here: nothing could ever tell it
  }
  return out;
}
