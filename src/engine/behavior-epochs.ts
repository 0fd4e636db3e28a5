/**
 * The behaviors' on-epochs in Redis (Keys.behaviorEpochs, one hash every worker of the prefix
 * shares): {@link recordBehaviors} records a configuration before it applies (a worker's start, each
 * reload) — a behavior off in it is marked off; one on in it that a worker marked off is turned on
 * again at a new epoch (behaviors-epoch-1.lua, atomic) —, and each owner follows the epochs
 * ({@link behaviorEpochs}: one HGETALL per configuration it is given, then in the background, never
 * per event), so that the reducer drops what a behavior turned on again remembered
 * (src/risk/behavior-epochs.ts). Recorded in Redis, it holds across workers and restarts: a worker
 * restarted while a behavior is off marks it at its start.
 */
import type { Cluster } from 'ioredis';
import type { BehaviorConfig } from '../config/behaviors-schema.js';
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis/client.js';
import { follow, type Followed } from '../redis/followed.js';
import { scriptsOn } from '../redis/scripts.js';
import { NO_EPOCHS, type BehaviorEpochs } from '../risk/behavior-epochs.js';

/** How often an owner reads the epochs again while its configuration stays (ms). */
export const BEHAVIOR_EPOCHS_REFRESH_MS = 5_000;

/**
 * Records `behaviors` (a configuration about to apply: call it before a worker starts, or a reload
 * applies, with it). Resolves with the epoch and how many behaviors it turned on again.
 */
export async function recordBehaviors(
  redis: RedisClient | Cluster,
  keys: Keys,
  behaviors: readonly BehaviorConfig[],
): Promise<{ epoch: number; again: number }> {
  const on = behaviors.filter((b) => b.enabled).map((b) => b.id);
  const off = behaviors.filter((b) => !b.enabled).map((b) => b.id);
  const [epoch, again] = await scriptsOn(redis).behaviorsEpoch(keys.behaviorEpochs(), on.length, ...on, ...off);
  return { epoch, again };
}

/** The epochs in the hash's fields (`epoch`, `on:<id>`; the `off:` marks are not the owners'). */
export function epochsOf(hash: Record<string, string>): BehaviorEpochs {
  const on: Record<string, number> = {};
  for (const [f, v] of Object.entries(hash)) if (f.startsWith('on:')) on[f.slice(3)] = Number(v) || 0;
  return { current: Number(hash.epoch) || 0, on };
}

/**
 * The epochs as one owner follows them (src/redis/followed.ts): {@link Followed.current} with the
 * configuration's behaviors array before each step. A read holds the whole hash at once: the one
 * with the higher counter is the later.
 */
export function behaviorEpochs(
  redis: RedisClient | Cluster,
  keys: Keys,
  o: { refreshMs?: number; now?: () => number; onError?: (err: unknown) => void } = {},
): Followed<BehaviorEpochs> {
  return follow(() => redis.hgetall(keys.behaviorEpochs()).then(epochsOf), {
    ...o,
    initial: NO_EPOCHS,
    merge: (known, read) => (read.current >= known.current ? read : known),
    refreshMs: o.refreshMs ?? BEHAVIOR_EPOCHS_REFRESH_MS,
  });
}
