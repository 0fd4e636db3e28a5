import { defer, EMPTY, from, of, timer, type Observable } from 'rxjs';
import { concatMap, map, repeat, retry, tap } from 'rxjs/operators';
import type { Batch, StreamSource } from '../src/ingest/stream-source.js';
import type { OutboxRelay } from '../src/risk/outbox-relay.js';
import type { Scorer, ScoreReport } from '../src/risk/scorer.js';
import type { CanonicalEvent, RawEntry, StreamEvent } from '../src/types.js';

/** The parts the risk-scoring pipeline is composed of (all built in `src/`). */
export interface RiskScoringParts {
  source: StreamSource;
  /** Decodes one raw entry into a canonical event, or says why it can't. */
  decode(raw: RawEntry): { ok: true; event: CanonicalEvent } | { ok: false; reason: string };
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
}

/** What one batch did. */
export interface BatchReport extends ScoreReport {
  read: number;
  /** Entries read, by input stream. */
  readByStream: Record<string, number>;
  deadLettered: number;
  relayed: number;
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
 * consumer's pending list after a back-off.
 */
export function riskScoring(parts: RiskScoringParts): Observable<BatchReport> {
  let errors = 0;
  return defer(() => from(parts.source.read())).pipe(
    map((batch): Decoded => {
      const events: StreamEvent[] = [];
      const bad: Decoded['bad'] = [];
      for (const raw of batch.entries) {
        const d = parts.decode(raw);
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
      const scoring = parts.scorer.score(d.events, d.batch.ackedBelow, d.batch.ackedBelowByStream);
      const others = d.events.length ? parts.alsoCommit.map((f) => f(d.events)) : [];
      const failed = (await Promise.allSettled([scoring, ...others])).find((r) => r.status === 'rejected');
      if (failed) throw failed.reason;
      return { d, report: await scoring };
    }),
    concatMap(async ({ d, report }) => {
      await parts.source.ack(d.batch.entries);
      const relayed = report.outboxUsers.length ? (await parts.relay.relay(report.outboxUsers)).length : 0;
      errors = 0;
      const readByStream: Record<string, number> = {};
      for (const e of d.batch.entries) readByStream[e.stream] = (readByStream[e.stream] ?? 0) + 1;
      return { ...report, read: d.batch.entries.length, readByStream, deadLettered: d.bad.length, relayed, ms: performance.now() - d.started };
    }),
    tap({
      error: (err: unknown) => {
        parts.source.retryPending();
        parts.onError?.(err);
      },
    }),
    retry({ delay: () => (parts.stopping() ? EMPTY : timer(backoff(++errors))) }),
    repeat({ delay: () => (parts.stopping() ? EMPTY : of(0)) }),
  );
}

/** Exponential back-off after consecutive errors: 100 ms doubling, at most 5 s. */
function backoff(errors: number): number {
  return Math.min(100 * 2 ** (errors - 1), 5000);
}
