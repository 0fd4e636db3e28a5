import { RiskstreamError } from '../errors.js';

/**
 * Incremental record splitting of a `POST /v1/events` body (pure, no parsing of the records):
 * one structural scan finds where each record starts and ends, counting as it goes and stopping
 * with PAYLOAD_TOO_LARGE as soon as the count passes the limit — a 5 MB body of tiny records is
 * refused in milliseconds, before anything is parsed. Shapes: a JSON array (its elements), an
 * object wrapping an array in `events` / `records` / `Records` / `value` without a `user` (its elements),
 * one JSON value (possibly pretty-printed), else NDJSON (one record per non-blank line; a line of
 * objects back to back, Fluent Bit's `format json_stream`, one per object).
 */

/** Where a body's records are: `spans[2i]`…`spans[2i+1]` is record i's text; `lines[i]` its NDJSON line (1-based), else 0. */
export interface BodySpans {
  /** The body text (BOM removed). */
  text: string;
  spans: number[];
  lines: number[];
  /** True when the records came from a JSON array / wrapper, false for NDJSON or one value. */
  fromArray: boolean;
}

/** `value`: a Microsoft Graph page (`{"@odata.context":…,"value":[…]}`, e.g. `auditLogs/signIns`). */
const WRAPPERS = new Set(['events', 'records', 'Records', 'value']);
const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

function skipWs(t: string, i: number): number {
  while (i < t.length && isWs(t.charCodeAt(i))) i++;
  return i;
}

