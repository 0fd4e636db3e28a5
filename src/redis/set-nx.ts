import type { RedisClient } from './client.js';

/**
 * `SET key value PX ms NX`, true when this call set it: also when the client's resend of it found
 * the value it wrote (ioredis resends a command whose reply a dropped connection lost; the first
 * send had landed, and the resend answers null as for a key held elsewhere). `value` must be
 * this call's own (a random token).
 */
export async function setNx(redis: RedisClient, key: string, value: string, px: number): Promise<boolean> {
  if ((await redis.set(key, value, 'PX', px, 'NX')) === 'OK') return true;
  return (await redis.get(key)) === value;
}
