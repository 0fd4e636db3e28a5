/**
 * The partition count a prefix's data was written with. Users' state, risk events, sessions and
 * routed input live under `{p<n>}` keys chosen by `hash(user) mod engine.partitions`: a worker
 * with another count would look users up in the wrong partitions and never read the input the
 * old count routed. The first worker on a prefix records its count; a later one with another
 * count refuses to start. A prefix written before counts were recorded is checked by its data: a
 * few users of every partition's state hash must be in the partition this count gives them.
 */
import { corked, type RedisClient } from '../redis/client.js';
import { RiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';

/** The most partitions `engine.partitions` allows (src/config/schema.ts): every one is checked. */
const MAX_PARTITIONS = 4096;
/** Users read per partition's state hash when no count is recorded. */
const SAMPLE = 3;

/** Records `keys.partitions` for the prefix, or throws CONFIG_INVALID when it holds another count. */
export async function claimPartitionCount(redis: RedisClient, keys: Keys): Promise<void> {
  const mine = String(keys.partitions);
  let stored = await redis.get(keys.enginePartitions);
  if (stored === null) {
    const misplaced = await misplacedUser(redis, keys);
    if (misplaced)
      throw new RiskstreamError(
        'CONFIG_INVALID',
        `engine.partitions is ${mine}, but the data under prefix ${keys.prefix} was written with another count (a user's state is in partition ${misplaced.stored}, where ${mine} partitions put it in ${misplaced.expected}); users' state and routed input would be looked up in the wrong partitions (set engine.partitions back to the count it was written with, or use an empty prefix)`,
      );
    await redis.set(keys.enginePartitions, mine, 'NX');
    stored = await redis.get(keys.enginePartitions); // another worker's, when it recorded first
  }
  if (stored !== null && stored !== mine) throw otherCount(keys, stored);
}

/**
 * Records `keys.partitions` again if the record is gone (a Redis restarted empty under running
 * workers): `SET NX`, then `GET`, for a running worker's upkeep. Throws CONFIG_INVALID when the prefix
 * holds another count (a worker with another `engine.partitions` recorded it meanwhile). Resolves
 * true when it recorded the count again.
 */
export async function recordPartitionCountAgain(redis: RedisClient, keys: Keys): Promise<boolean> {
  // SET NX, then GET: `SET … NX GET` needs Redis 7.0, and the README supports 6.2.
  const recorded = (await redis.set(keys.enginePartitions, String(keys.partitions), 'NX')) === 'OK';
  const stored = recorded ? String(keys.partitions) : await redis.get(keys.enginePartitions);
  if (stored !== null && stored !== String(keys.partitions)) throw otherCount(keys, stored);
  return recorded;
}

/**
 * Throws CONFIG_INVALID when the prefix's recorded count is not `keys.partitions` (a one-shot
 * command reading or writing users' keys; it records nothing).
 */
export async function checkPartitionCount(redis: RedisClient, keys: Keys): Promise<void> {
  const stored = await redis.get(keys.enginePartitions);
  if (stored !== null && stored !== String(keys.partitions)) throw otherCount(keys, stored);
}

function otherCount(keys: Keys, stored: string): RiskstreamError {
  return new RiskstreamError(
    'CONFIG_INVALID',
    `engine.partitions is ${keys.partitions}, but the data under prefix ${keys.prefix} was written with ${stored} partitions; users' state and routed input would be looked up in the wrong partitions (set engine.partitions back to ${stored}, or use an empty prefix)`,
  );
}

/** A user whose state is stored in another partition than this count gives it (a few of each partition's read), if any. */
async function misplacedUser(redis: RedisClient, keys: Keys): Promise<{ stored: number; expected: number } | undefined> {
  const parts = Array.from({ length: MAX_PARTITIONS }, (_, p) => p);
  // One write on a node (as-is on a cluster); a failed read samples nothing.
  const found = await Promise.all(corked(redis, () => parts.map((p) => redis.hrandfield(keys.partitionState(p), SAMPLE).catch(() => []))));
  for (const p of parts)
    for (const user of (found[p] as string[] | null) ?? []) {
      const expected = keys.partitionOf(user);
      if (expected !== p) return { stored: p, expected };
    }
  return undefined;
}
