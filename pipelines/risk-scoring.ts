import { asyncScheduler, concat, defer, EMPTY, of, throwError, timer, type Observable, type SchedulerLike } from 'rxjs';
import { concatMap, repeat, retry, tap } from 'rxjs/operators';
import type { Batch, StreamSource } from '../src/ingest/stream-source.js';
import { commitIsolated, errorCode, isHeld } from '../src/ingest/poison.js';
import type { OutboxRelay } from '../src/risk/outbox-relay.js';
import type { Scorer, ScoreReport } from '../src/risk/scorer.js';
import type { CanonicalEvent, EntryRef, RawEntry, StreamEvent } from '../src/types.js';

/** The parts the risk-scoring pipeline is composed of (all built in `src/`). */
export interface RiskScoringParts {
  source: StreamSource;
  /** Decodes one raw entry into a canonical event (time bounds around `now`), or says why it can't. */
  decode(raw: RawEntry, now: number): { ok: true; event: CanonicalEvent } | { ok: false; reason: string };
  /** Optional enrichment (geo from ip) of decoded events. */
  enrich?(events: StreamEvent[]): Promise<void>;
  /** Writes undecodable entries to the dead-letter stream (before the batch is acked). */
  deadLetter(bad: Array<{ raw: RawEntry; reason: string }>): Promise<void>;
  /** Other consumers of the same batch that must commit before the ack (session audit …). */
  alsoCommit: Array<(events: StreamEvent[]) => Promise<void>>;
  scorer: Scorer;
  relay: OutboxRelay;
  /** True once shutdown began: the batch in flight finishes, then the pipeline completes. */
  stopping(): boolean;
  onError?(err: unknown): void;
  /** Scheduler of the back-off timers (default `asyncScheduler`; tests pass a virtual or recording one). */
  scheduler?: SchedulerLike;
  /**
   * Poison-entry guard (src/ingest/poison.ts): on a failed batch, entries are committed one by one;
   * one failing `maxDeliveries()` deliveries is dead-lettered. Without it a failed batch is retried whole.
   */
  guard?: {
    deliveries(refs: readonly EntryRef[]): Promise<Map<string, number>>;
    maxDeliveries(): number;
    onPoison?(ref: EntryRef, code: string, deliveries: number): void;
  };
}

/** What one batch did. */
export interface BatchReport extends ScoreReport {
  read: number;
  /** Entries read, by input stream. */
  readByStream: Record<string, number>;
  deadLettered: number;
  relayed: number;
  /** Entries left pending after a failed batch (re-read after a back-off). */
  held: number;
  /** Entries acked (committed or dead-lettered). */
  acked: number;
  ms: number;
}

/** A batch's entries, decoded: the events to commit and the entries to dead-letter. */
interface Decoded {
  events: StreamEvent[];
  bad: Array<{ raw: RawEntry; reason: string }>;
}

/** What committing a batch's events did, and which of its entries may be acked. */
interface Committed {
  report: ScoreReport;
  ack: RawEntry[];
  poisoned: number;
}

/**
 * Thrown (not an Error: a signal) after the report of a batch that left entries pending, so the
 * re-read of those entries waits for the same back-off, and counts, as a failed batch.
 */
const HELD = Symbol('entries held');

/**
 * Risk scoring: read a batch (consumer group) → decode → dead-letter the bad → enrich →
 * session audit and score (detect + reduce + commit per user), concurrently → ack → relay level changes to
 * the delivery queue. One batch at a time (read → … → ack, then the next read): ordered, with
 * natural back-pressure. On an error nothing is acked and the batch is re-read from the
 * consumer's pending list after a back-off — with a `guard`, a failed batch is committed entry
 * by entry instead: the others are acked, the failing one retried and, past `max_deliveries`,
 * dead-lettered (`processing_failed`), so no entry can stop the pipeline.
 *
 * As a stream: `batch$` (one read, processed) is retried after a failure — or after a batch that
 * left entries pending — with a back-off that grows with `retry`'s own count of consecutive
 * failures, and repeated (a fresh count) after a batch fully acked. Once `stopping()`, the
 * batch in flight finishes and the stream completes instead of reading again.
 */
export function riskScoring(parts: RiskScoringParts): Observable<BatchReport> {
  const scheduler = parts.scheduler ?? asyncScheduler;
  const batch$ = defer(() => parts.source.read()).pipe(
    concatMap((batch) => processBatch(parts, batch)),
    concatMap((report) =>
      report.held
        ? concat(
            of(report),
            throwError(() => HELD),
          )
        : of(report),
    ),
  );
  return batch$.pipe(
    tap({
      error: (err: unknown) => {
        if (err === HELD) return; // already marked for a re-read by the ack stage
        parts.source.retryPending();
        parts.onError?.(err);
      },
    }),
    retry({ delay: (_err, failures) => (parts.stopping() ? EMPTY : timer(backoff(failures), scheduler)) }),
    repeat({ delay: () => (parts.stopping() ? EMPTY : of(0)) }),
  );
}

