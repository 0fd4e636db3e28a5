import type { BehaviorConfig } from '../config/behaviors-schema.js';
import { recordBehaviors } from '../engine/behavior-epochs.js';
import { bumpSprayGeneration } from '../ingest/spray-generation.js';
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis/client.js';

/**
 * Records in Redis, before a configuration's behaviors apply (a worker's start; a reload, with the
 * `running` ones), which are off and which are on again, so that one turned off and on again starts
 * afresh on every worker: password_spray's IP tallies (src/ingest/spray-generation.ts) and every
 * behavior's per-user memory (src/engine/behavior-epochs.ts).
 */
export async function recordTurned(redis: RedisClient, keys: Keys, behaviors: readonly BehaviorConfig[], running?: readonly BehaviorConfig[]): Promise<void> {
  await bumpSprayGeneration(redis, keys, behaviors, running);
  await recordBehaviors(redis, keys, behaviors);
}
