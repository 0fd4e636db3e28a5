/**
 * The partition count a prefix's data was written with. Users' state, risk events, sessions and
 * routed input live under `{p<n>}` keys chosen by `hash(user) mod engine.partitions`: a worker
 * with another count would look users up in the wrong partitions and never read the input the
 * old count routed. The first worker on a prefix records its count; a later one with another
 * count refuses to start.
 */
import type { RedisClient } from '../redis/client.js';
import { RiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';

/** Records `keys.partitions` for the prefix, or throws CONFIG_INVALID when it holds another count. */
export async function claimPartitionCount(redis: RedisClient, keys: Keys): Promise<void> {
  const mine = String(keys.partitions);
  await redis.set(keys.enginePartitions, mine, 'NX');
  const stored = await redis.get(keys.enginePartitions);
  if (stored !== null && stored !== mine)
    throw new RiskstreamError(
      'CONFIG_INVALID',
      `engine.partitions is ${mine}, but the data under prefix ${keys.prefix} was written with ${stored} partitions; users' state and routed input would be looked up in the wrong partitions (set engine.partitions back to ${stored}, or use an empty prefix)`,
    );
}
