import type { Cluster } from 'ioredis';
import type { RedisClient } from '../redis/client.js';
import { groupBacklog } from '../redis/stream-info.js';

/**
 * Stall detection for `/readyz` (issue 13, must-have 1): a pipeline that has not advanced for
 * `ingest.stall_after` while input waits (consumer-group lag or pending entries) is not ready.
 * "Advanced" = a batch acked at least one entry, or a read found nothing to do.
 */

/** Input waiting for the consumer group, summed over the input streams. */
export interface Backlog {
  /** Entries not yet delivered to the group (XINFO GROUPS `lag`). */
  lag: number;
  /** Entries delivered but not acked. */
  pending: number;
}

/** The verdict: null when fine, else a short reason (no input data in it). */
export function stallReason(lastAdvance: number, now: number, stallAfter: number, backlog: Backlog | null): string | null {
  const idle = now - lastAdvance;
  if (idle <= stallAfter || !backlog || backlog.lag + backlog.pending === 0) return null;
  return `stalled: no progress for ${Math.round(idle / 1000)}s while ${backlog.lag} entries wait and ${backlog.pending} are pending`;
}

/** Tracks when a pipeline last advanced. */
export class ProgressClock {
  private last: number;

  constructor(now: number) {
    this.last = now;
  }

  /**
   * Records a batch: it advanced when it acked something, or had nothing to read and holds nothing
   * back (`held`: entries read and waiting, e.g. behind an entry whose id is ahead of the clock).
   */
  batch(read: number, acked: number, now: number, held = 0): void {
    if ((read === 0 && held === 0) || acked > 0) this.last = now;
  }

  /** When the pipeline last advanced (epoch ms). */
  get lastAdvance(): number {
    return this.last;
  }
}

/** Reads the group's lag and pending counts over `streams` (one pipeline). */
export async function readBacklog(redis: RedisClient | Cluster, streams: readonly string[], group: string): Promise<Backlog> {
  // Redis < 7 has no `lag`; an unknown lag (null) counts as nothing waiting beyond pending.
  return groupBacklog(redis, streams, group);
}

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
