import type { CanonicalEvent } from '../types.js';
import { formatDuration } from '../duration.js';

/**
 * The plausible and representable range of input times (issue 13 row 1, issue 14 item 4). Pure:
 * every check takes `now` as an argument.
 *
 * - Representable: a finite epoch ms in [0, 8.64e15] (what a JS `Date` holds). Anything else
 *   (`1e21`, `1e308`, negative) is refused by the event schema, whatever the window.
 * - Plausible: an event's `time` inside [now - max_past, now + max_future].
 * - A session's `expires_at` is capped to `time + max_session_lifetime` (capped, not refused: the
 *   login itself is genuine and is still scored; only its stored lifetime is bounded).
 */

/** Stable reason code of a time outside the representable or plausible range. */
export const TIME_OUT_OF_RANGE = 'time_out_of_range';
/** Stable reason code of a time that is not a time at all (unparseable string, wrong type). */
export const TIME_INVALID = 'time_invalid';

/** Largest epoch ms a JavaScript `Date` can represent (year 275760). */
export const MAX_EPOCH_MS = 8.64e15;

/** The `ingest` bounds on times, in ms. */
export interface TimeWindow {
  maxPast: number;
  maxFuture: number;
  maxSessionLifetime: number;
}

/** The shipped defaults (`ingest.max_past` 365d, `max_future` 2d, `max_session_lifetime` 90d). */
export const DEFAULT_TIME_WINDOW: TimeWindow = { maxPast: 365 * 86_400_000, maxFuture: 2 * 86_400_000, maxSessionLifetime: 90 * 86_400_000 };

/** True for a finite epoch ms a `Date` can hold (0 … 8.64e15). */
export function isRepresentableTime(ms: number): boolean {
  return Number.isFinite(ms) && ms >= 0 && ms <= MAX_EPOCH_MS;
}

/**
 * Why `time` is outside [now - maxPast, now + maxFuture], or null when inside. The reason is
 * `<field>: time_out_of_range (…)` and never quotes the value.
 */
export function timeOutOfWindow(time: number, now: number, w: TimeWindow, field = 'time'): string | null {
  if (!isRepresentableTime(time)) return `${field}: ${TIME_OUT_OF_RANGE} (not a representable time)`;
  if (time > now + w.maxFuture) return `${field}: ${TIME_OUT_OF_RANGE} (more than ${formatDuration(w.maxFuture)} in the future)`;
  if (time < now - w.maxPast) return `${field}: ${TIME_OUT_OF_RANGE} (more than ${formatDuration(w.maxPast)} in the past)`;
  return null;
}

/**
 * Applies the window to a validated event: refuses a `time` outside it, caps `session.expires_at`
 * at `time + maxSessionLifetime` (returning a copy; the input is not changed).
 */
export function applyTimeWindow(event: CanonicalEvent, now: number, w: TimeWindow): { ok: true; event: CanonicalEvent } | { ok: false; reason: string } {
  const bad = timeOutOfWindow(event.time, now, w);
  if (bad) return { ok: false, reason: bad };
  const exp = event.session?.expires_at;
  if (typeof exp === 'number' && exp > event.time + w.maxSessionLifetime) {
    return { ok: true, event: { ...event, session: { ...event.session!, expires_at: event.time + w.maxSessionLifetime } } };
  }
  return { ok: true, event };
}

/** The window from the `ingest` config section. */
export function timeWindowOf(ingest: { max_past: number; max_future: number; max_session_lifetime: number }): TimeWindow {
  return { maxPast: ingest.max_past, maxFuture: ingest.max_future, maxSessionLifetime: ingest.max_session_lifetime };
}
