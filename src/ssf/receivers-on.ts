/**
 * Which configured receivers each running worker has enabled, and the owners of its configured
 * stream tokens that own a stream (`<prefix>:receivers:on`: worker id → JSON array of receiver names and of
 * `owner:<id>`, src/ssf/stream-owner.ts; a receiver name has no colon). Workers are reloaded one at a
 * time: a SET queued by a worker that has a receiver (or an SSF stream's token) may be taken by one
 * that does not have it yet, which waits for a worker that has it (src/ssf/deliver-job.ts) rather
 * than failing it. This record is per worker, so a worker not
 * reloaded yet that starts or reloads meanwhile does not hide its peer's receiver; a worker that
 * stops removes its entry, one that dies drops out with its membership (`<prefix>:engine:members`).
 * Lost (a Redis restarted empty), each running worker's upkeep writes its entry again.
 */
import type { ResolvedReceiver } from '../config/receiver.js';
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis/client.js';

/**
 * Records the configured receivers `workerId`'s running configuration has enabled, and the owner ids
 * of its stream tokens (its start, each reload).
 */
export async function recordReceiversOn(
  redis: RedisClient,
  keys: Keys,
  workerId: string,
  receivers: readonly ResolvedReceiver[],
  owners: Iterable<string> = [],
): Promise<void> {
  await redis.hset(keys.receiversOn, workerId, namesOn(receivers, owners));
}

/**
 * Records `workerId`'s entry again if it is gone (a Redis restarted empty under running workers):
 * one HSETNX, for the worker's upkeep (an entry its start or reload wrote is left as it is). Resolves
 * true when it wrote the entry again.
 */
export async function recordReceiversOnAgain(
  redis: RedisClient,
  keys: Keys,
  workerId: string,
  receivers: readonly ResolvedReceiver[],
  owners: Iterable<string> = [],
): Promise<boolean> {
  return (await redis.hsetnx(keys.receiversOn, workerId, namesOn(receivers, owners))) === 1;
}

const ownerEntry = (owner: string): string => `owner:${owner}`;

function namesOn(receivers: readonly ResolvedReceiver[], owners: Iterable<string>): string {
  const names = receivers.filter((r) => r.enabled && r.selfRegistered !== true).map((r) => r.name);
  for (const o of owners) names.push(ownerEntry(o));
  return JSON.stringify(names);
}

/** Removes `workerId`'s entry (its stop). */
export async function forgetReceiversOn(redis: RedisClient, keys: Keys, workerId: string): Promise<void> {
  await redis.hdel(keys.receiversOn, workerId);
}

/** True when a worker still in the membership has `receiver` enabled in its running configuration. */
export function enabledOnLiveWorker(redis: RedisClient, keys: Keys, receiver: string): Promise<boolean> {
  return onLiveWorker(redis, keys, receiver);
}

/** True when a worker still in the membership has a token of stream owner `owner` in its running configuration. */
export function ownerOnLiveWorker(redis: RedisClient, keys: Keys, owner: string): Promise<boolean> {
  return onLiveWorker(redis, keys, ownerEntry(owner));
}

async function onLiveWorker(redis: RedisClient, keys: Keys, entry: string): Promise<boolean> {
  const [byWorker, members] = await Promise.all([redis.hgetall(keys.receiversOn), redis.zrange(keys.engineMembers, 0, -1)]);
  return members.some((m) => parseNames(byWorker[m]).includes(entry));
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
