/** routedUntil (real Redis): just before the oldest input entry the router's group has not routed — pending or unread — else now. */
import { afterAll, describe, expect, it } from 'vitest';
import { routedUntil } from '../../src/engine/routed-until.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('routed-until');
const [a, b, none] = [`${prefix}:a`, `${prefix}:b`, `${prefix}:none`];
const NOW = 9_000_000;

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('routedUntil', () => {
  it('now when every entry is acked (or a stream is missing); else 1 ms before the oldest pending or unread entry over the streams', async () => {
    await redis.xadd(a, '1000-0', 'f', 'v');
    await redis.xadd(b, '2000-0', 'f', 'v');
    // No group yet: everything waits.
    expect(await routedUntil(redis, [a, b, none], 'g', NOW)).toBe(999);
    await redis.xgroup('CREATE', a, 'g', '0');
    await redis.xgroup('CREATE', b, 'g', '0');
    expect(await routedUntil(redis, [a, b, none], 'g', NOW)).toBe(999); // unread
    await redis.xreadgroup('GROUP', 'g', 'c', 'STREAMS', a, b, '>', '>');
    expect(await routedUntil(redis, [a, b, none], 'g', NOW)).toBe(999); // pending
    await redis.xack(a, 'g', '1000-0');
    expect(await routedUntil(redis, [a, b, none], 'g', NOW)).toBe(1999);
    await redis.xack(b, 'g', '2000-0');
    expect(await routedUntil(redis, [a, b, none], 'g', NOW)).toBe(NOW);
    await redis.xadd(b, '3000-0', 'f', 'v');
    expect(await routedUntil(redis, [a, b, none], 'g', NOW)).toBe(2999);
    expect(await routedUntil(redis, [a, b], 'g', 2500)).toBe(2500);
  });
});
