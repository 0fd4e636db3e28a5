import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';

/**
 * A real Redis connection plus a random key prefix for one test file; `cleanup` deletes its keys, those
 * whose hash tag starts with it too (`{<prefix>…}:…`, e.g. a dead-letter stream's seen markers).
 */
export function testRedis(name: string): { redis: Redis; prefix: string; cleanup(): Promise<void> } {
  const redis = new Redis(process.env.REDIS_URL ?? 'redis://127.0.0.1:6379', { lazyConnect: false, maxRetriesPerRequest: 2 });
  const prefix = `rstest:${name}:${randomBytes(4).toString('hex')}`;
  return {
    redis,
    prefix,
    async cleanup() {
      for (const match of [`${prefix}*`, `{${prefix}*`]) {
        let cursor = '0';
        do {
          const [next, keys] = await redis.scan(cursor, 'MATCH', match, 'COUNT', 500);
          cursor = next;
          if (keys.length) await redis.del(...keys);
        } while (cursor !== '0');
      }
      await redis.quit();
    },
  };
}

/** XRANGE as objects. */
export async function readStream(redis: Redis, key: string): Promise<Array<{ id: string; fields: Record<string, string> }>> {
  const rows = await redis.xrange(key, '-', '+');
  return rows.map(([id, flat]) => {
    const fields: Record<string, string> = {};
    for (let i = 0; i < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    return { id, fields };
  });
}
