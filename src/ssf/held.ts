/**
 * The list of SETs held while a stream is paused, capped: appending beyond `max` drops the
 * oldest entries (a newer level supersedes an older one anyway). Reports how many were dropped
 * and whether this is the first overflow in the last hour (so the audit log gets one entry per
 * hour per stream, not one per event).
 */
import type { RedisClient } from '../redis/client.js';
import { scriptsOn } from '../redis/scripts.js';

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
  // A separate key (another cluster slot): set only when something was dropped.
  if (count > 0) audit = (await redis.set(`${key}:full`, '1', 'EX', HELD_FULL_REPORT_S, 'NX')) === 'OK';
  return { count, audit };
}
