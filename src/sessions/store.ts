import { pipeline, type RedisClient } from '../redis/client.js';
import { RiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';
import { packOps } from '../redis/pack-ops.js';
import { defineScripts, scriptsOn } from '../redis/scripts.js';
import { clampPx, LUA_MAX_TTL_MS } from '../redis/ttl.js';
import { deviceIdentity, storedSessionId, type DeviceIdentity, type SessionIdentity } from './identity.js';
import { decodeCursor, encodeCursor, zrevAfter, type CursorPos } from './cursor.js';
import { cleanupAfterPut, needsCleanup, readPutReplies, type PutResult } from './put-outcome.js';

export type { PutResult } from './put-outcome.js';

/** Options of a {@link SessionStore}. */
export interface SessionStoreOptions {
  /** Sessions (and devices) kept per user; the soonest-expiring are dropped first. Default 100. */
  maxPerUser?: number | (() => number);
  /** How long a user's device registry is kept after its last update (ms). Default 90 days. */
  deviceRetention?: number;
  /** Clock (epoch ms); injectable for tests. */
  now?: () => number;
}

/** Identities ready for a commit: the commands, and what reads their outcomes afterwards. */
export interface PreparedPut {
  ops: string[][];
  /** Reads the outcomes (SPUT replies, SUSER replies, in order) and cleans up. */
  finish(puts: readonly unknown[], dropped: readonly string[][]): Promise<PutResult>;
}

/** One page of {@link SessionStore.listAll}. */
export interface SessionPage {
  sessions: SessionIdentity[];
  /** Opaque; pass back as `cursor` for the next page. Null on the last page. */
  next_cursor: string | null;
}

const DEFAULT_LIMIT = 50;
const MAX_LIMIT = 500;
/** How long a revocation tombstone outlives the session at least (blocks replays of its login). */
const TOMBSTONE_MIN_MS = 60_000;
const PRUNE_BATCH = 500;

/**
 * Redis store of session identities. Session JSON lives at `keys.session(id)` with a TTL equal to
 * its remaining lifetime; ids are indexed per user (`userSessions`, by expiry) and globally (by
 * login time for newest-first listing, by expiry for pruning). Stale index members are pruned
 * lazily. Revoked sessions leave a tombstone so a replayed login cannot bring them back. A session
 * id stays bound to the user who first logged in with it: another user's login with the same id
 * is refused (`PutResult.refused`), never a takeover.
 * Needs Redis ≥ 6.2 (ZADD GT, GETDEL); the global indexes assume a single Redis node.
 */
export class SessionStore {
  private readonly now: () => number;
  private readonly maxPerUser: () => number;
  private readonly deviceRetention: number;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    opts: SessionStoreOptions = {},
  ) {
    defineScripts(redis);
    this.now = opts.now ?? Date.now;
    this.deviceRetention = opts.deviceRetention ?? 90 * 86_400_000;
    const max = opts.maxPerUser ?? 100;
    this.maxPerUser = typeof max === 'function' ? max : () => max;
  }

  /** The tombstone key of a revoked session (same hash tag as the session). */
  tombstoneKey(id: string): string {
    return this.keys.sessionTombstone(id);
  }

  /**
   * The commands storing identities (`SPUT` / `SUSER` procedures of the engine's commit script,
   * src/redis/scripts/engine-commit-2.lua, plus the global index ZADDs), for a partition's commit;
   * `finish` reads that script's outcomes and cleans up what they ask for (revoked replays, refused
   * logins, trimmed sessions).
   */
  prepare(identities: readonly SessionIdentity[]): PreparedPut {
    const now = this.now();
    const live = identities.filter((s) => s.expires_at > now);
    const skipped = identities.length - live.length;
    const ops: string[][] = [];
    if (!live.length) return { ops, finish: async () => ({ stored: 0, skipped, dropped: [] }) };
    const byUser = new Map<string, { sessions: SessionIdentity[]; devices: Map<string, DeviceIdentity> }>();
    for (const s of live) {
      let u = byUser.get(s.user);
      if (!u) byUser.set(s.user, (u = { sessions: [], devices: new Map() }));
      u.sessions.push(s);
      const d = deviceIdentity(s);
      if (d && (u.devices.get(d.id)?.last_seen ?? -Infinity) <= d.last_seen) u.devices.set(d.id, d);
    }
    const k = this.keys;
    const byLogin: string[] = [];
    const byExpiry: string[] = [];
    for (const s of live) {
      ops.push([
        'SPUT',
        k.session(s.session_id),
        this.tombstoneKey(s.session_id),
        JSON.stringify(s),
        String(clampPx(s.expires_at - now)),
        String(s.login_at),
        s.user,
      ]);
      byLogin.push(String(s.login_at), s.session_id);
      byExpiry.push(String(s.expires_at), s.session_id);
    }
    // The global indexes: one multi-member ZADD each.
    ops.push(['ZADD', k.sessionsByLogin, 'GT', ...byLogin]);
    ops.push(['ZADD', k.sessionsByExpiry, 'GT', ...byExpiry]);
    const max = this.maxPerUser();
    const users = [...byUser.entries()];
    for (const [user, u] of users) {
      const sessions: string[] = [];
      for (const x of u.sessions) sessions.push(String(x.expires_at), x.session_id);
      const devices: string[] = [];
      for (const d of u.devices.values()) devices.push(d.id, String(d.last_seen), JSON.stringify(d));
      ops.push([
        'SUSER',
        k.userSessions(user),
        k.userDevices(user),
        JSON.stringify([String(now), String(max), String(this.deviceRetention), sessions, devices]),
        String(LUA_MAX_TTL_MS),
      ]);
    }
    return {
      ops,
      finish: async (puts, dropped) => {
        const outcome = readPutReplies(
          live,
          users.map(([u]) => u),
          [...puts, 'OK', 'OK', ...dropped],
          skipped,
        );
        if (needsCleanup(outcome)) {
          const c = pipeline(this.redis);
          cleanupAfterPut(c, k, outcome);
          await exec(c);
        }
        return outcome.result;
      },
    };
  }

  /** Stores identities now (one script call; a second round trip only to clean up). */
  async put(identities: readonly SessionIdentity[]): Promise<PutResult> {
    const prepared = this.prepare(identities);
    if (!prepared.ops.length) return prepared.finish([], []);
    const r = await scriptsOn(this.redis).engineCommit('', '', '', packOps(prepared.ops), '', '');
    if (r === -1) throw new RiskstreamError('INTERNAL', 'session store: unexpected fencing');
    return prepared.finish(r[1], r[2]);
  }

  /** The stored identity, or null when unknown or expired. Accepts a raw token as id (looked up by fingerprint). */
  async get(id: string): Promise<SessionIdentity | null> {
    const raw = await this.redis.get(this.keys.session(storedSessionId(id)));
    return this.live(raw);
  }

  /** Active sessions, newest login first, `limit` (1–500, default 50) per page. */
  async listAll(opts: { cursor?: string | undefined; limit?: number | undefined } = {}): Promise<SessionPage> {
    const limit = opts.limit ?? DEFAULT_LIMIT;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
      throw new RiskstreamError('BAD_REQUEST', `limit must be an integer from 1 to ${MAX_LIMIT}`);
    }
    const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
    await this.pruneExpired();
    const found: Array<{ s: SessionIdentity; pos: CursorPos }> = [];
    const stale: string[] = [];
    const chunk = Math.min(limit * 2 + 16, 1000);
    for await (const cands of zrevAfter(this.redis, this.keys.sessionsByLogin, { min: '-inf' }, after, chunk)) {
      const vals = await this.redis.mget(cands.map((c) => this.keys.session(c.member)));
      cands.forEach((pos, i) => {
        const s = this.live(vals[i] ?? null);
        if (s) found.push({ s, pos });
        else stale.push(pos.member);
      });
      if (found.length > limit) break;
    }
    if (stale.length)
      await pipeline(this.redis)
        .zrem(this.keys.sessionsByLogin, ...stale)
        .zrem(this.keys.sessionsByExpiry, ...stale)
        .exec();
    const page = found.slice(0, limit);
    const last = page[page.length - 1];
    return { sessions: page.map((f) => f.s), next_cursor: found.length > limit && last ? encodeCursor(last.pos) : null };
  }

  /** A user's active sessions, newest login first. */
  async listUser(user: string): Promise<SessionIdentity[]> {
    const key = this.keys.userSessions(user);
    const res = await exec(pipeline(this.redis).zremrangebyscore(key, '-inf', this.now()).zrange(key, 0, -1));
    const ids = (res[1] as string[]) ?? [];
    if (!ids.length) return [];
    const vals = await this.redis.mget(ids.map((id) => this.keys.session(id)));
    const out: SessionIdentity[] = [];
    const stale: string[] = [];
    ids.forEach((id, i) => {
      const s = this.live(vals[i] ?? null);
      if (s && s.user === user) out.push(s);
      else stale.push(id);
    });
    if (stale.length) await this.redis.zrem(key, ...stale);
    return out.sort((a, b) => b.login_at - a.login_at);
  }

  /** The user's device registry: latest identity per device, most recently seen first. */
  async devices(user: string): Promise<DeviceIdentity[]> {
    const all = await this.redis.hvals(this.keys.userDevices(user));
    const out: DeviceIdentity[] = [];
    for (const v of all) {
      const d = parse<DeviceIdentity>(v);
      if (d) out.push(d);
    }
    return out.sort((a, b) => b.last_seen - a.last_seen);
  }

  /**
   * Deletes a session and its index members, leaving a tombstone (`{actor, reason, time}`) for its
   * remaining lifetime. Returns the revoked identity, or null when unknown/expired (or revoked
   * concurrently: exactly one caller gets the identity).
   */
  async revoke(id: string, meta: { actor: string; reason: string }): Promise<SessionIdentity | null> {
    const sid = storedSessionId(id);
    const raw = await this.redis.getdel(this.keys.session(sid));
    const s = this.live(raw);
    const user = s?.user ?? parse<SessionIdentity>(raw)?.user;
    const p = pipeline(this.redis).zrem(this.keys.sessionsByLogin, sid).zrem(this.keys.sessionsByExpiry, sid);
    if (user) p.zrem(this.keys.userSessions(user), sid);
    if (s) {
      const px = clampPx(s.expires_at - this.now(), TOMBSTONE_MIN_MS);
      p.set(this.tombstoneKey(sid), JSON.stringify({ user: s.user, actor: meta.actor, reason: meta.reason, time: this.now() }), 'PX', px);
    }
    await exec(p);
    return s;
  }

  /** Revokes every active session of a user; returns the revoked identities. */
  async revokeUser(user: string, meta: { actor: string; reason: string }): Promise<SessionIdentity[]> {
    const out: SessionIdentity[] = [];
    for (const s of await this.listUser(user)) {
      const r = await this.revoke(s.session_id, meta);
      if (r) out.push(r);
    }
    return out;
  }

  /** Removes global index members whose expiry has passed (bounded per call). */
  async pruneExpired(): Promise<number> {
    const ids = await this.redis.zrangebyscore(this.keys.sessionsByExpiry, '-inf', this.now(), 'LIMIT', 0, PRUNE_BATCH);
    if (ids.length)
      await exec(
        pipeline(this.redis)
          .zrem(this.keys.sessionsByLogin, ...ids)
          .zrem(this.keys.sessionsByExpiry, ...ids),
      );
    return ids.length;
  }

  private live(raw: string | null): SessionIdentity | null {
    const s = parse<SessionIdentity>(raw);
    return s && typeof s.expires_at === 'number' && s.expires_at > this.now() ? s : null;
  }
}

function parse<T>(raw: string | null | undefined): T | null {
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

async function exec(p: { exec(): Promise<Array<[Error | null, unknown]> | null> }): Promise<unknown[]> {
  const res = (await p.exec()) ?? [];
  for (const [err] of res) if (err) throw new RiskstreamError('INTERNAL', `session store: ${err.message}`, undefined, { cause: err });
  return res.map(([, v]) => v);
}
