import type { RedisClient } from './client.js';
import { Keys } from '../keys.js';

/** Deletes every key riskstream owns under a prefix (its own keys and BullMQ's `{prefix}:bull…`). */
export async function purgePrefix(redis: RedisClient, prefix: string): Promise<void> {
  for (const pattern of new Keys(prefix).ownedPatterns) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      if (keys.length) await redis.unlink(...keys);
    } while (cursor !== '0');
  }
}
