/**
 * Whether the pipeline as a whole is stalled, judged from what every worker can read in Redis
 * (pure: samples in, a verdict out). Two stages: the router (each input stream: entries wait in
 * its consumer group — lag or pending — and the group's last-delivered id and pending count have
 * not moved) and the partition owners (a partition stream holds entries above the committed
 * position, and that position has not moved). A stage is stalled when something of it has waited
 * without moving for longer than `stallAfter`; what never waits never stalls. A tracker starts
 * with nothing seen: a stage is stalled only once this tracker has itself watched it wait that
 * long (a worker that just started gives the pipeline `stallAfter` first).
 */

/** One input stream as sampled: its group's backlog and what moves when the router routes. */
export interface InputSample {
  stream: string;
  /** Entries not yet read by the group (XINFO GROUPS `lag`; unknown counts as 0). */
  lag: number;
  /** Entries read and not yet acked. */
  pending: number;
  /** Changes whenever the router reads or acks (the group's last-delivered id and pending count). */
  mark: string;
}

/** One partition as sampled. */
export interface PartitionSample {
  partition: number;
  /** Its stream holds entries above the committed position. */
  waiting: boolean;
  /** The committed position (changes on every commit that applied something). */
  mark: string;
}

/** What one sample read (absent: the read failed; nothing is judged on it). */
export interface EngineSample {
  inputs: InputSample[];
  partitions: PartitionSample[];
}

/** A stalled router stage: the input streams whose entries wait without being routed. */
export interface RouterStall {
  streams: string[];
  lag: number;
  pending: number;
  /** How long the longest-waiting of them has not moved (ms). */
  forMs: number;
}

/** A stalled owner stage: partitions with entries waiting and no commit. */
export interface PartitionStall {
  partitions: number[];
  forMs: number;
}

/** The verdict of one sample: each stage stalled, or null. */
export interface StallVerdict {
  router: RouterStall | null;
  partitions: PartitionStall | null;
}

/** No stall (before the first sample, or after a failed one). */
export const NOT_STALLED: StallVerdict = { router: null, partitions: null };

interface Seen {
  mark: string;
  since: number;
}

/** Remembers, per input stream and partition, since when it waits without moving. */
export class StallTracker {
  private readonly inputs = new Map<string, Seen>();
  private readonly parts = new Map<number, Seen>();

  /** Judges `sample` taken at `now`, against `stallAfter` (ms). */
  observe(sample: EngineSample, now: number, stallAfter: number): StallVerdict {
    const router: RouterStall = { streams: [], lag: 0, pending: 0, forMs: 0 };
    const seenInputs = new Set<string>();
    for (const s of sample.inputs) {
      seenInputs.add(s.stream);
      const idle = waitedFor(this.inputs, s.stream, s.lag + s.pending > 0, s.mark, now);
      if (idle <= stallAfter) continue;
      router.streams.push(s.stream);
      router.lag += s.lag;
      router.pending += s.pending;
      router.forMs = Math.max(router.forMs, idle);
    }
    forgetOthers(this.inputs, seenInputs);
    const parts: PartitionStall = { partitions: [], forMs: 0 };
    const seenParts = new Set<number>();
    for (const p of sample.partitions) {
      seenParts.add(p.partition);
      const idle = waitedFor(this.parts, p.partition, p.waiting, p.mark, now);
      if (idle <= stallAfter) continue;
      parts.partitions.push(p.partition);
      parts.forMs = Math.max(parts.forMs, idle);
    }
    forgetOthers(this.parts, seenParts);
    return { router: router.streams.length ? router : null, partitions: parts.partitions.length ? parts : null };
  }
}

/** How long `key` has waited without its mark moving (0 while it does not wait, or just moved / first seen). */
function waitedFor<K>(seen: Map<K, Seen>, key: K, waiting: boolean, mark: string, now: number): number {
  const prev = seen.get(key);
  if (!waiting || !prev || prev.mark !== mark) {
    seen.set(key, { mark, since: now });
    return 0;
  }
  return now - prev.since;
}

/** Forgets what the sample no longer holds (a stream removed on reload, a partition count changed). */
function forgetOthers<K>(seen: Map<K, Seen>, keep: ReadonlySet<K>): void {
  for (const k of [...seen.keys()]) if (!keep.has(k)) seen.delete(k);
}

/** The `reasons.pipeline` of a verdict (null when not stalled). No input data in it. */
export function stallText(v: StallVerdict): string | null {
  const out: string[] = [];
  if (v.router) {
    out.push(
      `stalled: no progress for ${Math.round(v.router.forMs / 1000)}s while ${v.router.lag} entries wait and ${v.router.pending} are pending ` +
        `in ${v.router.streams.join(', ')} (the router: no worker routes the input, or it cannot)`,
    );
  }
  if (v.partitions) {
    const list = v.partitions.partitions;
    const named =
      list
        .slice(0, 10)
        .map((p) => `p${p}`)
        .join(', ') + (list.length > 10 ? ` and ${list.length - 10} more` : '');
    out.push(
      `stalled: no commit for ${Math.round(v.partitions.forMs / 1000)}s on ${list.length} partition(s) with routed entries waiting (${named}): no owner applies them`,
    );
  }
  return out.length ? out.join('; ') : null;
}
