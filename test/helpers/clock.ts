/**
 * Recent event times for end-to-end tests. riskstream expires behaviors in event time, so a test
 * that expects a level rise (and a SET) must replay events that happened recently: a fixed date
 * such as 2026-11-23 would arrive already expired on a later day. `BASE` is fixed per test
 * process (a whole minute, 6 h before the process started), so offsets from it are stable within
 * a run and readable ("08:00 + 2 h" becomes `recent(2 * HOUR)`).
 */
export const MIN = 60_000;
export const HOUR = 60 * MIN;

/** Epoch ms of a recent moment: 6 h before this test process started, on a whole minute. */
export const BASE = Math.floor((Date.now() - 6 * HOUR) / MIN) * MIN;

/** Epoch ms `offsetMs` after {@link BASE} (keep offsets below ~6 h to stay in the past). */
export function recent(offsetMs = 0): number {
  return BASE + offsetMs;
}

/** ISO-8601 of {@link recent}. */
export function recentIso(offsetMs = 0): string {
  return new Date(recent(offsetMs)).toISOString();
}

/** Epoch ms `ms` before the current time (a fresh read of the clock). */
export function ago(ms: number): number {
  return Date.now() - ms;
}
