/**
 * Bounds on what a hit quotes from its event. A detector's summary and evidence quote event fields
 * (a detection name, a device id, a file name) that an event may make as long as
 * `ingest.max_event_size`; each hit is kept in the user's state, appended to the risk events (the
 * user's and the shared stream), audited with its level change and sent in every receiver's SET as
 * `reason_admin`. Cut here, a 1 MiB detection name no longer becomes megabytes of state and risk
 * events, nor a SET that receivers refuse as too large (the level change then never reached them).
 * Pure.
 */
import { cutChars } from '../text.js';

/** Longest summary of a hit, and longest string in its evidence (characters; a user id fits whole). */
export const MAX_HIT_TEXT = 1024;

/** `s` cut to {@link MAX_HIT_TEXT} characters, ending in `…` when cut. */
export function boundedText(s: string): string {
  return s.length <= MAX_HIT_TEXT ? s : `${cutChars(s, MAX_HIT_TEXT - 1)}…`;
}

/** `v` with every string in it (values, arrays, nested objects) cut as {@link boundedText} does; `v` itself when nothing is cut. */
export function boundedTexts<T>(v: T): T {
  if (typeof v === 'string') return boundedText(v) as T;
  if (Array.isArray(v)) {
    const out = v.map(boundedTexts);
    return out.some((x, i) => x !== v[i]) ? (out as T) : v;
  }
  if (v === null || typeof v !== 'object') return v;
  let out: Record<string, unknown> | undefined;
  for (const [k, x] of Object.entries(v)) {
    const b = boundedTexts(x);
    if (b !== x) (out ??= { ...(v as Record<string, unknown>) })[k] = b;
  }
  return (out as T) ?? v;
}
