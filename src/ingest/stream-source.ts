import type { Redis } from 'ioredis';
import type { RawEntry } from '../types.js';
import { idMs, parseGroups, parseStreamInfo } from '../redis/stream-info.js';
import { RiskstreamError } from '../errors.js';

/** Stands in for a missing reply of a MULTI (treated as a failed command). */
const NO_REPLY: [Error, unknown] = [new RiskstreamError('INTERNAL', 'no reply'), undefined];

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
  /** The same bound per input stream (empty until first known). */
  ackedBelowByStream: Record<string, number>;
}

type XEntry = [string, string[] | null];

/** The ms part of a stream entry id. */

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
        'GROUP',
        this.opts.group,
        this.opts.consumer,
        'COUNT',
        this.opts.count,
        'STREAMS',
        ...this.opts.streams,
        ...this.opts.streams.map(() => '0'),
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
          stream,
          this.opts.group,
          this.opts.consumer,
          this.opts.claimIdleMs,
          cursor,
          'COUNT',
          this.opts.count,
        )) as [string, XEntry[], string[]?];
        this.claimCursor.set(stream, next);
        for (const id of deleted ?? []) this.deletedPending.push({ stream, id });
        toRaw(stream, rows, 2, entries);
      }
      if (entries.length) return await this.batch(entries);
    }
    const res = (await this.redis.xreadgroup(
      'GROUP',
      this.opts.group,
      this.opts.consumer,
      'COUNT',
      this.opts.count,
      'BLOCK',
      this.opts.blockMs,
      'STREAMS',
      ...this.opts.streams,
      ...this.opts.streams.map(() => '>'),
    )) as Array<[string, XEntry[]]> | null;
    for (const [stream, rows] of res ?? []) toRaw(stream, rows, 1, entries);
    return await this.batch(entries);
  }

  private ackedBelowMs = 0;
  private ackedByStream: Record<string, number> = {};
  private lastPendingCheck = 0;

  /**
   * Every entry with an id below the returned ms is acked in every input stream (`byStream`: the
   * same bound per stream). Per stream: the smallest pending id; with nothing pending, the
   * group's last delivered id when entries are still unread (they come after it), else — all
   * read and acked — Redis's own clock less a minute (entries added later get ids from that
   * clock; the minute covers a step back of it). Read atomically (MULTI), at most once a second;
   * a stale value stays true (acked entries stay acked), so it is safe. Entries XADDed with
   * explicit ids older than that would be taken as acked: use `*` ids.
   */
  async ackedBelow(now = Date.now()): Promise<number> {
    if (now - this.lastPendingCheck < 1000) return this.ackedBelowMs;
    this.lastPendingCheck = now;
    const m = this.redis.multi();
    m.time();
    for (const s of this.opts.streams) {
      m.xinfo('GROUPS', s);
      m.xinfo('STREAM', s);
      m.xpending(s, this.opts.group);
    }
    const res = (await m.exec().catch(() => null)) ?? [];
    const [terr, time] = res[0] ?? NO_REPLY;
    if (terr) return this.ackedBelowMs;
    const redisNow = Number((time as [string, string])[0]) * 1000 + Math.floor(Number((time as [string, string])[1]) / 1000);
    const byStream: Record<string, number> = {};
    for (const [i, s] of this.opts.streams.entries()) {
      const [gerr, groups] = res[1 + i * 3] ?? NO_REPLY;
      const [serr, info] = res[2 + i * 3] ?? NO_REPLY;
      const [perr, pending] = res[3 + i * 3] ?? NO_REPLY;
      if (gerr || serr || perr) return this.ackedBelowMs;
      const group = parseGroups(groups).find((g) => g.name === this.opts.group);
      if (!group) return this.ackedBelowMs;
      const [count, smallest] = pending as [number, string | null];
      const lastDelivered = group.lastDeliveredId;
      const lastGenerated = parseStreamInfo(info).lastGeneratedId;
      byStream[s] =
        count > 0 && smallest ? idMs(smallest) : lastDelivered !== lastGenerated ? idMs(lastDelivered) : Math.max(idMs(lastDelivered), redisNow - 60_000);
    }
    this.ackedByStream = byStream;
    this.ackedBelowMs = Math.min(...Object.values(byStream));
    return this.ackedBelowMs;
  }

  private async batch(entries: RawEntry[]): Promise<Batch> {
    const ackedBelow = await this.ackedBelow();
    return { entries, ackedBelow, ackedBelowByStream: { ...this.ackedByStream } };
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
