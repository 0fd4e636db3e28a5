import type { Cluster, Redis } from 'ioredis';
import { isRiskstreamError, RiskstreamError } from '../errors.js';
import type { EntryRef, RawEntry, StreamEvent } from '../types.js';

/**
 * The poison-entry guard (issue 13, must-have 1): when a batch fails, its entries are committed
 * one by one so one bad entry cannot hold the others back. An entry that still fails is left
 * pending (re-read after a back-off); once the consumer group has delivered it
 * `ingest.max_deliveries` times it is dead-lettered with `processing_failed: <error code>` and
 * acked. Events after a failed one of the same user stay pending too (a user's order is kept).
 */

/** Stable reason code of an entry dead-lettered by the guard. */
export const PROCESSING_FAILED = 'processing_failed';

/** A stable code for an error (never its message: messages may quote input). */
export function errorCode(err: unknown): string {
  if (isRiskstreamError(err)) return err.code;
  const name = (err as { name?: unknown } | null)?.name;
  return name === 'ReplyError' ? 'REDIS_REPLY' : 'INTERNAL';
}

/** The dead-letter reason of an entry given up after `deliveries` attempts. */
export function poisonReason(err: unknown, deliveries: number): string {
  return `${PROCESSING_FAILED}: ${errorCode(err)} (after ${deliveries} deliveries)`;
}

const refKey = (r: EntryRef): string => `${r.stream}\u0000${r.id}`;

/** How many times the group delivered each entry (XPENDING), by `stream\0id`; 0 when not pending. */
export async function deliveryCounts(redis: Redis | Cluster, group: string, refs: readonly EntryRef[]): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  if (!refs.length) return out;
  const p = redis.pipeline();
  for (const r of refs) p.xpending(r.stream, group, r.id, r.id, 1);
  const res = (await p.exec()) ?? [];
  refs.forEach((r, i) => {
    const [err, rows] = res[i] ?? [new RiskstreamError('INTERNAL', 'no reply')];
    if (err) throw err;
    const row = (rows as Array<[string, string, number, number]>)[0];
    out.set(refKey(r), row ? Number(row[3]) : 0);
  });
  return out;
}

/** What the guard needs: a commit of some events, delivery counts, dead-lettering. */
export interface PoisonDeps<R> {
  /** Commits events (scoring, session audit …): all or nothing. */
  commit(events: StreamEvent[]): Promise<R>;
  deliveries(refs: readonly EntryRef[]): Promise<Map<string, number>>;
  deadLetter(items: Array<{ raw: RawEntry; reason: string }>): Promise<void>;
  /** The raw entry of an event (for the dead-letter copy). */
  rawOf(ref: EntryRef): RawEntry;
  maxDeliveries: number;
  /** Told about every entry dead-lettered by the guard (metric, log line). */
  onPoison?(ref: EntryRef, code: string, deliveries: number): void;
}

/** What {@link commitIsolated} did. */
export interface IsolatedResult<R> {
  /** Reports of the events committed one by one. */
  reports: R[];
  /** Entries that must stay pending (failed, below max deliveries, or after a failed one of their user). */
  held: Set<string>;
  /** Entries dead-lettered by the guard (to ack). */
  poisoned: EntryRef[];
}

/**
 * Commits `events` one at a time, in order. Failures are held or, past `maxDeliveries`,
 * dead-lettered. Throws only when the delivery counts or the dead-letter write fail (Redis is
 * down: the whole batch is then retried as before).
 */
export async function commitIsolated<R>(events: readonly StreamEvent[], deps: PoisonDeps<R>): Promise<IsolatedResult<R>> {
  const result: IsolatedResult<R> = { reports: [], held: new Set(), poisoned: [] };
  const failedUsers = new Set<string>();
  const failures: Array<{ ev: StreamEvent; err: unknown }> = [];
  for (const ev of events) {
    if (failedUsers.has(ev.event.user)) {
      result.held.add(refKey(ev.ref));
      continue;
    }
    try {
      result.reports.push(await deps.commit([ev]));
    } catch (err) {
      failedUsers.add(ev.event.user);
      failures.push({ ev, err });
    }
  }
  if (!failures.length) return result;
  const counts = await deps.deliveries(failures.map((f) => f.ev.ref));
  const dead: Array<{ raw: RawEntry; reason: string }> = [];
  for (const { ev, err } of failures) {
    const n = counts.get(refKey(ev.ref)) ?? 0;
    if (n >= deps.maxDeliveries) {
      dead.push({ raw: { ...deps.rawOf(ev.ref), deliveries: n }, reason: poisonReason(err, n) });
      result.poisoned.push(ev.ref);
      deps.onPoison?.(ev.ref, errorCode(err), n);
    } else result.held.add(refKey(ev.ref));
  }
  if (dead.length) await deps.deadLetter(dead);
  return result;
}

/** True when `ref` is in a `held` set of {@link commitIsolated}. */
export function isHeld(held: ReadonlySet<string>, ref: EntryRef): boolean {
  return held.has(refKey(ref));
}
