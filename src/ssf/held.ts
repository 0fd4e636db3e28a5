/**
 * The list of SETs held while a stream is paused, capped: appending beyond `max` drops the
 * oldest entries (a newer level supersedes an older one anyway). Reports how many were dropped
 * and whether this is the first overflow in the last hour (so the audit log gets one entry per
 * hour per stream, not one per event).
 */
import type { RedisClient } from '../redis/client.js';
import { randomUUID } from 'node:crypto';
import { scriptsOn } from '../redis/scripts.js';
import { setNx } from '../redis/set-nx.js';

/** Seconds between two "held list full" reports for one stream. */
export const HELD_FULL_REPORT_S = 3600;
const CHUNK = 1000;

/** Appends `items` to the held list `key`, keeping at most `max`. */
export async function holdCapped(redis: RedisClient, key: string, items: string[], max: number): Promise<{ count: number; audit: boolean }> {
  let count = 0;
  let audit = false;
  for (let i = 0; i < items.length; i += CHUNK) {
    count += Number(await scriptsOn(redis).heldPush(key, max, ...items.slice(i, i + CHUNK))); // held-push-1.lua
  }
  // A separate key (another cluster slot): set only when something was dropped; this call's own
  // value, so that the client's resend of the claim (its reply lost) still reports it.
  if (count > 0) audit = await setNx(redis, `${key}:full`, randomUUID(), HELD_FULL_REPORT_S * 1000);
  return { count, audit };
}

/**
 * Takes the held list `key` from its head, `CHUNK` items at a time: each chunk is handed to
 * `deliver` (which queues it; queuing is idempotent, by job id) and only then dropped, and only if
 * the list still starts with it (`held-drop-1.lua`: a capped push may have shifted the list). A
 * crash between the two leaves the chunk held, queued again at the next release: nothing is lost.
 * Returns how many items were delivered.
 */
export async function releaseHeld(redis: RedisClient, key: string, deliver: (items: string[]) => Promise<void>): Promise<number> {
  let count = 0;
  for (let rounds = 0; rounds < 10_000; rounds++) {
    const items = await redis.lrange(key, 0, CHUNK - 1);
    if (!items.length) break;
    await deliver(items);
    if ((await scriptsOn(redis).heldDrop(key, ...items)) === 1) count += items.length; // held-drop-1.lua
  }
  return count;
}
