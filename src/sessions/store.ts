import { byPartition, isCluster, type RedisClient } from '../redis/client.js';
import { commandKeys, commitArgs } from '../redis/commit-keys.js';
import { RiskstreamError } from '../errors.js';
import { asSlotMigrating } from '../redis/slot-moving.js';
import type { Keys } from '../keys.js';
import { packOps } from '../redis/pack-ops.js';
import { defineScripts, scriptsOn } from '../redis/scripts.js';
import { storedSessionId, type SessionIdentity } from './identity.js';
import type { DeviceIdentity } from './device-identity.js';
import type { RevocationNotice } from './revocation.js';
import { listAllSessions, listUserSessions, pruneExpiredSessions, type ListingContext, type SessionPage } from './listing.js';
import { readPutReplies, type PutResult } from './put-outcome.js';
import { sessionPutOps } from './put-ops.js';
import { redactClaimsNow } from './redact.js';
import { findCopies, identityOf, lookupSessions, userDevices } from './store-reads.js';
import { claimNotices, noticeAudited, noticeTold, revokeCopies, type RevokedCopy, type RevokeMeta } from './store-revoke.js';

export type { PutResult } from './put-outcome.js';
export type { SessionPage } from './listing.js';

/** Options of a {@link SessionStore}. */
export interface SessionStoreOptions {
  /** Sessions (and devices) kept per user; the soonest-expiring are dropped first. Default 100. */
  maxPerUser?: number | (() => number);
  /** How long a user's device registry is kept after its last update (ms). Default 90 days. */
  deviceRetention?: number;
  /** Clock (epoch ms); injectable for tests. */
  now?: () => number;
  /**
   * The claim names redacted now (`sessions.redact_claims`, re-read on every read for reloads): the
   * identities read for admins (get, listings, revocations) have them "[redacted]" whenever stored.
   */
  redactClaims?: () => readonly string[];
  /** True: reads write nothing (stale index members skipped, not pruned), for a read-only Redis user. */
  readOnly?: boolean;
}

/** Identities ready for a commit: the commands, and what reads their outcomes afterwards. */
export interface PreparedPut {
  ops: string[][];
  /** The identities not yet expired, one SPUT each in this order (absent: none). */
  live?: readonly SessionIdentity[];
  /** Their users, one SUSER each in this order (its reply: the user's session ids trimmed). */
  users?: readonly string[];
  /** Reads the outcomes (SPUT replies, SUSER replies, in order) and cleans up. */
  finish(puts: readonly unknown[], dropped: readonly string[][]): Promise<PutResult>;
}

/**
 * Redis store of session identities. A session lives in its user's partition (written by that
 * partition's commit, one slot): JSON at `keys.session(p, id)` with a TTL equal to its remaining
 * lifetime; ids are indexed per user (`userSessions`, by expiry) and per partition (by login time
 * for newest-first listing, by expiry for pruning), the partitions' indexes merged when listed.
 * Stale index members are pruned lazily. Revoked sessions leave a tombstone so a replayed login
 * cannot bring them back. Within a partition a session id stays bound to the user who first logged
 * in with it (another user's login with the same id is refused, `PutResult.refused`); a lookup by
 * id alone reads every partition and answers the earliest login, so the first binding wins there too.
 * Needs Redis ≥ 6.2 (ZADD GT, GETDEL).
 */
