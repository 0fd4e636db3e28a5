import { randomUUID } from 'node:crypto';
import { streamOnceMarker } from '../stream-markers.js';
import type { RedisClient } from '../redis/client.js';
import { scriptsOn } from '../redis/scripts.js';

/** How long {@link AuditLog.writeOnce} remembers an entry it wrote (ms): a week. */
export const AUDIT_ONCE_TTL_MS = 7 * 24 * 3_600_000;

/** How long {@link AuditLog.write}'s marker of one call stays (ms): until the client's resend, after a reconnect. */
const AUDIT_RESEND_TTL_MS = 3_600_000;

/** What an audit entry records. `action` is a stable dotted name (`set.delivered`, `risk.reset`, …). */
export interface AuditEntry {
  action: string;
  /** Who did it: `system`, `admin:<token name>`, a receiver name … */
  actor: string;
  /** The object acted on (user, session id, receiver name). */
  target?: string;
  /** Structured details; never secrets. */
  details?: Record<string, unknown>;
  /** Epoch ms; defaults to now. */
  time?: number;
}

/** A stored audit entry with its stream id. */
export interface StoredAuditEntry extends Required<Omit<AuditEntry, 'details' | 'target'>> {
  id: string;
  target?: string;
  details: Record<string, unknown>;
}

/** Append-only audit log in a Redis stream (approximately capped at `maxlen`). */
export class AuditLog {
  constructor(
    private readonly redis: RedisClient,
    readonly stream: string,
    private readonly maxlen = 1_000_000,
  ) {}

  /** The same log written through another connection. */
  via(redis: RedisClient): AuditLog {
    return new AuditLog(redis, this.stream, this.maxlen);
  }

  /**
   * Appends an entry; returns its stream id ('' when the client's resend of the append found it
   * written). Once: with a marker of this call, written with it ({@link writeOnce}), so that the
   * resend of an append whose reply a dropped connection lost (ioredis resends unanswered commands
   * when it reconnects; the first send had landed) appends no second entry.
   */
  async write(entry: AuditEntry): Promise<string> {
    return (await this.writeOnce(`w:${randomUUID()}`, entry, AUDIT_RESEND_TTL_MS)) ?? '';
  }

  /**
   * Appends an entry unless the entry known as `once` was appended in the last `ttlMs` (a writer
   * that crashed after writing it, and before marking that it did, is followed by one writing it
   * again): the entry and its marker are written in one step (src/redis/scripts/dead-letter-2.lua,
   * in the log's slot). Returns its stream id, or null when it was written already.
   */
  async writeOnce(once: string, entry: AuditEntry, ttlMs = AUDIT_ONCE_TTL_MS): Promise<string | null> {
    const marker = streamOnceMarker(this.stream, `audit:${once}`);
    // A name whose slot no marker can share: appended as it is.
    if (marker === undefined) return (await this.redis.xadd(this.stream, 'MAXLEN', '~', String(this.maxlen), '*', ...AuditLog.fields(entry))) as string;
    return scriptsOn(this.redis).deadLetter(this.stream, marker, String(ttlMs), String(this.maxlen), ...AuditLog.fields(entry));
  }

  /** Flat XADD fields for an entry (for callers that add it to their own pipeline/MULTI). */
  static fields(entry: AuditEntry): string[] {
    return [
      'action',
      entry.action,
      'actor',
      entry.actor,
      'target',
      entry.target ?? '',
      'time',
      String(entry.time ?? Date.now()),
      'details',
      JSON.stringify(entry.details ?? {}),
    ];
  }

