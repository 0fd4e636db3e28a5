import { randomBytes } from 'node:crypto';
import { Redis } from 'ioredis';
import type { Keys } from '../../src/keys.js';
import { purgePrefix } from '../../src/redis/purge.js';

export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** A fresh key prefix per test file, so test files run in parallel on one Redis. */
export function testPrefix(name: string): string {
  return `t-${name}-${randomBytes(4).toString('hex')}`;
}

/**
 * A plain connection for assertions. `db`: a logical database of the test file's own (a file whose
 * property runs SCAN its prefixes many times: other files' keys in database 0 would slow every scan).
 */
export function redisClient(db?: number): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: 3, ...(db === undefined ? {} : { db }) });
}

/** The members of a per-partition sorted set (`keys.usersByLevel`, `keys.outboxPending`, …) summed over every partition. */
export async function zcardAll(redis: Redis, keys: Keys, key: (p: number) => string): Promise<number> {
  const p = redis.pipeline();
  for (const part of keys.partitionList) p.zcard(key(part));
  return ((await p.exec()) ?? []).reduce((n, [err, c]) => {
    if (err) throw err;
    return n + Number(c);
  }, 0);
}

/** Deletes every key under the prefix (including BullMQ's `{prefix}:bull` keys). */
export const cleanup = purgePrefix;

/** Polls `fn` until it returns a truthy value or the timeout passes. */
export async function waitFor<T>(fn: () => Promise<T> | T, { timeout = 15_000, interval = 50, what = 'condition' } = {}): Promise<NonNullable<T>> {
  const until = Date.now() + timeout;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v as NonNullable<T>;
    } catch (e) {
      last = e;
    }
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
