import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';
import { setNx } from '../redis/set-nx.js';
import { RiskstreamError } from '../errors.js';
import type { StreamCaller } from './stream-owner.js';
import type { SsfStream } from './streams.js';

/**
 * Takes the stream's verification slot (`key`, held `interval` ms): at most one verification SET
 * per `min_verification_interval`, RATE_LIMITED with `retryAfter` seconds otherwise (SSF §8.1.4.2).
 * An interval of 0 takes nothing.
 */
export async function claimVerification(redis: RedisClient, key: string, interval: number): Promise<void> {
  // This call's own value: the client's resend of the claim (its reply lost) is not a verification asked before.
  if (interval > 0 && !(await setNx(redis, key, randomUUID(), interval))) {
    const left = await redis.pttl(key);
    throw new RiskstreamError('RATE_LIMITED', `verification requested less than min_verification_interval (${Math.ceil(interval / 1000)} s) ago`, {
      retryAfter: Math.max(1, Math.ceil(left / 1000)),
    });
  }
}

/**
 * Refuses a verification of `s` by `caller`: BAD_REQUEST for a disabled stream, and for `state`
 * given by an admin on a stream it does not own — that verification is the transmitter's, which
 * carries no `state` (SSF 1.0 §8.1.4.2 "If the Verification Event is initiated by the Transmitter
 * then this parameter MUST not be set").
 */
export function checkVerification(s: SsfStream, state: string | undefined, caller: StreamCaller): void {
  if (s.status === 'disabled') throw new RiskstreamError('BAD_REQUEST', 'stream is disabled');
  if (state !== undefined && s.owner !== caller.owner)
    throw new RiskstreamError('BAD_REQUEST', "state is the stream's receiver's: a verification the transmitter starts carries none (SSF 1.0 §8.1.4.2)");
}