export class SessionStore {
  private readonly now: () => number;
  private readonly maxPerUser: () => number;
  private readonly deviceRetention: number;
  private readonly ctx: ListingContext;
  private readonly redactClaims: () => readonly string[];

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    opts: SessionStoreOptions = {},
  ) {
    defineScripts(redis);
    this.now = opts.now ?? Date.now;
    this.deviceRetention = opts.deviceRetention ?? 90 * 86_400_000;
    this.redactClaims = opts.redactClaims ?? (() => []);
    const max = opts.maxPerUser ?? 100;
    this.maxPerUser = typeof max === 'function' ? max : () => max;
    this.ctx = { redis, keys, now: () => this.now(), live: (raw) => this.live(raw), readOnly: opts.readOnly === true };
  }

  /** The tombstone key of a revoked session of `user` (beside the session). */
  tombstoneKey(user: string, id: string): string {
    return this.keys.sessionTombstone(this.keys.partitionOf(user), id);
  }

  /**
   * The commands storing identities (`SPUT`, `SIDX` and `SUSER`, procedures of the engine's commit
   * script, src/redis/scripts/engine-commit-n.lua) for a partition's commit; `finish` reads that
   * script's outcomes. The script itself keeps revoked replays and refused logins out of every index
   * and deletes trimmed sessions: nothing is left to a round trip after it. The identities must all
   * be of one partition's users (a commit's).
   */
  prepare(identities: readonly SessionIdentity[]): PreparedPut {
    const { ops, live, users, skipped, unlisted, ended } = sessionPutOps(this.keys, identities, {
      now: this.now(),
      maxPerUser: this.maxPerUser(),
      deviceRetention: this.deviceRetention,
    });
    if (!live.length) return { ops, finish: async () => ({ stored: 0, skipped, dropped: [] }) };
    return {
      ops,
      live,
      users,
      // Nothing to clean up after the script: it keeps the logins it did not store out of every index.
      finish: async (puts, dropped) => readPutReplies(live, users, [...puts, 'OK', 'OK', ...dropped], skipped, unlisted, ended).result,
    };
  }

  /**
   * Stores identities now (one script call per partition; a second round trip only to clean up).
   * SLOT_MIGRATING when a partition's script was refused while a Redis Cluster slot of its keys migrates.
   */
  async put(identities: readonly SessionIdentity[]): Promise<PutResult> {
    const total: PutResult = { stored: 0, skipped: 0, dropped: [] };
    for (const [p, list] of byPartition(identities, (s) => this.keys.partitionOf(s.user))) {
      const prepared = this.prepare(list);
      let r: PutResult;
      if (!prepared.ops.length) r = await prepared.finish([], []);
      else {
        // No lease (''): the keys only route the script to the partition's slot.
        const declared = isCluster(this.redis) ? commandKeys(prepared.ops, new Set()) : undefined;
        const args = commitArgs(this.keys.engineLease(`p${p}`), this.keys.partitionPos(p), ['', packOps(prepared.ops), '', ''], declared);
        // Refused whole while a slot of the partition's keys migrates: the engine's code, not Redis's reply.
        const res = await scriptsOn(this.redis)
          .engineCommit(...args)
          .catch((err: unknown) => {
            throw asSlotMigrating(err, `session store: partition ${p}'s put`);
          });
        if (res === -1) throw new RiskstreamError('INTERNAL', 'session store: unexpected fencing');
        r = await prepared.finish(res[1], res[2]);
      }
      total.stored += r.stored;
      total.skipped += r.skipped;
      total.dropped.push(...r.dropped);
      if (r.refused) (total.refused ??= []).push(...r.refused);
      if (r.signedOut) (total.signedOut ??= []).push(...r.signedOut);
    }
    return total;
  }

  /**
   * The stored identity, or null when unknown or expired. Accepts a raw token as id (looked up by
   * fingerprint). With `user`, only that user's partition is read; else every partition, and the
   * earliest login wins (the first binding of the id).
   */
  async get(id: string, user?: string): Promise<SessionIdentity | null> {
    const found = await findCopies(this.ctx, storedSessionId(id.trim()), user);
    return found[0]?.s ?? null;
  }

  /**
   * The stored identities of sessions (by user and stored id), and whether each was revoked (its
   * tombstone), in one read. An identity is returned while Redis keeps it, expired on the wall clock
   * or not: whether a use lies in its session's window is the caller's to judge, in event time
   * (src/sessions/baseline.ts).
   */
  lookupMany(pairs: ReadonlyArray<{ sid: string; user: string }>): Promise<Array<{ s: SessionIdentity | null; revoked: boolean }>> {
    return lookupSessions(this.ctx, pairs);
  }

  /** Active sessions, newest login first, `limit` (1–500, default 50) per page. */
  listAll(opts: { cursor?: string | undefined; limit?: number | undefined } = {}): Promise<SessionPage> {
    return listAllSessions(this.ctx, opts);
  }

  /** A user's active sessions, newest login first. */
  listUser(user: string): Promise<SessionIdentity[]> {
    return listUserSessions(this.ctx, user);
  }

  /** The user's device registry: latest identity per device, most recently seen first. */
  devices(user: string): Promise<DeviceIdentity[]> {
    return userDevices(this.ctx, user);
  }

  /**
   * Deletes a session and its index members, leaving a tombstone (`{user, actor, reason, time, call}`) for its
   * remaining lifetime. Returns the revoked identity, or null when unknown/expired (or revoked
   * concurrently: exactly one caller gets the identity). With `user`, only that user's copy.
   */
  async revoke(id: string, meta: RevokeMeta, user?: string): Promise<SessionIdentity | null> {
    return (await this.revokeCopies(id, meta, user))[0] ?? null;
  }

  /**
   * {@link revoke}, returning every identity it removed, earliest login first: a session id that
   * users of different partitions logged in with has one copy per user (see docs/sessions.md),
   * and each revoked copy is its user's revocation (audit entry, session-revoked SET). `each` is
   * called after each copy is revoked, before the next: a throw stops there, the rest stay live.
   * With `startedBefore`, only a copy whose login is before it.
   */
  revokeCopies(id: string, meta: RevokeMeta, user?: string, each?: RevokedCopy, startedBefore?: number): Promise<SessionIdentity[]> {
    return revokeCopies(this.ctx, id, meta, user, each, startedBefore);
  }

  /** The notice of revocation `id` in partition `p` was told (audited, SETs queued): removed, with its audited mark. */
  noticeTold(p: number, id: string): Promise<void> {
    return noticeTold(this.ctx, p, id);
  }

  /** The audit entry of revocation `id` is written: a teller after a crash does not write it again. */
  noticeAudited(p: number, id: string): Promise<void> {
    return noticeAudited(this.ctx, p, id);
  }

  /** Claims up to `max` of partition `p`'s notices not held by a teller for `staleMs` (src/redis/scripts/revoke-notices-claim-1.lua). */
  claimNotices(p: number, staleMs: number, max = 100): Promise<Array<{ notice: RevocationNotice; audited: boolean }>> {
    return claimNotices(this.ctx, p, staleMs, max);
  }

  /** Revokes every active session of a user; returns the revoked identities. `each` as in {@link revokeCopies}. */
  async revokeUser(user: string, meta: RevokeMeta, each?: RevokedCopy): Promise<SessionIdentity[]> {
    const out: SessionIdentity[] = [];
    for (const s of await this.listUser(user)) out.push(...(await this.revokeCopies(s.session_id, meta, user, each)));
    return out;
  }

  /** Removes index members whose expiry has passed, in partitions `parts` (default every one; bounded per partition and call). */
  pruneExpired(parts?: readonly number[]): Promise<number> {
    return pruneExpiredSessions(this.ctx, parts);
  }

  private live(raw: string | null): SessionIdentity | null {
    const s = identityOf(raw);
    // A session a sign-out ended is over, even when the sign-out's time is still ahead of the clock.
    if (!s || s.expires_at <= this.now() || s.signed_out_at !== undefined) return null;
    const claims = redactClaimsNow(s.claims, this.redactClaims());
    return claims === s.claims ? s : { ...s, claims };
  }
}
