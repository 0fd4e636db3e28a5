import type { RedisClient } from '../redis/client.js';
import { idMs, parseGroups } from '../redis/stream-info.js';

/**
 * Trims input streams by age without ever dropping an unacked entry: the cut is the older of
 * (now − retention) and the group's oldest pending entry (or, with nothing pending, its
 * last-delivered id, so undelivered entries stay too). Approximate (`MINID ~`), so cheap.
 * Returns the number of entries removed per stream.
 */
export async function trimInputs(
  redis: RedisClient,
  streams: readonly string[],
  group: string,
  retentionMs: number,
  now = Date.now(),
): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const stream of streams) {
    let cut = now - retentionMs;
    // The groups first: a read between the two replies then leaves its entries above the cut (read
    // the other way round, entries delivered in between would be neither pending nor kept).
    const groups = parseGroups(await redis.xinfo('GROUPS', stream));
    const pending = (await redis.xpending(stream, group)) as [number, string | null, string | null, unknown];
    if (pending[0] > 0 && pending[1]) cut = Math.min(cut, idMs(pending[1]));
    for (const g of groups) {
      // Every group reading this stream must have seen (and acked) what is trimmed.
      cut = Math.min(cut, idMs(g.lastDeliveredId));
      if (g.name !== group && g.pending > 0) cut = Math.min(cut, 0);
    }
    if (cut <= 0) continue;
    out[stream] = Number(await redis.xtrim(stream, 'MINID', '~', `${cut}-0`));
  }
  return out;
}