/** Index just past the JSON string starting at `i` (a `"`), or -1 if it does not end before `end`. */
function skipString(t: string, i: number, end = t.length): number {
  for (let j = i + 1; j < end; j++) {
    const c = t.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  return -1;
}

/** Index just past the JSON value starting at `i` (structure only: brackets and strings), or -1 if it does not end before `end`. */
export function skipValue(t: string, i: number, end = t.length): number {
  const c = t.charCodeAt(i);
  if (c === 0x22) return skipString(t, i, end);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < end; j++) {
      const d = t.charCodeAt(j);
      if (d === 0x22) {
        j = skipString(t, j, end) - 1;
        if (j < 0) return -1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < end) {
    const d = t.charCodeAt(j);
    if (d === 0x2c || d === 0x5d || d === 0x7d || isWs(d)) break;
    j++;
  }
  return j > i ? j : -1;
}

function tooMany(limit: number): RiskstreamError {
  return new RiskstreamError('PAYLOAD_TOO_LARGE', `body holds more than ${limit} records`, { limit, what: 'records' });
}

/** Element spans of the array starting at `i` (a `[`); throws BAD_REQUEST if it is not a complete array. */
function arraySpans(t: string, i: number, out: BodySpans, max: number): number {
  const bad = (): RiskstreamError => new RiskstreamError('BAD_REQUEST', 'body starts with "[" but is not a valid JSON array');
  i = skipWs(t, i + 1);
  if (t.charCodeAt(i) === 0x5d) return i + 1;
  for (;;) {
    const end = skipValue(t, i);
    if (end < 0) throw bad();
    if (out.spans.length / 2 >= max) throw tooMany(max);
    out.spans.push(i, end);
    out.lines.push(0);
    i = skipWs(t, end);
    const c = t.charCodeAt(i);
    if (c === 0x5d) return i + 1;
    if (c !== 0x2c) throw bad();
    i = skipWs(t, i + 1);
  }
}

/** The span of a wrapped array (`{"records":[…]}` without `user`), or undefined. */
function wrappedArray(t: string, start: number): number | undefined {
  let i = skipWs(t, start + 1);
  let found: number | undefined;
  while (i < t.length && t.charCodeAt(i) === 0x22) {
    const keyEnd = skipString(t, i);
    if (keyEnd < 0) return undefined;
    let key: unknown;
    try {
      key = JSON.parse(t.slice(i, keyEnd));
    } catch {
      return undefined;
    }
    i = skipWs(t, keyEnd);
    if (t.charCodeAt(i) !== 0x3a) return undefined;
    i = skipWs(t, i + 1);
    if (key === 'user') return undefined;
    if (found === undefined && typeof key === 'string' && WRAPPERS.has(key) && t.charCodeAt(i) === 0x5b) found = i;
    const end = skipValue(t, i);
    if (end < 0) return undefined;
    i = skipWs(t, end);
    if (t.charCodeAt(i) === 0x2c) i = skipWs(t, i + 1);
  }
  return found;
}

/** Fills `out` with the elements of the wrapper object at `start` (filling `text`); false when it is no wrapper. */
function unwrapInto(text: string, start: number, out: BodySpans, maxRecords: number): boolean {
  const arr = wrappedArray(text, start);
  if (arr === undefined) return false;
  out.fromArray = true;
  arraySpans(text, arr, out, maxRecords);
  return true;
}

/**
 * The records of `text` when it is one wrapper object (`{"records":[…]}` and the others, without a
 * `user`), read as {@link splitBody} reads a body that is one: its elements' spans; undefined for
 * any other text (one event, an array, NDJSON, not JSON). Throws BAD_REQUEST when the wrapped array
 * is malformed, PAYLOAD_TOO_LARGE past `maxRecords`.
 */
export function unwrapRecords(text: string, maxRecords = Infinity): BodySpans | undefined {
  const out: BodySpans = { text, spans: [], lines: [], fromArray: false };
  const start = skipWs(text, 0);
  if (text.charCodeAt(start) !== 0x7b) return undefined;
  const end = skipValue(text, start);
  if (end < 0 || skipWs(text, end) < text.length) return undefined;
  return unwrapInto(text, start, out, maxRecords) ? out : undefined;
}

/**
 * The spans of the objects of `t[s]` … `t[e - 1]` when it is two or more JSON objects back to back,
 * with no separator: Fluent Bit's `format json_stream`. Undefined for anything else (one object; a
 * broken one, trailing text: the line stays one record, refused when parsed). Scans within the line
 * only; objects are counted as found (as lines are): past `room` more records, PAYLOAD_TOO_LARGE
 * before the rest of the line is scanned (`limit`: http.max_records).
 */
function backToBack(t: string, s: number, e: number, room: number, limit: number): number[] | undefined {
  const spans: number[] = [];
  for (let i = s; i < e;) {
    if (t.charCodeAt(i) !== 0x7b) return undefined;
    const end = skipValue(t, i, e);
    if (end < 0) return undefined;
    if (spans.length > 0 && spans.length / 2 >= room) throw tooMany(limit);
    spans.push(i, end);
    i = end;
  }
  return spans.length > 2 ? spans : undefined;
}

/**
 * Finds the records of a body without parsing them. Throws PAYLOAD_TOO_LARGE (`details.what:
 * 'records'`) past `maxRecords`, BAD_REQUEST for a body that starts as an array but is not one.
 */
export function splitBody(input: string, maxRecords = Infinity): BodySpans {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const out: BodySpans = { text, spans: [], lines: [], fromArray: false };
  const start = skipWs(text, 0);
  if (start >= text.length) return out;
  const first = text.charCodeAt(start);
  if (first === 0x5b) {
    out.fromArray = true;
    const end = arraySpans(text, start, out, maxRecords);
    if (skipWs(text, end) < text.length) throw new RiskstreamError('BAD_REQUEST', 'body starts with "[" but is not a valid JSON array');
    return out;
  }
  // One value filling the whole body (compact or pretty-printed): a wrapper, or one record.
  const end = first === 0x7b ? skipValue(text, start) : -1;
  if (end > 0 && skipWs(text, end) >= text.length) {
    if (unwrapInto(text, start, out, maxRecords)) return out;
    out.spans.push(start, end);
    out.lines.push(1);
    return out;
  }
  // NDJSON: one record per non-blank line (or per object of a line of objects back to back).
  let line = 0;
  let pair = -1; // where "}{" next occurs (from the line scanned), -2 when nowhere: found once, not once per line
  for (let i = 0; i <= text.length;) {
    let nl = text.indexOf('\n', i);
    if (nl < 0) nl = text.length;
    line++;
    // White space up to this line's end only: a run of blank lines is scanned once, not once per line.
    let s = i;
    while (s < nl && isWs(text.charCodeAt(s))) s++;
    if (s < nl) {
      let e = nl;
      while (e > s && isWs(text.charCodeAt(e - 1))) e--;
      if (pair !== -2 && pair < s) {
        const next = text.indexOf('}{', s);
        pair = next < 0 ? -2 : next;
      }
      const objects = pair >= 0 && pair < e ? backToBack(text, s, e, maxRecords - out.spans.length / 2, maxRecords) : undefined;
      for (let k = 0; k < (objects?.length ?? 2); k += 2) {
        if (out.spans.length / 2 >= maxRecords) throw tooMany(maxRecords);
        out.spans.push(objects ? objects[k]! : s, objects ? objects[k + 1]! : e);
        out.lines.push(line);
      }
    }
    i = nl + 1;
  }
  return out;
}
