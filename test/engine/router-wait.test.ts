/**
 * The router's wake-up read (waitForEntries): it resolves to the highest entry time of what woke
 * it — the router then lets the clock pass that millisecond before reading, instead of reading,
 * holding the entries below the watermark and reading again — and to undefined on a timeout.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { waitForEntries } from '../../src/engine/router-read.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const waker = redisClient();
const prefix = testPrefix('router-wait');

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
  waker.disconnect();
});

describe('waitForEntries', () => {
  it('resolves to the highest entry time over the streams that have one, undefined on a timeout', async () => {
    const [a, b] = [`${prefix}:a`, `${prefix}:b`];
    await redis.xadd(a, '1000-0', 'f', 'v');
    await redis.xadd(b, '2000-0', 'f', 'v');
    expect(await waitForEntries(waker, [a, b], ['0', '0'], 50)).toBe(2000);
    expect(await waitForEntries(waker, [a, b], ['0', '2000-0'], 50)).toBe(1000);
    expect(await waitForEntries(waker, [a, b], ['1000-0', '2000-0'], 50)).toBeUndefined();
    // Blocked, woken by an entry added meanwhile.
    const woken = waitForEntries(waker, [a, b], ['1000-0', '2000-0'], 5_000);
    await new Promise((r) => setTimeout(r, 30));
    await redis.xadd(b, '5000-3', 'f', 'v');
    expect(await woken).toBe(5000);
  });
});
