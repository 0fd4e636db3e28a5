/**
 * Pushes in flight to self-registered SSF streams, so that a management call that restricts a
 * stream (disable, pause, delete, a subject removed, a PATCH or PUT) answers only once no push that
 * decided on the stream's old configuration can still reach it. A sender records its push in the
 * stream's in-flight set, then reads the stream again; the management call writes the stream, then
 * waits until the set holds no live entry. Redis orders the two: either the sender's read sees the
 * change (and it does not push), or the call sees the entry (and waits for the push to end).
 */
import { randomUUID } from 'node:crypto';
import type { ResolvedReceiver } from '../config/receiver.js';
import type { Keys } from '../keys.js';
import type { RedisClient } from '../redis/client.js';
import { scriptsOn } from '../redis/scripts.js';
import type { ReceiverRegistry } from './receivers.js';

/** Margin of an in-flight entry beyond the push timeout (signing, Redis round trips), ms. */
const ENTRY_MARGIN_MS = 5_000;
/** How often a waiting management call looks again, ms. */
const POLL_MS = 20;

/** Ends a push's in-flight entry. */
export type EndSend = () => Promise<void>;

/** Records a push to a self-registered stream as in flight ({@link beginStreamSend} bound to a worker's Redis and registry). */
export type StreamFence = (receiver: ResolvedReceiver) => Promise<EndSend | 'changed'>;

/**
 * Runs `push` to `receiver`, within `fence` when it is a self-registered stream; `'changed'` (no
 * push) when the stream changed since the push was decided.
 */
export async function fencedPush<T>(fence: StreamFence | undefined, receiver: ResolvedReceiver, push: () => Promise<T>): Promise<T | 'changed'> {
  const end = receiver.selfRegistered && receiver.streamId !== undefined ? await fence?.(receiver) : undefined;
  if (end === 'changed') return end;
  try {
    return await push();
  } finally {
    // An entry not ended (Redis gone) lapses by its score: the push's outcome stands, whatever it was.
    await end?.().catch(() => undefined);
  }
}

/**
 * Records a push to `receiver` (a self-registered stream) as in flight, then reads the streams
 * again (`registry.refresh`, which reads after it was called). Resolves the entry's end when the
 * stream's receiver is still as it was; `'changed'` (entry already ended) when the stream changed or
 * went since the push was decided: the caller decides again.
 */
export async function beginStreamSend(redis: RedisClient, keys: Keys, registry: ReceiverRegistry, receiver: ResolvedReceiver): Promise<EndSend | 'changed'> {
  const key = keys.ssfInflight(receiver.streamId!);
  const ttl = receiver.timeout + ENTRY_MARGIN_MS;
  // The entry names its own life: a waiter waits as long as the longest entry it finds may live.
  const member = `${ttl}:${randomUUID()}`;
  const now = Date.now();
  // One script (one key): never a set left without its TTL; entries of senders that died dropped;
  // the set lives as long as its longest entry (a push with a shorter timeout, ssf.timeout lowered
  // by a reload or a worker not yet reloaded, must not expire an entry still in flight).
  await scriptsOn(redis).ssfInflightAdd(key, String(now), String(ttl), member); // ssf-inflight-add-1.lua
  const end: EndSend = async () => {
    await redis.zrem(key, member);
  };
  try {
    await registry.refresh?.();
    const current = registry.get(receiver.name);
    if (current && JSON.stringify(current) === JSON.stringify(receiver)) return end;
  } catch (err) {
    await end().catch(() => undefined);
    throw err;
  }
  await end();
  return 'changed';
}

/**
 * Longest a management call waits for pushes in flight (each ends within its timeout; this bounds a
 * clock skew between workers), ms — or the longest life an entry found names (`ssf.timeout` + margin), when longer.
 */
const MAX_WAIT_MS = 60_000;

/** How long to wait at most for `members`: {@link MAX_WAIT_MS}, or the longest life one of them names. */
export function waitBound(members: readonly string[], floorMs: number = MAX_WAIT_MS): number {
  let bound = floorMs;
  for (const m of members) {
    const life = Number(m.slice(0, m.indexOf(':')));
    if (Number.isSafeInteger(life) && life > bound) bound = life;
  }
  return bound;
}

/**
 * Waits until the pushes to stream `id` in flight at this call have ended (a sender that died: its
 * entry lapses). Pushes recorded later are not waited for: they read the stream after the change.
 * `floorMs`: the wait's bound unless an entry names a longer life (tests).
 */
export async function waitStreamSends(redis: RedisClient, keys: Keys, id: string, floorMs: number = MAX_WAIT_MS): Promise<void> {
  const key = keys.ssfInflight(id);
  let members = await redis.zrangebyscore(key, Date.now(), '+inf');
  const until = Date.now() + waitBound(members, floorMs);
  while (members.length && Date.now() < until) {
    await new Promise((r) => setTimeout(r, POLL_MS));
    const scores = await redis.zmscore(key, ...members);
    members = members.filter((_, i) => scores[i] !== null && Number(scores[i]) > Date.now());
  }
}
