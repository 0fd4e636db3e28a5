import type { RedisClient } from '../redis/client.js';
import { RiskstreamError } from '../errors.js';

/**
 * Takes the stream's verification slot (`key`, held `interval` ms): at most one verification SET
 * per `min_verification_interval`, RATE_LIMITED with `retryAfter` seconds otherwise (SSF §8.1.4.2).
 * An interval of 0 takes nothing.
 */
export async function claimVerification(redis: RedisClient, key: string, interval: number): Promise<void> {
  if (interval > 0 && (await redis.set(key, '1', 'PX', interval, 'NX')) !== 'OK') {
    const left = await redis.pttl(key);
    throw new RiskstreamError('RATE_LIMITED', `verification requested less than min_verification_interval (${Math.ceil(interval / 1000)} s) ago`, {
      retryAfter: Math.max(1, Math.ceil(left / 1000)),
    });
  }
}
