import type { RedisClient } from '../redis/client.js';
import { idMs, readGroups } from '../redis/stream-info.js';

/**
 * Up to when the input is routed: just before the oldest input entry (by its id's time) that the
 * router has not routed yet — pending in its consumer group (read, held below the watermark or not
 * acked yet) or not read at all — else `now`. The owners' expiry sweep goes no further, so an
 * expiry never comes before an event that arrived earlier and waits unrouted (the router failing
 * over, a restarted worker's router not started yet): the order of a run without the wait.
 */
export async function routedUntil(redis: RedisClient, streams: readonly string[], group: string, now: number): Promise<number> {
  let until = now;
  const groups = await readGroups(redis, streams);
  for (const [i, stream] of streams.entries()) {
    const g = groups[i]?.find((x) => x.name === group);
    if (g && g.pending > 0) {
      const [, oldest] = (await redis.xpending(stream, group)) as [number, string | null];
      if (oldest) until = Math.min(until, idMs(oldest) - 1);
    }
    if (g?.lag === 0) continue;
    // Not read yet: the entry after the group's last delivered one (no group yet: the stream's first).
    const [next] = await redis.xrange(stream, g ? `(${g.lastDeliveredId}` : '-', '+', 'COUNT', 1);
    if (next) until = Math.min(until, idMs(next[0]) - 1);
  }
  return until;
}
