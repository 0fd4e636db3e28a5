import { defer, EMPTY, from, of, timer, type Observable } from 'rxjs';
import { concatMap, map, repeat, retry, tap } from 'rxjs/operators';
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

interface Decoded {
  batch: Batch;
  events: StreamEvent[];
  bad: Array<{ raw: RawEntry; reason: string }>;
  started: number;
}

/**
 * Risk scoring: read a batch (consumer group) → decode → dead-letter the bad → enrich →
 * session audit and score (detect + reduce + commit per user), concurrently → ack → relay level changes to
 * the delivery queue. One batch at a time (read → … → ack, then the next read): ordered, with
 * natural back-pressure. On an error nothing is acked and the batch is re-read from the
 * consumer's pending list after a back-off — with a `guard`, a failed batch is committed entry
 * by entry instead: the others are acked, the failing one retried and, past `max_deliveries`,
 * dead-lettered (`processing_failed`), so no entry can stop the pipeline.
 */
export function riskScoring(parts: RiskScoringParts): Observable<BatchReport> {
  let errors = 0;
  let held = 0;
  return defer(() => from(parts.source.read())).pipe(
    map((batch): Decoded => {
      const events: StreamEvent[] = [];
      const bad: Decoded['bad'] = [];
      const now = Date.now();
      for (const raw of batch.entries) {
        let d: ReturnType<RiskScoringParts['decode']>;
        try {
          d = parts.decode(raw, now);
        } catch (err) {
          d = { ok: false, reason: `decode_failed: ${errorCode(err)}` }; // a decoder bug never stops the pipeline
        }
        if (d.ok) events.push({ ref: { stream: raw.stream, id: raw.id }, event: d.event, deliveries: raw.deliveries });
        else bad.push({ raw, reason: d.reason });
      }
      return { batch, events, bad, started: performance.now() };
    }),
    concatMap(async (d) => {
      if (d.bad.length) await parts.deadLetter(d.bad);
      if (parts.enrich && d.events.length) await parts.enrich(d.events);
      return d;
    }),
    concatMap(async (d) => {
      // Session audit and scoring write different keys, so they run together: one's Redis round
      // trips overlap the other's CPU work. Both settle before the batch is acked (or failed).
      const commit = async (events: StreamEvent[]): Promise<ScoreReport> => {
        const scoring = parts.scorer.score(events, d.batch.ackedBelow, d.batch.ackedBelowByStream);
        const others = events.length ? parts.alsoCommit.map((f) => f(events)) : [];
        const failed = (await Promise.allSettled([scoring, ...others])).find((r) => r.status === 'rejected');
        if (failed) throw failed.reason;
        return scoring;
      };
      try {
        return { d, report: await commit(d.events), ack: d.batch.entries, poisoned: 0 };
      } catch (err) {
        if (!parts.guard || !d.events.length) throw err;
        parts.onError?.(err);
        const raws = new Map(d.batch.entries.map((e) => [`${e.stream}\u0000${e.id}`, e]));
        const r = await commitIsolated(d.events, {
          commit,
          deliveries: parts.guard.deliveries,
          deadLetter: parts.deadLetter,
          rawOf: (ref) => raws.get(`${ref.stream}\u0000${ref.id}`)!,
          maxDeliveries: parts.guard.maxDeliveries(),
          ...(parts.guard.onPoison ? { onPoison: parts.guard.onPoison } : {}),
        });
        return { d, report: mergeReports(r.reports), ack: d.batch.entries.filter((e) => !isHeld(r.held, e)), poisoned: r.poisoned.length };
      }
    }),
    concatMap(async ({ d, report, ack, poisoned }) => {
      await parts.source.ack(ack);
      const relayed = report.outboxUsers.length ? (await parts.relay.relay(report.outboxUsers)).length : 0;
      held = d.batch.entries.length - ack.length;
      if (held) parts.source.retryPending();
      else errors = 0;
      const readByStream: Record<string, number> = {};
      for (const e of d.batch.entries) readByStream[e.stream] = (readByStream[e.stream] ?? 0) + 1;
      return {
        ...report,
        read: d.batch.entries.length,
        readByStream,
        deadLettered: d.bad.length + poisoned,
        relayed,
        held,
        acked: ack.length,
        ms: performance.now() - d.started,
      };
    }),
    tap({
      error: (err: unknown) => {
        parts.source.retryPending();
        parts.onError?.(err);
      },
    }),
    retry({ delay: () => (parts.stopping() ? EMPTY : timer(backoff(++errors))) }),
    // Entries held after a failed batch are re-read after the same back-off as a failed batch.
    repeat({ delay: () => (parts.stopping() ? EMPTY : held ? timer(backoff(++errors)) : of(0)) }),
  );
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
