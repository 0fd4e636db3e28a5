/**
 * A deleted SSF stream's delivery records: each user it was sent to kept the stream's field in its
 * `<prefix>:u:{<user>}:delivered` and `…:enqueued` hashes (src/delivery-keys.ts) for good, one more
 * field per user for every stream ever deleted. Removed once the stream is gone.
 */
import { pipeline, scanKeys, type RedisClient } from '../redis/client.js';
import type { DeliveryKeys } from '../delivery-keys.js';

/**
 * Removes receiver `receiver`'s field from every user's delivery records (SCAN of the keyspace,
 * on every master of a cluster); resolves the number of fields removed.
 */
export async function forgetReceiverDeliveries(redis: RedisClient, keys: DeliveryKeys, receiver: string): Promise<number> {
  let removed = 0;
  // The key builders with `*` for the user (the hash-tag escape leaves it as it is): the patterns follow their layout.
  for (const pattern of [keys.userDelivered('*'), keys.userEnqueued('*')]) {
    for await (const found of scanKeys(redis, pattern)) {
      const p = pipeline(redis);
      for (const k of found) p.hdel(k, receiver);
      for (const [err, n] of (await p.exec()) ?? []) {
        if (err) throw err;
        removed += Number(n);
      }
    }
  }
  return removed;
}
