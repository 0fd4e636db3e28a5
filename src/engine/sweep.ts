import { pipeline, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { expire, type ReduceResult } from '../risk/reducer.js';
import { RiskStore } from '../risk/store.js';
import { compareIds, type UserState } from '../risk/state.js';
import type { Owned } from './owner-types.js';

/** What {@link sweepDue} needs from the owner, and tells it. */
export interface SweepHooks {
  /** Owned partitions ready to sweep (their positions loaded). */
  partitions(): number[];
  owns(partition: number): boolean;
  /** The partition's positions: the last entry id read and applied (`cursor`), and its last applied item's key (`applied`). */
  position(partition: number): Pick<Owned, 'cursor' | 'applied'>;
  /** A user's state in memory (uncommitted, in flight or cached), if any. */
  current(user: string, partition: number): UserState | undefined;
  /** `user`'s state after expiring what is due (applied in memory, committed with the next commit). */
  expired(partition: number, user: string, r: ReduceResult): void;
}

/**
 * The expiry sweep of an owner's partitions: the users due in each partition's expiry index (at most
 * `limit` each), their behaviors past expiry dropped (a level change when the level falls). An index
 * entry without a readable state is removed: it would be due forever and hide the entries behind it.
 * A partition whose stream holds entries the owner has not applied yet (a backlog larger than one
 * read, a read sent ahead) is swept only up to just before its last applied item's arrival: the
 * entries waiting arrived after that item (items are in arrival order) but may have arrived before
 * `now`, and an expiry must not come before an item that arrived earlier. The rest waits for a
 * later sweep, the expiry then delayed by the backlog alone. Returns how many users were swept.
 */
export async function sweepDue(redis: RedisClient, keys: Keys, now: number, limit: number, hooks: SweepHooks): Promise<number> {
  const parts = hooks.partitions();
  if (!parts.length) return 0;
  const store = new RiskStore(redis, keys);
  const pipe = pipeline(redis);
  for (const p of parts) pipe.zrangebyscore(keys.partitionExpiry(p), '-inf', now, 'WITHSCORES', 'LIMIT', 0, limit);
  const res = (await pipe.exec()) ?? [];
  // The last entry of the streams of partitions with users due (as bytes: only its id is read).
  const withDue = parts.filter((_, i) => ((res[i]?.[1] as string[] | undefined) ?? []).length > 0);
  if (!withDue.length) return 0;
  const lastPipe = pipeline(redis);
  for (const p of withDue) lastPipe.xrevrangeBuffer(keys.partitionIn(p), '+', '-', 'COUNT', 1);
  const lasts = new Map(((await lastPipe.exec()) ?? []).map(([err, r], i) => [withDue[i]!, err ? null : (r as Array<[Buffer, Buffer[]]>)[0]?.[0]?.toString()]));
  let n = 0;
  for (const [i, p] of parts.entries()) {
    if (!lasts.has(p)) continue;
    const last = lasts.get(p);
    const at = hooks.position(p);
    // A stream not read (an error): nothing swept there this time.
    const until = last === null ? -Infinity : last !== undefined && compareIds(last, at.cursor) > 0 ? Math.min(now, at.applied.ms - 1) : now;
    const due = res[i]![1] as string[];
    for (let j = 0; j < due.length && Number(due[j + 1]) <= until; j += 2) {
      const user = due[j]!;
      if (!hooks.owns(p)) break;
      const state = hooks.current(user, p) ?? (await store.get(user))?.state;
      if (!hooks.owns(p)) break;
      if (!state) {
        await redis.zrem(keys.partitionExpiry(p), user);
        continue;
      }
      hooks.expired(p, user, expire(state, until));
      n++;
    }
  }
  return n;
}
