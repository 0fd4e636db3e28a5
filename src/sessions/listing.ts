import { byPartition, getAll, pipeline, type RedisClient } from '../redis/client.js';
import type { ChainableCommander } from 'ioredis';
import { RiskstreamError } from '../errors.js';
import { queueScript } from '../redis/scripts.js';
import type { Keys } from '../keys.js';
import type { SessionIdentity } from './identity.js';
import { compareMembers, decodeCursor, encodeCursor, zrevAfterMerged, type CursorPos } from './cursor.js';

/** One page of active sessions. */
export interface SessionPage {
  sessions: SessionIdentity[];
  /** Opaque; pass back as `cursor` for the next page. Null on the last page. */
  next_cursor: string | null;
}

const DEFAULT_LIMIT = 50;
/** Most sessions one page lists (the API and the CLI check it alike). */
export const MAX_LIMIT = 500;
const PRUNE_BATCH = 500;

/** What the listing queries read with: the store's connection, keys, clock and liveness rule. */
export interface ListingContext {
  redis: RedisClient;
  keys: Keys;
  now: () => number;
  /** The identity stored as `raw` when it is live (parsed, not expired), else null. */
  live: (raw: string | null) => SessionIdentity | null;
  /**
   * True: the listings write nothing — stale index members are skipped, not pruned — so they run
   * as a read-only Redis user (the CLI's read commands, docs/operations.md). Default false.
   */
  readOnly?: boolean;
}

/**
 * Active sessions of every partition, newest login first, `limit` (1–500, default 50) per page:
 * the partitions' by-login indexes merged; members whose session is gone are pruned on the way.
 */
export async function listAllSessions(c: ListingContext, opts: { cursor?: string | undefined; limit?: number | undefined } = {}): Promise<SessionPage> {
  const limit = opts.limit ?? DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_LIMIT) {
    throw new RiskstreamError('BAD_REQUEST', `limit must be an integer from 1 to ${MAX_LIMIT}`);
  }
  const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
  if (!c.readOnly) await pruneExpiredSessions(c);
  const found: Array<{ s: SessionIdentity; pos: CursorPos }> = [];
  const stale: Array<{ p: number; id: string }> = [];
  const chunk = Math.min(limit * 2 + 16, 1000);
  const shards = c.keys.partitionList.map((p) => c.keys.sessionsByLogin(p));
  for await (const cands of zrevAfterMerged(c.redis, shards, { min: '-inf' }, after, chunk)) {
    const vals = await getAll(
      c.redis,
      cands.map((x) => c.keys.session(x.shard, x.member)),
    ).catch(storeError);
    cands.forEach((pos, i) => {
      const s = c.live(vals[i] ?? null);
      if (s) found.push({ s, pos: { score: pos.score, member: pos.member, shard: pos.shard } });
      else stale.push({ p: pos.shard, id: pos.member });
    });
    if (found.length > limit) break;
  }
  if (stale.length && !c.readOnly) {
    const clean = pipeline(c.redis);
    for (const [p, list] of byPartition(stale, (x) => x.p))
      queuePrune(
        clean,
        c,
        'gone',
        p,
        '',
        list.map((x) => x.id),
      );
    await clean.exec();
  }
  const page = found.slice(0, limit);
  const last = page[page.length - 1];
  return { sessions: page.map((f) => f.s), next_cursor: found.length > limit && last ? encodeCursor(last.pos) : null };
}

/** A user's active sessions, newest login first, ties by session id descending (stale members of the user's index pruned). */
export async function listUserSessions(c: ListingContext, user: string): Promise<SessionIdentity[]> {
  const key = c.keys.userSessions(user);
  const read = c.readOnly
    ? pipeline(c.redis).zrangebyscore(key, `(${c.now()}`, '+inf')
    : pipeline(c.redis).zremrangebyscore(key, '-inf', c.now()).zrange(key, 0, -1);
  const ids = ((await execAll(read)).at(-1) as string[]) ?? [];
  if (!ids.length) return [];
  const p = c.keys.partitionOf(user);
  const vals = await c.redis.mget(ids.map((id) => c.keys.session(p, id)));
  const out: SessionIdentity[] = [];
  const stale: string[] = [];
  ids.forEach((id, i) => {
    const s = c.live(vals[i] ?? null);
    if (s && s.user === user) out.push(s);
    else stale.push(id);
  });
  if (stale.length && !c.readOnly) await execAll(queuePrune(pipeline(c.redis), c, 'gone', p, user, stale));
  // Newest login first; logins of one instant by session id descending in UTF-8 bytes, as the
  // all-sessions listing (ZREVRANGE of the by-login index) gives them (UTF-16 units differ past the BMP).
  return out.sort((a, b) => b.login_at - a.login_at || compareMembers(b.session_id, a.session_id));
}

/**
 * Removes index members whose expiry has passed, in partitions `parts` (default every partition;
 * at most 500 per partition and call): the listing's, and the worker's upkeep for its partitions.
 */
export async function pruneExpiredSessions(c: ListingContext, parts: readonly number[] = c.keys.partitionList): Promise<number> {
  const read = pipeline(c.redis);
  for (const p of parts) read.zrangebyscore(c.keys.sessionsByExpiry(p), '-inf', c.now(), 'LIMIT', 0, PRUNE_BATCH);
  const found = (await execAll(read)) as string[][];
  const clean = pipeline(c.redis);
  let n = 0;
  found.forEach((ids, i) => {
    if (!ids.length) return;
    n += ids.length;
    queuePrune(clean, c, 'expired', parts[i]!, '', ids);
  });
  if (n) await execAll(clean);
  return n;
}

/**
 * Queues the removal of index members the listing found expired (`expired`: by their by-expiry
 * score) or gone (`gone`: no stored identity, an expired one, or — `user` given — another user's):
 * of partition `p`'s indexes, or of `user`'s. Checked again by the script when it runs
 * (src/redis/scripts/session-prune-2.lua), so a session stored again meanwhile keeps its members.
 */
function queuePrune(clean: ChainableCommander, c: ListingContext, mode: 'expired' | 'gone', p: number, user: string, ids: string[]): ChainableCommander {
  const [index, byExpiry] = user ? [c.keys.userSessions(user), c.keys.userSessions(user)] : [c.keys.sessionsByLogin(p), c.keys.sessionsByExpiry(p)];
  return queueScript(clean, 'sessionPrune', index, byExpiry, String(c.now()), mode, c.keys.session(p, ''), user, ...ids);
}

/** A pipeline's replies; the first error as a store error. */
export async function execAll(p: { exec(): Promise<Array<[Error | null, unknown]> | null> }): Promise<unknown[]> {
  const res = (await p.exec()) ?? [];
  for (const [err] of res) if (err) storeError(err);
  return res.map(([, v]) => v);
}

/** A Redis failure of the session store, as `INTERNAL`. */
export function storeError(err: Error): never {
  throw new RiskstreamError('INTERNAL', `session store: ${err.message}`, undefined, { cause: err });
}
