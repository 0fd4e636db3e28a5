/**
 * The generation of password_spray's per-IP tallies. The IP sets (Keys.ipLogins / ipSuccesses)
 * are named by a counter in Redis (Keys.ipSprayGeneration) that every worker of the prefix shares.
 * A worker bumps it ({@link bumpSprayGeneration}) before a configuration with no password_spray enabled
 * applies (at its start, or a reload), and again before a reload turns it on, so what was tallied
 * before or while the behavior was off (by an edge still on the old configuration, say) is never
 * read once it is on again: it starts afresh, as a behavior turned on again does (README
 * "Behaviors"), and the old sets expire by their TTL. Recorded in Redis, it holds across workers
 * and restarts (a worker restarted while it is off bumps it at its start).
 * Each edge ({@link sprayGeneration}) follows the counter (src/redis/followed.ts): one GET before the
 * first batch after a reload, then again in the background at most every `refreshMs` (another worker
 * turned it off): never a round trip per event. An edge that reads it below what it has seen (Redis
 * restarted empty) puts it back far above that (counter-raise-1.lua).
 */
import type { Cluster } from 'ioredis';
import type { BehaviorConfig } from '../config/behaviors-schema.js';
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis/client.js';
import { follow, LOST_COUNTER_MARGIN } from '../redis/followed.js';
import { scriptsOn } from '../redis/scripts.js';

/** How often an edge reads the generation again while its configuration stays (ms). */
export const SPRAY_GENERATION_REFRESH_MS = 5_000;

/** True when some password_spray behavior is enabled. */
export function sprayOn(behaviors: readonly BehaviorConfig[]): boolean {
  return behaviors.some((b) => b.enabled && b.kind === 'password_spray');
}

/**
 * Bumps the tallies' generation when `behaviors` have password_spray off (none enabled), or turn it
 * on again after `running` (a reload's running behaviors) had it off: call it before a worker starts,
 * or a reload applies, with that configuration.
 */
export async function bumpSprayGeneration(
  redis: RedisClient | Cluster,
  keys: Keys,
  behaviors: readonly BehaviorConfig[],
  running?: readonly BehaviorConfig[],
): Promise<void> {
  if (!sprayOn(behaviors) || (running && !sprayOn(running))) await redis.incr(keys.ipSprayGeneration());
}

/** An edge's view of the generation: {@link SprayGeneration.current} for each batch. */
export interface SprayGeneration {
  /** The generation to name the IP sets by, for a batch judged with `behaviors`. */
  current(behaviors: readonly BehaviorConfig[]): Promise<number>;
}

/** The generation as one edge follows it (see the file comment; src/redis/followed.ts). */
export function sprayGeneration(
  redis: RedisClient | Cluster,
  keys: Keys,
  o: { refreshMs?: number; now?: () => number; onError?: (err: unknown) => void } = {},
): SprayGeneration {
  let known = 0;
  const read = async (): Promise<number> => {
    const v = Number(await redis.get(keys.ipSprayGeneration())) || 0;
    // Below what this edge has seen: Redis lost the counter (restarted empty). Put back far above
    // it, so that no edge takes the generation for one it has seen (the tallies went with Redis).
    return v < known ? Number(await scriptsOn(redis).counterRaise(keys.ipSprayGeneration(), known, LOST_COUNTER_MARGIN)) : v;
  };
  // The counter only grows: a read that answers late (after a newer one) never moves it back.
  return follow(read, {
    ...o,
    initial: 0,
    merge: (k, r) => (known = Math.max(k, r)),
    refreshMs: o.refreshMs ?? SPRAY_GENERATION_REFRESH_MS,
  });
}
