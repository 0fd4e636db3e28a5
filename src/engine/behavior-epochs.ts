/**
 * The behaviors' on-epochs in Redis (Keys.behaviorEpochs, one hash every worker of the prefix
 * shares): {@link recordBehaviors} records a configuration before it applies (a worker's start, each
 * reload) — a behavior off in it is marked off; one on in it that a worker marked off, or whose
 * counting parameters changed (src/risk/counted-with.ts), is turned on again at a new epoch
 * (behaviors-epoch-1.lua, atomic) —, and each owner follows the epochs
 * ({@link behaviorEpochs}: one HGETALL per configuration it is given, then in the background, never
 * per event), so that the reducer drops what a behavior turned on again remembered
 * (src/risk/behavior-epochs.ts). Recorded in Redis, it holds across workers and restarts: a worker
 * restarted while a behavior is off marks it at its start. Lost (a Redis restarted empty), it is
 * put back by the running workers ({@link restoreBehaviors}), never below what their owners follow.
 */
import type { Cluster } from 'ioredis';
import type { BehaviorConfig } from '../config/behaviors-schema.js';
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis/client.js';
import { follow, LOST_COUNTER_MARGIN, type Followed } from '../redis/followed.js';
import { scriptsOn } from '../redis/scripts.js';
import { NO_EPOCHS, type BehaviorEpochs } from '../risk/behavior-epochs.js';
import { countedDigest } from '../risk/counted-with.js';

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
  const on = behaviors.filter((b) => b.enabled);
  const off = behaviors.filter((b) => !b.enabled).map((b) => b.id);
  const pairs = on.flatMap((b) => [b.id, countedDigest(b)]);
  const [epoch, again] = await scriptsOn(redis).behaviorsEpoch(keys.behaviorEpochs(), on.length, ...pairs, ...off);
  return { epoch, again };
}

/**
 * Puts back, when it was lost (a Redis restarted empty under running workers), what this worker
 * knows (`known`: its owners' view) — a counter below it raised to it plus {@link LOST_COUNTER_MARGIN},
 * each on-epoch raised to at least it, never lowered (behaviors-restore-1.lua) —, and, when the
 * hash is missing, its running configuration's off marks. One script call, for the worker's
 * upkeep and before a reload records. Resolves with whether the hash was missing and written again
 * (not when there was nothing to write: no behaviors configured, no epoch given yet).
 */
export async function restoreBehaviors(redis: RedisClient | Cluster, keys: Keys, running: readonly BehaviorConfig[], known: BehaviorEpochs): Promise<boolean> {
  const enabled = running.filter((b) => b.enabled);
  const on = enabled.map((b) => b.id);
  // Off as the record has it: configured off, or known and no longer configured on.
  const off = [...new Set([...running.filter((b) => !b.enabled).map((b) => b.id), ...Object.keys(known.on).filter((id) => !on.includes(id))])];
  const triples = enabled.flatMap((b) => [b.id, known.on[b.id] ?? 0, countedDigest(b)]);
  const [missing, written] = await scriptsOn(redis).behaviorsRestore(keys.behaviorEpochs(), known.current, LOST_COUNTER_MARGIN, on.length, ...triples, ...off);
  return missing === 1 && written > 0;
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
