/**
 * The router's reads of its input streams, one fenced script per stream on the stream's own slot
 * (src/redis/scripts/router-read-2.lua), and the fence a new router writes on every stream before
 * its first read (router-fence-1.lua), and the consumer group those reads go through. Works alike on
 * one node and on a Redis Cluster.
 */
import type { Keys } from '../keys.js';
import { isCluster, slotOf, type RedisClient } from '../redis/client.js';
import { scriptsOn, type Scripts } from '../redis/scripts.js';
import { sendTogether } from '../redis/send-together.js';
import { idMs } from '../redis/stream-info.js';
import { parseLeaseToken } from './lease-keys.js';

/** How long a router on a cluster pauses when its inputs are empty (instead of a blocking read). */
const CLUSTER_POLL_MS = 10;

/** Creates consumer group `group` on every stream (and the stream with MKSTREAM); one that exists is kept. */
export async function createGroups(redis: RedisClient, streams: readonly string[], group: string): Promise<void> {
  for (const s of streams) {
    try {
      await redis.xgroup('CREATE', s, group, '0', 'MKSTREAM');
    } catch (e) {
      if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
    }
  }
}

/** One stream's read: its rows, its node's clock (ms) and the group's last-delivered id. */
export interface StreamRead {
  rows: Array<[string, string[] | null]>;
  clock: number;
  lastDelivered: string;
}

/** The reply of src/redis/scripts/router-read-2.lua. */
type RouterReadReply = -1 | -2 | [[string, string], Array<[string, string[] | null]>, string];

/** What the reads of one step give: per stream, or `fenced` (a newer router), or `lost` (a read whose reply never came). */
export type ReadOutcome = Map<string, StreamRead> | 'fenced' | 'lost';

/**
 * Writes `token` to every stream's fence: 0 when done, else the highest lease epoch of the newer
 * routers' tokens found on fences (this router may not read those streams).
 */
export async function fenceStreams(scripts: Scripts, keys: Keys, streams: readonly string[], token: string): Promise<number> {
  const res = await Promise.all(streams.map((s) => scripts.routerFence(keys.routerFence(s), token)));
  return Math.max(0, ...res.map((r) => (r === 1 ? 0 : (parseLeaseToken(String(r))?.epoch ?? 0))));
}

/**
 * Reads each stream after its cursor with the consumer group, all sent together, after `acks`.
 * `expected` holds each stream's last-delivered id as the previous read saw it (a read whose reply
 * was lost is noticed: `lost`).
 */
export async function readStreams(
  redis: RedisClient,
  keys: Keys,
  streams: readonly string[],
  o: { token: string; group: string; consumer: string; count: number; cursor: (s: string) => string; expected: (s: string) => string },
  acks?: ReadonlyMap<string, string[]>,
): Promise<ReadOutcome> {
  // Sent together (one write on one node): `acks` (XACKs of entries whose partition entries exist), then the reads.
  const scripts = scriptsOn(redis);
  const outcomes = await sendTogether(redis, (r) => [
    ...[...(acks ?? [])].map(([stream, ids]) => r.xack(stream, o.group, ...ids)),
    ...streams.map((s) => scripts.routerRead(keys.routerFence(s), s, o.token, o.group, o.consumer, String(o.count), o.cursor(s), o.expected(s))),
  ]);
  const res: RouterReadReply[] = [];
  for (const [err, r] of outcomes) {
    if (err) throw err;
    res.push(r as RouterReadReply);
  }
  res.splice(0, acks?.size ?? 0);
  if (res.includes(-1)) return 'fenced';
  if (res.includes(-2)) return 'lost';
  const out = new Map<string, StreamRead>();
  streams.forEach((s, i) => {
    const [[sec, usec], rows, lastDelivered] = res[i] as Exclude<RouterReadReply, -1 | -2>;
    out.set(s, { rows: rows ?? [], clock: Number(sec) * 1000 + Math.floor(Number(usec) / 1000), lastDelivered: String(lastDelivered ?? '') });
  });
  return out;
}

/**
 * Waits (up to `ms`) for an entry after `ids` on any of `streams`: one blocking XREAD on its own
 * connection (group reads cannot block inside the fenced script). On a cluster, where one XREAD
 * cannot span slots, a short pause instead (a read is cheap). Resolves to the highest entry time
 * (ms) of what woke it, if anything did.
 */
export async function waitForEntries(waker: RedisClient, streams: readonly string[], ids: readonly string[], ms: number): Promise<number | undefined> {
  if (isCluster(waker) && new Set(streams.map((s) => slotOf(s))).size > 1) {
    await new Promise((r) => setTimeout(r, Math.min(ms, CLUSTER_POLL_MS)));
    return undefined;
  }
  const res = (await waker.xread('COUNT', 1, 'BLOCK', ms, 'STREAMS', ...streams, ...ids)) as Array<[string, Array<[string, string[]]>]> | null;
  let top: number | undefined;
  for (const [, rows] of res ?? [])
    for (const [id] of rows) {
      const t = idMs(id);
      if (top === undefined || t > top) top = t;
    }
  return top;
}
