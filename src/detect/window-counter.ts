/**
 * Event-time sliding-window counting, shared by dlp_detection, high_dlp and threshold.
 *
 * Semantics:
 * - A window is inclusive: the events with `end - window ≤ time ≤ end`.
 * - An event is placed at its event time. One that arrives later than `allowedLateness` behind
 *   the series' watermark (its newest event time, never ahead of `now`) is dropped as too late.
 * - A crossing is a window that holds ≥ `count` events. It fires at most once per window length
 *   of event time: the earliest crossing fires, then the earliest ending at least `window` after
 *   that firing (`expires_after`, when that is shorter: the earlier hit no longer counts by then), … A window's end
 *   in the future (a skewed clock) is taken at `now` here, as its hit's expiry is. So a burst
 *   fires once, and sustained activity fires again about once per window — which keeps the
 *   behavior's expiry fresh while it goes on, without a hit per event. The firings are those of
 *   event-time order whatever the arrival order (within the allowed lateness): a late event
 *   completing an earlier window than one that fired moves that firing (its hit stays as made) and
 *   so the next ones, and a hit is made for each firing beyond those made.
 * - State is bounded: entries older than `window + allowedLateness` behind the watermark are
 *   pruned, and at most `max(2 × count, 32)` entries are kept: the newest, of which those stamped
 *   after `now` hold at most half (bounded-keep.ts), and as many firings. A late event whose windows
 *   reach behind what the cap kept (or before the firings kept) moves no firing: the firings made stand
 *   and a window fires only clear of all of them (it may fire less often than event-time order, never more). `limits.maxAge`
 *   (the age of remembered logins) does not cut a window: a 14-day window counts 14 days of events.
 */
import { keptRange } from './bounded-keep.js';
import type { DetectorLimits } from './types.js';

/** Compact per-series state: `e` = [event time, event id] sorted by time, `f` = times it fired. */
export interface SlidingCount {
  e: Array<[number, string]>;
  f: number[];
}

/** What to count: `count` events within `window` ms. */
export interface CountSpec {
  count: number;
  window: number;
  /**
   * The behavior's `expires_after` (ms; null = never), when known: a firing suppresses later ones
   * only while its hit still counts — `min(window, expires_after)` —, so a hit that expired (one
   * that arrived expired: a backfill) never silences live activity in the same window.
   */
  expires_after?: number | null;
}

/** A window that reached the count (and was not suppressed). */
export interface Crossing {
  /** Events in the window. */
  count: number;
  /** Event time of its first and last event. */
  start: number;
  end: number;
  /** Ids of its events, oldest first, at most {@link MAX_IDS} (the newest). */
  ids: string[];
}

/** Most event ids a crossing lists. */
export const MAX_IDS = 20;
/** Most entries a series keeps (and most firings: each is at a kept entry's time, or the one before them). */
const entryCap = (spec: CountSpec): number => Math.max(2 * spec.count, 32);

/** True when `w` looks like a {@link SlidingCount} (windows come back from Redis). */
export function isSlidingCount(w: unknown): w is SlidingCount {
  if (!w || typeof w !== 'object') return false;
  const { e, f } = w as Partial<SlidingCount>;
  return (
    Array.isArray(e) &&
    Array.isArray(f) &&
    e.every((x) => Array.isArray(x) && typeof x[0] === 'number' && Number.isFinite(x[0]) && typeof x[1] === 'string') &&
    f.every((x) => typeof x === 'number' && Number.isFinite(x))
  );
}

