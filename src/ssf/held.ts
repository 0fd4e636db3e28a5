/**
 * The list of SETs held while a stream is paused, capped: appending beyond `max` drops the
 * oldest entries (a newer level supersedes an older one anyway). Reports how many were dropped
 * and whether this is the first overflow in the last hour (so the audit log gets one entry per
 * hour per stream, not one per event).
 */
import type { Redis } from 'ioredis';

/** Seconds between two "held list full" reports for one stream. */
export const HELD_FULL_REPORT_S = 3600;
const CHUNK = 1000;

/** KEYS: list. ARGV: max, items… Returns how many of the oldest were dropped. */
const PUSH_CAPPED = `
local n = redis.call('RPUSH', KEYS[1], unpack(ARGV, 2))
local max = tonumber(ARGV[1])
if n <= max then return 0 end
redis.call('LTRIM', KEYS[1], n - max, -1)
return n - max`;

/** Appends `items` to the held list `key`, keeping at most `max`. */
export async function holdCapped(redis: Redis, key: string, items: string[], max: number): Promise<{ count: number; audit: boolean }> {
  let count = 0;
  let audit = false;
  for (let i = 0; i < items.length; i += CHUNK) {
    count += Number(await redis.eval(PUSH_CAPPED, 1, key, max, ...items.slice(i, i + CHUNK)));
  }
  // A separate key (another cluster slot): set only when something was dropped.
  if (count > 0) audit = (await redis.set(`${key}:full`, '1', 'EX', HELD_FULL_REPORT_S, 'NX')) === 'OK';
  return { count, audit };
}