  /**
   * Reads entries newest first, `count` at a time, before the cursor (an entry id); `action`: only
   * that action, or those under it (`set`, `set.` or `set.*`: every `set.…` action; `*`: all; any case). `next` is
   * absent once the stream's start is reached.
   */
  async list(opts: { cursor?: string; count?: number; action?: string } = {}): Promise<{ entries: StoredAuditEntry[]; next?: string }> {
    const count = Math.min(Math.max(opts.count ?? 100, 1), 1000);
    const action = actionFilter(opts.action);
    const end = opts.cursor ? `(${opts.cursor}` : '+';
    const out: StoredAuditEntry[] = [];
    let cursorEnd = end;
    // Over-read when filtering by action so a page is still full; a rare action may still leave
    // the page short after the rounds: its cursor then continues from the oldest entry read, so a
    // short page ends the walk only at the stream's start.
    const batch = action ? Math.max(count * 4, 500) : count;
    let exhausted = false;
    let scannedTo: string | undefined;
    for (let rounds = 0; rounds < 20 && out.length < count; rounds++) {
      const rows = (await this.redis.xrevrange(this.stream, cursorEnd, '-', 'COUNT', batch)) as Array<[string, string[]]>;
      for (const [id, f] of rows) {
        scannedTo = id;
        const e = AuditLog.parse(id, f);
        if (matchesAction(e.action, action)) out.push(e);
        if (out.length >= count) break;
      }
      // The stream's start reached, and every row of it read.
      if (rows.length < batch) exhausted = scannedTo === rows[rows.length - 1]?.[0] || !rows.length;
      if (rows.length < batch || out.length >= count) break;
      cursorEnd = `(${rows[rows.length - 1]![0]}`;
    }
    // A page that ended on the stream's first entry (a full one too) is the last: nothing older.
    if (!exhausted && scannedTo !== undefined) exhausted = (await this.redis.xrevrange(this.stream, `(${scannedTo}`, '-', 'COUNT', 1)).length === 0;
    const next = exhausted ? undefined : scannedTo;
    return { entries: out, ...(next !== undefined ? { next } : {}) };
  }

  /**
   * Visits entries newest first, in pages, back to `since` (epoch ms) when given, until `visit`
   * returns true or `max` were read. `complete`: the range was read to its start.
   */
  async scan(opts: {
    max: number;
    since?: number;
    visit: (e: StoredAuditEntry) => boolean | void;
  }): Promise<{ scanned: number; complete: boolean; oldest: number | null }> {
    let end = '+';
    const start = opts.since ? `${opts.since}-0` : '-';
    let scanned = 0;
    let oldest: number | null = null;
    while (scanned < opts.max) {
      const count = Math.min(1000, opts.max - scanned);
      const rows = (await this.redis.xrevrange(this.stream, end, start, 'COUNT', count)) as Array<[string, string[]]>;
      for (const [id, f] of rows) {
        scanned++;
        const e = AuditLog.parse(id, f);
        oldest = e.time || Number(id.split('-')[0]);
        if (opts.visit(e) === true) return { scanned, complete: false, oldest };
      }
      if (rows.length < count) return { scanned, complete: true, oldest };
      end = `(${rows[rows.length - 1]![0]}`;
    }
    return { scanned, complete: false, oldest };
  }

  /** Parses a raw stream entry. */
  static parse(id: string, f: string[]): StoredAuditEntry {
    const m: Record<string, string> = {};
    for (let i = 0; i + 1 < f.length; i += 2) m[f[i]!] = f[i + 1]!;
    let details: Record<string, unknown> = {};
    try {
      details = JSON.parse(m.details ?? '{}') as Record<string, unknown>;
    } catch {
      details = { raw: m.details };
    }
    return {
      id,
      action: m.action ?? '',
      actor: m.actor ?? '',
      ...(m.target ? { target: m.target } : {}),
      time: Number(m.time ?? 0),
      details,
    };
  }
}

/**
 * An `action` filter as {@link AuditLog.list} reads it: `set`, `set.` and `set.*` all mean the
 * `set.…` actions, `set.delivered` only that one, `*` every action (undefined); any case (actions
 * are lower case: `RISK.RESET` is `risk.reset`).
 */
export function actionFilter(filter: string | undefined): string | undefined {
  return (
    filter
      ?.toLowerCase()
      .replace(/(?:^|\.)\*$/, '')
      .replace(/\.$/, '') || undefined
  );
}

/** Whether `action` is kept by a filter {@link actionFilter} made (undefined: every action). */
export function matchesAction(action: string, filter: string | undefined): boolean {
  return !filter || action === filter || action.startsWith(`${filter}.`);
}
