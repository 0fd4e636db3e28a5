/**
 * Log shippers' envelopes (Filebeat, Logstash, Vector, Fluent Bit): the event a shipper wrapped —
 * its original line kept as JSON text, or an object Filebeat decoded — and the envelope's
 * timestamps, which stand in for an event time the event lacks.
 */
import { detectProfile } from './profiles/index.js';
import { isPlainObject } from './profiles/path.js';
import { looksJson, parseJsonObject } from './entry-object.js';
import { Invalid, toEpochMs } from './event-rules.js';

/** Fields in which shippers keep the original log line. */
const SHIPPER_LINE_FIELDS = ['message', 'log'] as const;

/** Shipper timestamps used when the event itself has no `time`. */
const TIME_FALLBACKS = ['@timestamp', 'timestamp', 'date'] as const;

/**
 * The time of an event without `time`: the first of {@link TIME_FALLBACKS} (not null nor empty) in
 * `ev`, then in its `envelope`. The line's own first (an app logging `timestamp`, as winston and
 * structlog do, is when it happened; the envelope's `@timestamp` (Filebeat, Logstash) or
 * `timestamp` (Vector) is when the shipper read it, hours later when it catches up on a backlog) —
 * but one that is no readable time (a syslog `Nov 23 08:00:00`, a `date` meaning something else)
 * gives way to a later one that is, rather than dead-letter the line. None readable: the first,
 * refused as `time_invalid`. Only the candidates up to the first readable one are parsed.
 */
export function shipperTime(ev: Record<string, unknown>, envelope: Record<string, unknown> | undefined): unknown {
  let first: unknown;
  for (const obj of envelope ? [ev, envelope] : [ev]) {
    for (const k of TIME_FALLBACKS) {
      const v = obj[k];
      if (v === undefined || v === null || v === '') continue;
      if (!(toEpochMs(v, k) instanceof Invalid)) return v;
      first ??= v;
    }
  }
  return first;
}

/**
 * A shipper's envelope keeps the original line as text: `message` (Filebeat, Logstash, Vector
 * file source) or `log` (Fluent Bit tail). When the object has no `user` and that field holds a
 * JSON object, that object is the event (the envelope's `@timestamp` remains a time fallback);
 * so is an event object Filebeat decoded under `json`.
 */
export function shipperInner(obj: Record<string, unknown>): Record<string, unknown> | undefined {
  if (obj.user !== undefined) return undefined;
  for (const key of SHIPPER_LINE_FIELDS) {
    const line = obj[key];
    if (typeof line !== 'string' || !looksJson(line)) continue;
    const inner = parseJsonObject(line, key);
    if (typeof inner !== 'string') return inner;
  }
  // Filebeat decoding the line under a target (`json`: the ndjson parser's `target: json`, the log
  // input's `json.*` options without `keys_under_root`): that object, when it is an event.
  const target = obj.json;
  if (isPlainObject(target) && (target.user !== undefined || detectProfile(target) !== null)) return target;
  return undefined;
}

/**
 * With a profile configured (the stream's, or `?profile=`): the object Filebeat decoded under `json`
 * and the profile's mapping of it, when the envelope maps to no `user` (`mapped`) and that object does
 * — a generic profile's record is no canonical event, so {@link shipperInner} cannot tell it.
 */
export function profiledTarget(
  obj: Record<string, unknown>,
  profile: (o: Record<string, unknown>) => Record<string, unknown> | null,
  mapped: Record<string, unknown> | null,
): { obj: Record<string, unknown>; mapped: Record<string, unknown> } | undefined {
  const target = obj.json;
  if (!isPlainObject(target) || obj.user !== undefined || (mapped && mapped.user !== undefined)) return undefined;
  const m = profile(target);
  return m && m.user !== undefined ? { obj: target, mapped: m } : undefined;
}
