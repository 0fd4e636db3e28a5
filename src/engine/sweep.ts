import { pipeline, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { expire, type ReduceResult } from '../risk/reducer.js';
import { RiskStore } from '../risk/store.js';
import type { UserState } from '../risk/state.js';

/** What {@link sweepDue} needs from the owner, and tells it. */
export interface SweepHooks {
  /** Owned partitions ready to sweep (their positions loaded). */
  partitions(): number[];
  owns(partition: number): boolean;
  /** A user's state in memory (uncommitted, in flight or cached), if any. */
  current(user: string, partition: number): UserState | undefined;
  /** `user`'s state after expiring what is due (applied in memory, committed with the next commit). */
  expired(partition: number, user: string, r: ReduceResult): void;
}

/**
 * The expiry sweep of an owner's partitions: the users due in each partition's expiry index (at most
 * `limit` each), their behaviors past expiry dropped (a level change when the level falls). An index
 * entry without a readable state is removed: it would be due forever and hide the entries behind it.
 * Returns how many users were swept.
 */
export async function sweepDue(redis: RedisClient, keys: Keys, now: number, limit: number, hooks: SweepHooks): Promise<number> {
  const parts = hooks.partitions();
  if (!parts.length) return 0;
  const store = new RiskStore(redis, keys);
  const pipe = pipeline(redis);
  for (const p of parts) pipe.zrangebyscore(keys.partitionExpiry(p), '-inf', now, 'LIMIT', 0, limit);
  const res = (await pipe.exec()) ?? [];
  let n = 0;
  for (const [i, p] of parts.entries()) {
    for (const user of (res[i]?.[1] as string[] | undefined) ?? []) {
      if (!hooks.owns(p)) break;
      const state = hooks.current(user, p) ?? (await store.get(user))?.state;
      if (!hooks.owns(p)) break;
      if (!state) {
        await redis.zrem(keys.partitionExpiry(p), user);
        continue;
      }
      hooks.expired(p, user, expire(state, now));
      n++;
    }
  }
  return n;
}
