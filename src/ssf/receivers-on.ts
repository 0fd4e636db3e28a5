/**
 * Which configured receivers each running worker has enabled (`<prefix>:receivers:on`: worker id →
 * JSON array of names). Workers are reloaded one at a time: a SET queued by a worker that has a
 * receiver may be taken by one that does not have it yet, which waits for a worker that has it
 * (src/ssf/deliver-job.ts) rather than failing it. This record is per worker, so a worker not
 * reloaded yet that starts or reloads meanwhile does not hide its peer's receiver; a worker that
 * stops removes its entry, one that dies drops out with its membership (`<prefix>:engine:members`).
 */
import type { ResolvedReceiver } from '../config/receiver.js';
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis/client.js';

/** Records the configured receivers `workerId`'s running configuration has enabled (its start, each reload). */
export async function recordReceiversOn(redis: RedisClient, keys: Keys, workerId: string, receivers: readonly ResolvedReceiver[]): Promise<void> {
  const on = receivers.filter((r) => r.enabled && r.selfRegistered !== true).map((r) => r.name);
  await redis.hset(keys.receiversOn, workerId, JSON.stringify(on));
}

/** Removes `workerId`'s entry (its stop). */
export async function forgetReceiversOn(redis: RedisClient, keys: Keys, workerId: string): Promise<void> {
  await redis.hdel(keys.receiversOn, workerId);
}

/** True when a worker still in the membership has `receiver` enabled in its running configuration. */
export async function enabledOnLiveWorker(redis: RedisClient, keys: Keys, receiver: string): Promise<boolean> {
  const [byWorker, members] = await Promise.all([redis.hgetall(keys.receiversOn), redis.zrange(keys.engineMembers, 0, -1)]);
  return members.some((m) => {
    const names = parseNames(byWorker[m]);
    return names.includes(receiver);
  });
}

function parseNames(value: string | undefined): string[] {
  if (value === undefined) return [];
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) ? parsed.filter((n): n is string => typeof n === 'string') : [];
  } catch {
    return [];
  }
}
