import { isCluster, pipeline, scanKeys, type RedisClient } from './client.js';
import { Keys } from '../keys.js';

/**
 * Deletes every key riskstream owns under a prefix (its own keys, BullMQ's `{prefix}:bull…` and the
 * routers' fences of streams under the prefix); on a cluster, on every master, key by key (one
 * UNLINK cannot span slots).
 */
export async function purgePrefix(redis: RedisClient, prefix: string): Promise<void> {
  for (const pattern of new Keys(prefix).ownedPatterns) {
    for await (const keys of scanKeys(redis, pattern)) {
      if (!isCluster(redis)) {
        await redis.unlink(...keys);
        continue;
      }
      const p = pipeline(redis);
      for (const k of keys) p.unlink(k);
      await p.exec();
    }
  }
}
