import type { Redis } from 'ioredis';
import type { RawEntry } from '../types.js';

/** Options of a consumer-group reader over the input streams. */
export interface StreamSourceOptions {
  streams: string[];
  group: string;
  consumer: string;
  count: number;
  blockMs: number;
  /** Pending entries idle this long (a dead consumer's) are claimed. */
  claimIdleMs: number;
}

/** One read: entries from all input streams, in stream order per stream. */
export interface Batch {
  entries: RawEntry[];
  /** Score (ms) below which every entry of every input stream is acked. */
  ackedBelow: number;
}

type XEntry = [string, string[] | null];

function toRaw(stream: string, rows: XEntry[], deliveries: number, out: RawEntry[]): void {
  for (const [id, flat] of rows) {
    if (!flat) continue; // deleted while pending: nothing to process, acked with the batch below
    const fields: Record<string, string> = {};
    for (let i = 0; i + 1 < flat.length; i += 2) fields[flat[i]!] = flat[i + 1]!;
    out.push({ stream, id, fields, deliveries });
  }
}

/**
 * Reads batches from Redis streams with a consumer group: first this consumer's own pending
 * entries (after a restart or a failed batch), then entries idle in dead consumers' lists
 * (XAUTOCLAIM), then new ones (`>`). Nothing is acked here: the caller acks after committing.
 */
export class StreamSource {
  private ownPending = true;
  private lastClaim = 0;
  private readonly claimCursor = new Map<string, string>();
  private readonly deletedPending: Array<{ stream: string; id: string }> = [];

  constructor(
    private readonly redis: Redis,
    readonly opts: StreamSourceOptions,
  ) {}

  /** Creates the consumer group on each stream if missing (and the stream with MKSTREAM). */
  async ensureGroups(): Promise<void> {
    for (const s of this.opts.streams) {
      try {
        await this.redis.xgroup('CREATE', s, this.opts.group, '0', 'MKSTREAM');
      } catch (e) {
        if (!String((e as Error).message).includes('BUSYGROUP')) throw e;
      }
    }
  }

  /** Marks that the last batch was not acked, so the next read re-reads this consumer's pending list. */
  retryPending(): void {
    this.ownPending = true;
  }

  /** Reads the next batch (may be empty after the block timeout). */
  async read(now = Date.now()): Promise<Batch> {
    const entries: RawEntry[] = [];
    if (this.ownPending) {
      const res = (await this.redis.xreadgroup(
        'GROUP', this.opts.group, this.opts.consumer, 'COUNT', this.opts.count, 'STREAMS', ...this.opts.streams, ...this.opts.streams.map(() => '0'),
      )) as Array<[string, XEntry[]]> | null;
      for (const [stream, rows] of res ?? []) {
        for (const [id, f] of rows) if (!f) this.deletedPending.push({ stream, id });
        toRaw(stream, rows, 2, entries);
      }
      if (entries.length === 0) this.ownPending = false;
      else return await this.batch(entries);
    }
    if (now - this.lastClaim >= Math.max(this.opts.claimIdleMs / 2, 100)) {
      this.lastClaim = now;
      for (const stream of this.opts.streams) {
        const cursor = this.claimCursor.get(stream) ?? '0-0';
        const [next, rows, deleted] = (await this.redis.xautoclaim(
          stream, this.opts.group, this.opts.consumer, this.opts.claimIdleMs, cursor, 'COUNT', this.opts.count,
        )) as [string, XEntry[], string[]?];
        this.claimCursor.set(stream, next);
        for (const id of deleted ?? []) this.deletedPending.push({ stream, id });
        toRaw(stream, rows, 2, entries);
      }
      if (entries.length) return await this.batch(entries);
    }
    const res = (await this.redis.xreadgroup(
      'GROUP', this.opts.group, this.opts.consumer, 'COUNT', this.opts.count, 'BLOCK', this.opts.blockMs,
      'STREAMS', ...this.opts.streams, ...this.opts.streams.map(() => '>'),
    )) as Array<[string, XEntry[]]> | null;
    for (const [stream, rows] of res ?? []) toRaw(stream, rows, 1, entries);
    return await this.batch(entries);
  }

  private ackedBelowMs = 0;
  private lastPendingCheck = 0;

  /**
   * Every entry with an id below the returned ms is acked in every input stream (from the
   * group's smallest pending id, refreshed at most once a second; a stale value is lower, so safe).
   */
  async ackedBelow(now = Date.now()): Promise<number> {
    if (now - this.lastPendingCheck < 1000) return this.ackedBelowMs;
    this.lastPendingCheck = now;
    const p = this.redis.pipeline();
    for (const s of this.opts.streams) p.xpending(s, this.opts.group);
    const res = (await p.exec()) ?? [];
    let min = Number.MAX_SAFE_INTEGER;
    for (const [err, val] of res) {
      if (err) return this.ackedBelowMs;
      const [count, smallest] = val as [number, string | null];
      if (count > 0 && smallest) min = Math.min(min, Number(smallest.slice(0, smallest.indexOf('-'))));
    }
    // With nothing pending, everything read so far is acked: entries older than a minute surely are.
    this.ackedBelowMs = min === Number.MAX_SAFE_INTEGER ? now - 60_000 : min;
    return this.ackedBelowMs;
  }

  private async batch(entries: RawEntry[]): Promise<Batch> {
    return { entries, ackedBelow: await this.ackedBelow() };
  }

  /** Acks entries (one round trip), plus any ids found deleted while pending. */
  async ack(entries: Array<{ stream: string; id: string }>): Promise<void> {
    const by = new Map<string, string[]>();
    for (const e of [...entries, ...this.deletedPending.splice(0)]) {
      const list = by.get(e.stream) ?? [];
      list.push(e.id);
      by.set(e.stream, list);
    }
    if (by.size === 0) return;
    const p = this.redis.pipeline();
    for (const [stream, ids] of by) p.xack(stream, this.opts.group, ...ids);
    const res = (await p.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
  }
}
