import { compareKeys, ZERO_KEY, type OrderKey } from '../partition.js';
import type { RawEntry } from '../types.js';
import type { StreamRead } from './router-read.js';
import type { Held } from './route-write.js';
import { decodeRows, releaseBelow } from './router-rows.js';
import type { RouteReport, RouterParts } from './router-types.js';

const NO_KEY: OrderKey = { ms: Number.MAX_SAFE_INTEGER, seq: Number.MAX_SAFE_INTEGER };

/** One read's entries, ready for the write phase. */
export interface CollectedRead {
  report: RouteReport;
  /** Entries below the watermark, in order-key order. */
  routable: Held[];
  bad: Array<{ raw: RawEntry; reason: string }>;
  /** Entries to ack with nothing to route (deleted while pending). */
  ackOnly: Map<string, string[]>;
}

/** The router's per-source read state that {@link collectRead} advances. */
export interface ReadState {
  /** Every source, in source-index order. */
  sources: readonly string[];
  /** The control stream (its entries decode as control ops). */
  controlStream: string;
  /** Per source: '0' while re-reading its pending entries, '>' once past them (or the last pending id read). */
  cursors: Map<string, string>;
  /** Per source: the order key of the last entry read. */
  lastRead: Map<string, OrderKey>;
  /** Per source: entries read and held until the watermark passes them. */
  held: Map<string, Held[]>;
}

/**
 * Decodes one read of the sources in `reading` into `st` and releases what the watermark allows:
 * the lowest, over every source, of the last key read — or, for a source read to its end, its
 * node's clock (a millisecond back) — so the merged order never depends on timing.
 */
export function collectRead(
  st: ReadState,
  res: ReadonlyMap<string, StreamRead>,
  reading: readonly string[],
  o: { count: number; decode: RouterParts['decode'] },
): CollectedRead {
  const now = res.size ? Math.min(...[...res.values()].map((r) => r.clock)) : Date.now();
  const report: RouteReport = { read: 0, readByStream: {}, routed: 0, deadLettered: 0, buffered: 0, partitions: 0, present: 0 };
  let caughtUp = reading.length === st.sources.length;
  const bad: Array<{ raw: RawEntry; reason: string }> = [];
  const ackOnly = new Map<string, string[]>();
  const marks = new Map<string, OrderKey>();
  st.sources.forEach((stream, source) => {
    const rows = res.get(stream)?.rows ?? [];
    const cursor = st.cursors.get(stream)!;
    if (reading.includes(stream)) {
      if (cursor !== '>') st.cursors.set(stream, rows.length ? rows[rows.length - 1]![0] : '>');
      const key = decodeRows(
        stream,
        source,
        rows,
        now,
        { control: stream === st.controlStream, decode: o.decode },
        { held: st.held.get(stream)!, bad, ackOnly, report },
      );
      if (key) st.lastRead.set(stream, key);
    }
    const last = st.lastRead.get(stream) ?? ZERO_KEY;
    const drained = reading.includes(stream) && cursor === '>' && rows.length < o.count;
    if (!drained) caughtUp = false;
    // The clock of the stream's own node (on a cluster, streams live on several).
    const clock: OrderKey = { ms: (res.get(stream)?.clock ?? now) - 1, seq: NO_KEY.seq };
    marks.set(stream, drained && compareKeys(clock, last) > 0 ? clock : last);
  });
  const mark = [...marks.values()].reduce((a, b) => (compareKeys(a, b) <= 0 ? a : b));
  const routable = releaseBelow(st.held, mark, report);
  report.routed = routable.length;
  report.deadLettered = bad.length;
  if (caughtUp && report.buffered === 0) report.caughtUp = true;
  return { report, routable, bad, ackOnly };
}
