/**
 * Retention of idle users (`state.idle_user_ttl`): which users a partition may forget — its state
 * field and index members deleted — because forgetting them changes nothing anyone can observe
 * later but that the user is unknown (low, version 0) until it is seen again. Pure: event time
 * only (the partition's watermark, given), no clock.
 *
 * A user is a candidate (listed in the partition's idle index) only while its level is low, its
 * version is 0 (no level change was ever made: no SET, no delivery record, nothing a receiver
 * orders by version), it has no active behavior, no revocation mark and nothing vouched for by a
 * reset. A candidate is forgotten once idle for the TTL — one remembering hits that expired (their
 * ids, so a redelivery records no second risk event) only once idle for the risk-event retention
 * (`state.risk_event_retention`; kept for good without one), as its risk events:
 * its last applied item and every time its detectors remember lie at least the TTL behind the
 * watermark — a TTL never shorter than the longest window, `state.login_max_age` and the allowed
 * lateness, so no window holds anything that could still count. Kept for good: a user whose
 * new_country history has learned a country (a successful located login: forgetting it would
 * start its learning again). Users with outbox entries are kept by the sweep (src/engine/forget.ts),
 * which reads those keys, and users with risk events until those are past their retention.
 */
import type { BehaviorConfig } from '../config/behaviors-schema.js';
import type { DetectorLimits } from '../detect/types.js';
import { LATE_HITS } from './late-hits.js';
import { VOUCHED } from './level-change.js';
import { emptyState, seen, type UserState } from './state.js';

/** The idle index's resolution: a user's score moves (one ZADD in its commit) at most once per bucket. */
export const IDLE_BUCKET_MS = 3_600_000;

/**
 * The user's idle-index score — the end of the hour of its last applied item — or null when it is
 * no candidate for forgetting (see the module comment; a learned country history included, so real
 * users who logged in from somewhere are not listed) nor, its level changed (version > 0), low and
 * nothing active, for its risk events' retention ({@link idleVerdict} `prune`). Cheap: called per committed user.
 */
export function idleScore(state: UserState): number | null {
  if (state.level !== 'low' || !seen(state)) return null;
  for (const _ in state.behaviors) return null;
  const hour = Math.ceil(state.updatedAt / IDLE_BUCKET_MS) * IDLE_BUCKET_MS;
  // A level changed: never forgotten (receivers order its SETs by version), listed for its risk events' retention.
  if (state.version !== 0) return hour;
  if (state.revokedUpTo !== undefined || VOUCHED in state.windows) return null;
  // A country history that has learned a country (new_country's window, by its shape): kept for good, never listed.
  for (const id in state.windows) if (learnedCountry(state.windows[id])) return null;
  return hour;
}

/** True for a new_country window (`f`, `l`, `c`) past its `s: 0` (a successful located login taught it a country). */
function learnedCountry(w: unknown): boolean {
  if (typeof w !== 'object' || w === null || Array.isArray(w)) return false;
  const { f, l, c, s } = w as { f?: unknown; l?: unknown; c?: unknown; s?: unknown };
  return typeof f === 'number' && typeof l === 'number' && typeof c === 'object' && c !== null && s !== 0;
}

/**
 * The idle TTL in force: `ttl` (0: retention off, null), but never shorter than what a detector
 * may still look back over — the longest `window` of the enabled behaviors, `login_max_age` —
 * plus the allowed lateness.
 */
export function effectiveIdleTtl(ttl: number, behaviors: readonly BehaviorConfig[], limits: DetectorLimits): number | null {
  if (!(ttl > 0)) return null;
  let longest = Math.max(0, limits.maxAge);
  for (const b of behaviors) {
    const w = b.params.window;
    if (b.enabled && typeof w === 'number' && Number.isFinite(w)) longest = Math.max(longest, w);
  }
  return Math.max(ttl, longest + Math.max(0, limits.allowedLateness));
}

/** What the sweep does with a user listed in the idle index. */
export type IdleVerdict =
  /** Forget it (its keys of risk events and outbox must be absent too). */
  | { kind: 'forget' }
  /** A user whose level changed, idle past the risk-event retention: its risk events deleted, its state kept (its version orders receivers' SETs); out of the index. */
  | { kind: 'prune' }
  /** Not (yet) idle, or kept while risk events are kept for good: listed again at `score`. */
  | { kind: 'later'; score: number }
  /** No candidate (any more): taken out of the index (a later commit lists it again if it becomes one). */
  | { kind: 'keep' };

/** The ids of the new_country behaviors configured (their windows are the users' country histories). */
export function learnerIds(behaviors: readonly BehaviorConfig[]): ReadonlySet<string> {
  let ids = learners.get(behaviors);
  if (!ids) learners.set(behaviors, (ids = new Set(behaviors.filter((b) => b.kind === 'new_country').map((b) => b.id))));
  return ids;
}

const learners = new WeakMap<readonly BehaviorConfig[], ReadonlySet<string>>();

/**
 * What retention is applied with: the TTL in force ({@link effectiveIdleTtl}), the {@link learnerIds}
 * and, when risk events are not kept for good, their retention in force ({@link effectiveEventRetention}).
 */
