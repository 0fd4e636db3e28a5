import type { BehaviorConfig } from '../config/behaviors-schema.js';
import { recordBehaviors, restoreBehaviors } from '../engine/behavior-epochs.js';
import { bumpSprayGeneration } from '../ingest/spray-generation.js';
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis/client.js';
import type { BehaviorEpochs } from '../risk/behavior-epochs.js';

/**
 * Records in Redis, before a configuration's behaviors apply (a worker's start; a reload, with the
 * `running` ones), which are off and which are on again, so that one turned off and on again starts
 * afresh on every worker: password_spray's IP tallies (src/ingest/spray-generation.ts) and every
 * behavior's per-user memory (src/engine/behavior-epochs.ts). With `known` (the on-epochs the
 * worker's owners follow), the epochs are first put back if Redis lost them, with the `running`
 * configuration's off marks (restoreBehaviors), so that a behavior it turns on again is seen.
 */
export async function recordTurned(
  redis: RedisClient,
  keys: Keys,
  behaviors: readonly BehaviorConfig[],
  running?: readonly BehaviorConfig[],
  known?: BehaviorEpochs,
): Promise<void> {
  if (running && known) await restoreBehaviors(redis, keys, running, known);
  await bumpSprayGeneration(redis, keys, behaviors, running);
  await recordBehaviors(redis, keys, behaviors);
}
