import { isCluster, type RedisClient } from '../redis/client.js';

/** Rows of one stream as `XREAD` (buffers) returns them. */
export type StreamRows = [Buffer, Array<[Buffer, Buffer[]]>];

/** How long an idle owner on a cluster pauses between reads at most (it polls: see {@link readPartitions}). */
export const CLUSTER_IDLE_POLL_MS = 20;

type XreadBuffer = (...a: Array<string | number>) => Promise<StreamRows[] | null>;

/**
 * Reads partition streams after their cursors, up to `count` entries each. On one node, one `XREAD`
 * (blocking up to `blockMs` when `blockMs` > 0). On a cluster, whose commands cannot span slots
 * (each partition is its own), one non-blocking `XREAD` per partition, sent together; when all come
 * back empty and the caller would block, it pauses `min(blockMs, CLUSTER_IDLE_POLL_MS)` instead.
 */
export async function readPartitions(
  reader: RedisClient,
  streams: readonly string[],
  cursors: readonly string[],
  count: number,
  blockMs: number,
): Promise<StreamRows[]> {
  const xread = reader.xreadBuffer as unknown as XreadBuffer;
  if (!isCluster(reader) || streams.length === 1) {
    const args: Array<string | number> = ['COUNT', count];
    if (blockMs > 0) args.push('BLOCK', blockMs);
    return (await xread.apply(reader, [...args, 'STREAMS', ...streams, ...cursors])) ?? [];
  }
  const res = await Promise.all(streams.map((s, i) => xread.apply(reader, ['COUNT', count, 'STREAMS', s, cursors[i]!])));
  const out = res.flatMap((r) => r ?? []);
  if (!out.length && blockMs > 0) await new Promise((r) => setTimeout(r, Math.min(blockMs, CLUSTER_IDLE_POLL_MS)));
  return out;
}

/** The last entry id read of each stream in `rows`. */
export function lastRead(rows: readonly StreamRows[]): Map<string, string> {
  const out = new Map<string, string>();
  for (const [stream, entries] of rows) if (entries.length) out.set(stream.toString(), entries[entries.length - 1]![0].toString());
  return out;
}

/** `more`, read after `rows`, joined to it: one row per stream, each stream's entries in order. */
export function mergeRows(rows: StreamRows[], more: readonly StreamRows[]): StreamRows[] {
  if (!more.length) return rows;
  const out = rows.map(([s, e]): StreamRows => [s, e]);
  const at = new Map(out.map((r, i) => [r[0].toString(), i] as const));
  for (const [stream, entries] of more) {
    const i = at.get(stream.toString());
    if (i === undefined) out.push([stream, entries]);
    else out[i] = [out[i]![0], [...out[i]![1], ...entries]];
  }
  return out;
}
