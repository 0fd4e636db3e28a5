import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { claimPartitionCount, recordPartitionCountAgain } from '../../src/engine/partition-count.js';
import { isRiskstreamError } from '../../src/errors.js';
import { Keys } from '../../src/keys.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

/**
 * The partition count a prefix's data was written with: recorded by the first worker, and — for a
 * prefix written before counts were recorded — told from where its users' states are stored.
 */
const redis = redisClient();
const prefix = testPrefix('partition-count');
const USERS = Array.from({ length: 60 }, (_, i) => `user-${i}@example.com`);

afterEach(() => cleanup(redis, prefix));
afterAll(() => redis.disconnect());

/** Stores a state for every user as a worker with `n` partitions would, recording no count. */
async function writtenWith(n: number): Promise<void> {
  const k = new Keys(prefix, n);
  for (const u of USERS) await redis.hset(k.partitionState(k.partitionOf(u)), u, 'state');
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'OK';
  } catch (err) {
    return isRiskstreamError(err) ? err.code : String(err);
  }
}

describe('engine.partitions recorded per prefix', () => {
  it('an empty prefix records the count; the same count again is fine; another count is refused', async () => {
    expect(await codeOf(claimPartitionCount(redis, new Keys(prefix, 64)))).toBe('OK');
    expect(await redis.get(new Keys(prefix, 64).enginePartitions)).toBe('64');
    expect(await codeOf(claimPartitionCount(redis, new Keys(prefix, 64)))).toBe('OK');
    expect(await codeOf(claimPartitionCount(redis, new Keys(prefix, 16)))).toBe('CONFIG_INVALID');
  });

  for (const [was, now] of [
    [64, 16],
    [16, 64],
    [64, 65],
  ] as const) {
    it(`data written with ${was} partitions before counts were recorded: a worker with ${now} is refused and records nothing`, async () => {
      await writtenWith(was);
      expect(await codeOf(claimPartitionCount(redis, new Keys(prefix, now)))).toBe('CONFIG_INVALID');
      expect(await redis.get(new Keys(prefix, now).enginePartitions)).toBeNull();
      // The count it was written with is accepted, and recorded.
      expect(await codeOf(claimPartitionCount(redis, new Keys(prefix, was)))).toBe('OK');
      expect(await redis.get(new Keys(prefix, was).enginePartitions)).toBe(String(was));
    });
  }

  it('a running worker records its count again once the record is gone (Redis restarted empty), and refuses another count', async () => {
    const keys = new Keys(prefix, 64);
    expect(await codeOf(recordPartitionCountAgain(redis, keys))).toBe('OK');
    expect(await redis.get(keys.enginePartitions)).toBe('64');
    expect(await codeOf(recordPartitionCountAgain(redis, keys))).toBe('OK');
    await redis.set(keys.enginePartitions, '16');
    expect(await codeOf(recordPartitionCountAgain(redis, keys))).toBe('CONFIG_INVALID');
    expect(await redis.get(keys.enginePartitions)).toBe('16'); // never overwritten
  });
});
