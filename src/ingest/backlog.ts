import type { Cluster } from 'ioredis';
import type { RedisClient } from '../redis/client.js';

/**
 * The stuck-input check of `/readyz`: an input entry read again and again (a step fails on its
 * batch each time). Stalls — input waiting while nothing moves — are judged pipeline-wide from
 * Redis by src/engine/stall-tracker.ts.
 */

/** An input entry delivered this many times and still pending is stuck: a step fails on its batch, again and again. */
export const STUCK_DELIVERIES = 10;

/**
 * Says the pipeline is stuck when the oldest pending entry of an input stream was delivered at
 * least `min` times (one XPENDING per stream): steps run, and each re-reads its batch. That entry
 * is named as the oldest, not as the culprit: a step fails on a whole batch.
 */
export async function stuckReason(
  redis: RedisClient | Cluster,
  streams: readonly string[],
  group: string,
  min: number = STUCK_DELIVERIES,
): Promise<string | null> {
  for (const stream of streams) {
    const rows = (await redis.xpending(stream, group, '-', '+', 1).catch(() => [])) as Array<[string, string, number, number]>;
    const [id, , , deliveries] = rows[0] ?? [];
    if (id !== undefined && Number(deliveries) >= min)
      return `stuck: input read again and again without being processed (oldest pending: entry ${id} of ${stream}, delivered ${deliveries} times; the failing entry may be another of its batch: see the log)`;
  }
  return null;
}
