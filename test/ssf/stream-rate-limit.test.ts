/**
 * StreamRateLimit: the per-ssf-token allowance of stream management calls (a token bucket in
 * Redis): `0` turns it off, a reload applies at the next call, one warn line per owner per
 * minute while refused (the owner digest, never a token), keys under the prefix with a hash tag.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import { isRiskstreamError } from '../../src/errors.js';
import { hasHashTag } from '../../src/redis/hash-tag.js';
import { StreamRateLimit } from '../../src/ssf/stream-rate-limit.js';
import type { StreamLimits } from '../../src/ssf/streams.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import type { Logger } from '../../src/obs/logger.js';

const prefix = testPrefix('ssf-stream-rate-limit');
const redis = redisClient();
const keys = new Keys(prefix);
const defaults = riskstreamSchema.parse({}).ssf.limits;

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** Takes `n` calls; the refusals' retryAfter values (undefined: taken). */
async function takeN(limit: StreamRateLimit, owner: string, n: number): Promise<Array<number | undefined>> {
  const out: Array<number | undefined> = [];
  for (let i = 0; i < n; i++) {
    try {
      await limit.take(owner);
      out.push(undefined);
    } catch (err) {
      if (!isRiskstreamError(err, 'RATE_LIMITED')) throw err;
      out.push(err.details!.retryAfter as number);
    }
  }
  return out;
}

describe('StreamRateLimit', () => {
  it('defaults: a burst of 1000 calls refilled at 10 a second (a receiver adding its subjects at start-up)', () => {
    expect(defaults).toMatchObject({ changes_per_second: 10, changes_burst: 1000 });
  });

  it('refuses past the burst with a Retry-After of the refill; 0 turns it off; a changed limit applies at the next call', async () => {
    let limits: StreamLimits = { ...defaults, changes_per_second: 0.5, changes_burst: 2 };
    const limit = new StreamRateLimit(redis, keys, () => limits);
    expect(await takeN(limit, 'owner-a', 4)).toEqual([undefined, undefined, 2, 2]);
    expect(await takeN(limit, 'owner-b', 1)).toEqual([undefined]);
    limits = { ...limits, changes_per_second: 0 };
    expect((await takeN(limit, 'owner-a', 50)).every((r) => r === undefined)).toBe(true);
    limits = { ...limits, changes_per_second: 0.2, changes_burst: 5 };
    expect(await takeN(limit, 'owner-c', 6)).toEqual([undefined, undefined, undefined, undefined, undefined, 5]);
  });

  it('keys the bucket under the prefix, hash-tagged, with a ttl (nothing kept for ever)', async () => {
    const limit = new StreamRateLimit(redis, keys, () => ({ ...defaults, changes_per_second: 1, changes_burst: 1 }));
    await limit.take('owner-ttl');
    const key = keys.ssfOwnerRate('owner-ttl');
    expect(key.startsWith(`${prefix}:`)).toBe(true);
    expect(hasHashTag(key)).toBe(true);
    const ttl = await redis.pttl(key);
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(61_000 + 1000);
  });

  it('one warn line per owner per minute while refused, naming the owner digest', async () => {
    const warned: unknown[] = [];
    const logger = { warn: (o: unknown) => warned.push(o) } as unknown as Logger;
    const limit = new StreamRateLimit(redis, keys, () => ({ ...defaults, changes_per_second: 0.1, changes_burst: 1 }), logger);
    await takeN(limit, 'owner-warn', 20);
    await takeN(limit, 'owner-warn-2', 3);
    expect(warned).toEqual([expect.objectContaining({ owner: 'owner-warn' }), expect.objectContaining({ owner: 'owner-warn-2' })]);
  });
});