/** First index whose time is ≥ t (or > t when `after`). */
function bound(e: ReadonlyArray<[number, string]>, t: number, after: boolean): number {
  let lo = 0;
  let hi = e.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    const v = e[mid]![0];
    if (v < t || (after && v === t)) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** The series' watermark: its newest event time, never ahead of `now`. */
function watermark(e: ReadonlyArray<[number, string]>, now: number): number | undefined {
  const last = e[e.length - 1];
  return last === undefined ? undefined : Math.min(last[0], now);
}

/** No firing (shared: most events make none). */
const NONE: readonly Crossing[] = Object.freeze([]);

/**
 * Adds one event (time, id) to a series and reports the firings it makes (usually none or one), oldest first.
 * Pure: returns a new state; the input state is not modified. An id already in the series is ignored.
 */
export function addEvent(
  state: SlidingCount | undefined,
  time: number,
  id: string,
  spec: CountSpec,
  now: number,
  limits: DetectorLimits,
): { state: SlidingCount; crossings: readonly Crossing[]; late: boolean } {
  const prev: SlidingCount = isSlidingCount(state) ? state : { e: [], f: [] };
  const wmBefore = watermark(prev.e, now);
  const lateness = Math.max(0, limits.allowedLateness);
  if (!Number.isFinite(time) || (wmBefore !== undefined && time < wmBefore - lateness)) {
    return { state: prev, crossings: NONE, late: true };
  }
  // An event seen again by its id, whatever its time: a retry of an event without a time of its
  // own is given the time it is read again.
  for (let i = 0; i < prev.e.length; i++) if (prev.e[i]![1] === id) return { state: prev, crossings: NONE, late: false };
  const at = bound(prev.e, time, true);
  const e = [...prev.e.slice(0, at), [time, id] as [number, string], ...prev.e.slice(at)];
  const W = spec.window;
  const hold = typeof spec.expires_after === 'number' ? Math.min(W, spec.expires_after) : W;

  // The firings are those event-time order makes — the earliest window reaching the count, then
  // the earliest at least `hold` after the one before, … — whatever the arrival order: those before
  // the new event stand (it ends no window before it), those from it on are worked out again (a
  // late event may complete an earlier window, which moves the next ones). A firing is remembered at
  // its end taken at most at `now`, where its hit's expiry counts from (reducer's hitExpiry): a burst
  // stamped in the future silences the window only while its hit counts. The firings beyond as many
  // as were made from the new event's time on are new: one hit each (a late event completing an
  // earlier window may make room for a later one, or complete two windows `hold` apart).
  // Worked out again only on whole data: when the cap may have dropped entries a window from the new
  // event on still needs, or the firings kept may have dropped the one before it, the firings made
  // stand and a window fires only clear of every one of them (a recomputation on partial data would
  // forget firings whose hits were made, then fire their windows again).
  const cap = entryCap(spec);
  const partial = (prev.e.length >= cap && time - W <= prev.e[0]![0]) || (prev.f.length >= cap && time <= Math.min(...prev.f));
  if (partial) return addBeside(prev, e, at, time, spec, hold, now, limits);
  const kept = prev.f.filter((x) => x < time);
  const made = prev.f.length - kept.length;
  let last = kept.length ? Math.max(...kept) : -Infinity;
  const crossings: Crossing[] = [];
  for (let j = at; j < e.length; j++) {
    const end = e[j]![0];
    if (j + 1 < e.length && e[j + 1]![0] === end) continue; // evaluate each end time once
    const firedAt = Math.min(end, now);
    if (firedAt - last < hold) continue;
    const lo = bound(e, end - W, false);
    const count = j - lo + 1;
    if (count < spec.count) continue;
    kept.push(firedAt);
    last = firedAt;
    if (kept.length - (prev.f.length - made) <= made) continue;
    const ids = e.slice(Math.max(lo, j + 1 - MAX_IDS), j + 1).map((x) => x[1]);
    crossings.push({ count, start: e[lo]![0], end, ids });
  }
  return { state: prune({ e, f: kept }, spec, now, limits), crossings: crossings.length ? crossings : NONE, late: false };
}

/** The firings of the windows holding the new event (at `at` in `e`) clear of every firing made. */
function addBeside(
  prev: SlidingCount,
  e: Array<[number, string]>,
  at: number,
  time: number,
  spec: CountSpec,
  hold: number,
  now: number,
  limits: DetectorLimits,
): { state: SlidingCount; crossings: readonly Crossing[]; late: boolean } {
  const f = [...prev.f];
  const crossings: Crossing[] = [];
  for (let j = at; j < e.length && e[j]![0] <= time + spec.window; j++) {
    const end = e[j]![0];
    if (j + 1 < e.length && e[j + 1]![0] === end) continue;
    const firedAt = Math.min(end, now);
    const lo = bound(e, end - spec.window, false);
    if (j - lo + 1 < spec.count || f.some((x) => Math.abs(firedAt - x) < hold)) continue;
    f.push(firedAt);
    crossings.push({ count: j - lo + 1, start: e[lo]![0], end, ids: e.slice(Math.max(lo, j + 1 - MAX_IDS), j + 1).map((x) => x[1]) });
  }
  return { state: prune({ e, f }, spec, now, limits), crossings: crossings.length ? crossings : NONE, late: false };
}

/** Drops entries and firings no future on-time event can need, and caps the entry count. */
export function prune(s: SlidingCount, spec: CountSpec, now: number, limits: DetectorLimits): SlidingCount {
  const wm = watermark(s.e, now);
  if (wm === undefined) return { e: [], f: [] };
  const lateness = Math.max(0, limits.allowedLateness);
  const keep = spec.window + lateness;
  const from = bound(s.e, wm - keep, false);
  const cap = entryCap(spec);
  const e = s.e.length - from > cap ? s.e.slice(...keptRange(from, s.e.length, cap, now, (i) => s.e[i]![0])) : s.e.slice(from);
  const f = s.f
    .filter((x) => x >= wm - lateness - spec.window)
    .sort((a, b) => a - b)
    .slice(-cap);
  return { e, f };
}