export interface Retention {
  ttl: number;
  learners: ReadonlySet<string>;
  /** `state.risk_event_retention` in force (ms, never under `ttl`): a candidate kept only for its risk events is forgotten with them once its newest time lies this far behind. Absent: kept for good. */
  events?: number;
}

/** The risk-event retention in force: `retention` (0: kept for good, undefined), never shorter than the idle TTL in force. */
export function effectiveEventRetention(retention: number, ttl: number): number | undefined {
  return retention > 0 ? Math.max(retention, ttl) : undefined;
}

/** The idle-index score that lists a user again a TTL of input time after `watermark` (one kept for good while risk events are). */
export function relistScore(watermark: number): number {
  return Math.ceil(watermark / IDLE_BUCKET_MS) * IDLE_BUCKET_MS;
}

/**
 * The idle-index score that lists a candidate kept for its risk events again when they may go: its
 * score (an idle TTL after it is due) moved by what the risk-event retention adds to the TTL.
 */
export function eventsDueScore(score: number, r: Retention): number {
  return score + Math.max(0, (r.events ?? r.ttl) - r.ttl);
}

/**
 * The state an item arriving at `at` is applied to: `state`, or a new user's when `state` is idle
 * past the TTL at `at` ({@link idleVerdict}). The rule that makes forgetting deterministic: the
 * sweep deletes only states this would replace at the user's next item (whose arrival is at or
 * after the watermark it judged by), so a run with the deletion and one without (a crash, a sweep
 * later) apply every later item to the same state. `dropEvents` is called when the user's risk
 * events are past their retention at `at` (forgotten with them, or its level changed: pruned) — the
 * item's commit deletes them before it records new ones, so their history does not depend on
 * whether the sweep's deletion landed first either.
 */
export function unlessIdle(state: UserState, at: number, r: Retention | undefined, dropEvents?: () => void): UserState {
  // The common case (called per item): seen within the TTL, never 'forget' — no verdict built.
  if (!r || state.updatedAt > at - r.ttl) return state;
  const v = idleVerdict(state, at, r.ttl, r.learners, r.events);
  if (v.kind === 'prune') dropEvents?.();
  if (v.kind !== 'forget') return state;
  // Its risk events go with it once past their retention, as the sweep judges them (src/engine/forget.ts).
  if (r.events !== undefined && idleVerdict(state, at, r.events, r.learners, r.events).kind === 'forget') dropEvents?.();
  return emptyState(state.user);
}

/**
 * Whether `state` may be forgotten at `watermark` (the partition's event time) after `ttl` idle
 * (an {@link effectiveIdleTtl}) — `events` (the risk-event retention in force; absent: kept for
 * good) if it remembers hits that expired, or if its level changed (then `prune`, never `forget`). Its newest time is its last applied item's, or a later one any of
 * its detector windows holds (a future-stamped event): every number in them counts as a time, so
 * nothing a window keeps is ever younger than the TTL when the user is forgotten. `learners`:
 * {@link learnerIds} — a window of theirs that has learned a country keeps the user.
 */
export function idleVerdict(state: UserState, watermark: number, ttl: number, learners: ReadonlySet<string>, events?: number): IdleVerdict {
  const score = idleScore(state);
  if (score === null) return { kind: 'keep' };
  // Ids of hits that expired (risk events' dedupe): remembered as long as risk events are kept.
  const late = LATE_HITS in state.windows;
  const changed = state.version !== 0; // never forgotten: its risk events are pruned
  // Kept while risk events are kept for good, yet listed (once a TTL of input time): a retention turned on later reaches it.
  if ((late || changed) && events === undefined) return { kind: 'later', score: Math.max(score, relistScore(watermark)) };
  const hold = late || changed ? Math.max(events!, ttl) : ttl;
  const shift = hold - ttl; // the index lists a user at its score + the TTL: one held longer, later
  if (state.updatedAt > watermark - hold) return { kind: 'later', score: score + shift }; // the common case: no window read
  for (const id of changed ? [] : learners) {
    const w = state.windows[id] as { s?: unknown } | undefined;
    if (w !== undefined && (typeof w !== 'object' || w === null || w.s !== 0)) return { kind: 'keep' };
  }
  const newest = Math.max(state.updatedAt, newestNumber(state.windows, 0));
  if (!Number.isFinite(newest)) return { kind: 'keep' };
  if (newest > watermark - hold) return { kind: 'later', score: Math.max(score, Math.ceil(newest / IDLE_BUCKET_MS) * IDLE_BUCKET_MS) + shift };
  return changed ? { kind: 'prune' } : { kind: 'forget' };
}

/** The largest number anywhere in `v` (-Infinity if none; Infinity past a depth no stored window has: kept). */
function newestNumber(v: unknown, depth: number): number {
  if (typeof v === 'number') return Number.isNaN(v) ? -Infinity : v;
  if (typeof v !== 'object' || v === null) return -Infinity;
  if (depth > 16) return Infinity;
  let max = -Infinity;
  for (const x of Array.isArray(v) ? v : Object.values(v)) max = Math.max(max, newestNumber(x, depth + 1));
  return max;
}