/** One batch, stage by stage: decode → dead-letter → enrich → commit → ack → relay. */
async function processBatch(parts: RiskScoringParts, batch: Batch): Promise<BatchReport> {
  const { events, bad } = decodeBatch(parts, batch.entries, Date.now());
  const started = performance.now();
  if (bad.length) await parts.deadLetter(bad);
  if (parts.enrich && events.length) await parts.enrich(events);
  const { report, ack, poisoned } = await commitGuarded(parts, batch, events);
  await parts.source.ack(ack);
  const relayed = report.outboxUsers.length ? (await parts.relay.relay(report.outboxUsers)).length : 0;
  const held = batch.entries.length - ack.length;
  if (held) parts.source.retryPending();
  const readByStream: Record<string, number> = {};
  for (const e of batch.entries) readByStream[e.stream] = (readByStream[e.stream] ?? 0) + 1;
  return {
    ...report,
    read: batch.entries.length,
    readByStream,
    deadLettered: bad.length + poisoned,
    relayed,
    held,
    acked: ack.length,
    ms: performance.now() - started,
  };
}

/** Decode stage: raw entries → events, or the reason each one is dead-lettered. */
function decodeBatch(parts: RiskScoringParts, entries: RawEntry[], now: number): Decoded {
  const events: StreamEvent[] = [];
  const bad: Decoded['bad'] = [];
  for (const raw of entries) {
    let d: ReturnType<RiskScoringParts['decode']>;
    try {
      d = parts.decode(raw, now);
    } catch (err) {
      d = { ok: false, reason: `decode_failed: ${errorCode(err)}` }; // a decoder bug never stops the pipeline
    }
    if (d.ok) events.push({ ref: { stream: raw.stream, id: raw.id }, event: d.event, deliveries: raw.deliveries });
    else bad.push({ raw, reason: d.reason });
  }
  return { events, bad };
}

/**
 * Commit stage: session audit and scoring write different keys, so they run together (one's
 * Redis round trips overlap the other's CPU work); both settle before the batch is acked or
 * failed. A failure with a `guard` commits entry by entry (poison.ts); without one it throws.
 */
async function commitGuarded(parts: RiskScoringParts, batch: Batch, events: StreamEvent[]): Promise<Committed> {
  const commit = async (evs: StreamEvent[]): Promise<ScoreReport> => {
    const scoring = parts.scorer.score(evs, batch.ackedBelow, batch.ackedBelowByStream);
    const others = evs.length ? parts.alsoCommit.map((f) => f(evs)) : [];
    const failed = (await Promise.allSettled([scoring, ...others])).find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
    return scoring;
  };
  try {
    return { report: await commit(events), ack: batch.entries, poisoned: 0 };
  } catch (err) {
    if (!parts.guard || !events.length) throw err;
    parts.onError?.(err);
    const raws = new Map(batch.entries.map((e) => [`${e.stream}\u0000${e.id}`, e]));
    const r = await commitIsolated(events, {
      commit,
      deliveries: parts.guard.deliveries,
      deadLetter: parts.deadLetter,
      rawOf: (ref) => raws.get(`${ref.stream}\u0000${ref.id}`)!,
      maxDeliveries: parts.guard.maxDeliveries(),
      ...(parts.guard.onPoison ? { onPoison: parts.guard.onPoison } : {}),
    });
    return { report: mergeReports(r.reports), ack: batch.entries.filter((e) => !isHeld(r.held, e)), poisoned: r.poisoned.length };
  }
}

/** The sum of several scoring reports. */
function mergeReports(reports: ScoreReport[]): ScoreReport {
  const out: ScoreReport = { users: 0, applied: 0, skipped: 0, hits: [], changes: [], conflicts: 0, outboxUsers: [] };
  for (const r of reports) {
    out.users += r.users;
    out.applied += r.applied;
    out.skipped += r.skipped;
    out.hits.push(...r.hits);
    out.changes.push(...r.changes);
    out.conflicts += r.conflicts;
    out.outboxUsers.push(...r.outboxUsers.filter((u) => !out.outboxUsers.includes(u)));
  }
  return out;
}

/** Exponential back-off after consecutive errors: 100 ms doubling, at most 5 s. */
function backoff(errors: number): number {
  return Math.min(100 * 2 ** (errors - 1), 5000);
}
