import { RiskstreamError } from '../errors.js';
import { isWs, skipValue, skipWs } from './json-scan.js';
import { WrapperKeys, wrappedArray } from './body-wrappers.js';

/**
 * Incremental record splitting of a `POST /v1/events` body (pure, no parsing of the records):
 * one structural scan finds where each record starts and ends, counting as it goes and stopping
 * with PAYLOAD_TOO_LARGE as soon as the count passes the limit — a 5 MB body of tiny records is
 * refused in milliseconds, before anything is parsed. Shapes: a JSON array (its elements), an
 * object wrapping an array in `events` / `records` / `Records` / `value` without a `user` (its elements),
 * one JSON value or several objects (possibly pretty-printed), else NDJSON (one record per non-blank
 * line; a line of objects back to back, Fluent Bit's `format json_stream`, one per object). A record
 * (a line, an element of the body's array) that is such a wrapper is its elements too.
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

function tooMany(limit: number): RiskstreamError {
  return new RiskstreamError('PAYLOAD_TOO_LARGE', `body holds more than ${limit} records`, { limit, what: 'records' });
}

/**
 * Element spans of the array starting at `i` (a `[`), each of NDJSON line `line` (0: none); with
 * `keys` (a body's own array), an element that is a wrapper is its elements ({@link pushRecord}).
 * Throws BAD_REQUEST if it is not a complete array.
 */
function arraySpans(t: string, i: number, out: BodySpans, max: number, line = 0, keys?: WrapperKeys): number {
  const bad = (): RiskstreamError => new RiskstreamError('BAD_REQUEST', 'body starts with "[" but is not a valid JSON array');
  i = skipWs(t, i + 1);
  if (t.charCodeAt(i) === 0x5d) return i + 1;
  for (;;) {
    const end = skipValue(t, i);
    if (end < 0) throw bad();
    if (keys) pushRecord(t, i, end, line, out, max, keys, false);
    else {
      if (out.spans.length / 2 >= max) throw tooMany(max);
      out.spans.push(i, end);
      out.lines.push(line);
    }
    i = skipWs(t, end);
    const c = t.charCodeAt(i);
    if (c === 0x5d) return i + 1;
    if (c !== 0x2c) throw bad();
    i = skipWs(t, i + 1);
  }
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
 * Pushes record `t[s]` … `t[e - 1]` (of NDJSON line `line`, 0 for an array's element): a wrapper
 * object (`{"records":[…]}` without `user`, an Azure Monitor export's message, say) is its elements
 * instead, as a body that is one is; so is a JSON array when `top` (a line or a value of the body,
 * not an element of an array: a page of an API's records appended to a file, say). One whose array
 * is malformed stays the record (refused when parsed). Throws PAYLOAD_TOO_LARGE past `max` records.
 */
function pushRecord(t: string, s: number, e: number, line: number, out: BodySpans, max: number, keys: WrapperKeys, top = true): void {
  const c = t.charCodeAt(s);
  const arr = c === 0x7b && keys.within(s, e) && skipValue(t, s, e) === e ? wrappedArray(t, s) : top && c === 0x5b && skipValue(t, s, e) === e ? s : undefined;
  if (arr !== undefined) {
    const n = out.spans.length;
    try {
      // A wrapper's elements are records as they are (one level); an array's are read as a body's array's.
      arraySpans(t, arr, out, max, line, c === 0x5b ? keys : undefined);
      return;
    } catch (err) {
      if ((err as RiskstreamError).code !== 'BAD_REQUEST') throw err;
      out.spans.length = n;
      out.lines.length = n / 2;
    }
  }
  if (out.spans.length / 2 >= max) throw tooMany(max);
  out.spans.push(s, e);
  out.lines.push(line);
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
 * Fills `out` with the records of `t` from `start` when it is only JSON objects and arrays (each
 * array its elements), white space between or none; false (`out` empty) else.
 */
function concatenated(t: string, start: number, out: BodySpans, max: number): boolean {
  const keys = new WrapperKeys(t);
  let line = 1;
  let nl = t.indexOf('\n'); // the next newline not counted yet: each is found once
  for (let i = start; i < t.length; i = skipWs(t, i)) {
    const c = t.charCodeAt(i);
    const end = c === 0x7b || c === 0x5b ? skipValue(t, i) : -1;
    if (end < 0) {
      out.spans.length = out.lines.length = 0;
      return false;
    }
    for (; nl >= 0 && nl < i; nl = t.indexOf('\n', nl + 1)) line++;
    pushRecord(t, i, end, line, out, max, keys);
    i = end;
  }
  return true;
}

/**
 * Finds the records of a body without parsing them. A record that is a wrapper object (an NDJSON
 * line, an element of the body's array) is its elements, as a body that is one is. Throws
 * PAYLOAD_TOO_LARGE (`details.what: 'records'`) past `maxRecords`, BAD_REQUEST for a body that
 * starts as an array but is not one.
 */
export function splitBody(input: string, maxRecords = Infinity): BodySpans {
  const text = input.charCodeAt(0) === 0xfeff ? input.slice(1) : input;
  const out: BodySpans = { text, spans: [], lines: [], fromArray: false };
  const start = skipWs(text, 0);
  if (start >= text.length) return out;
  const first = text.charCodeAt(start);
  if (first === 0x5b) {
    out.fromArray = true;
    const end = arraySpans(text, start, out, maxRecords, 0, new WrapperKeys(text));
    if (skipWs(text, end) >= text.length) return out;
    // More arrays (or objects) after it — an API's pages of records appended one after another
    // (`[…]\n[…]`, `[…][…]`, `jq .` of each): each array's elements are records.
    out.spans.length = out.lines.length = 0;
    if (!concatenated(text, start, out, maxRecords)) throw new RiskstreamError('BAD_REQUEST', 'body starts with "[" but is not a valid JSON array');
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
  // Pretty-printed objects one after another (`jq .` output, `JSON.stringify(e, null, 2)` per event).
  if (end > 0 && text.lastIndexOf('\n', end) > start && concatenated(text, start, out, maxRecords)) return out;
  // NDJSON: one record per non-blank line (or per object of a line of objects back to back).
  let line = 0;
  let pair = -1; // where "}{" next occurs (from the line scanned), -2 when nowhere: found once, not once per line
  const keys = new WrapperKeys(text);
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
      for (let k = 0; k < (objects?.length ?? 2); k += 2)
        pushRecord(text, objects ? objects[k]! : s, objects ? objects[k + 1]! : e, line, out, maxRecords, keys);
    }
    i = nl + 1;
  }
  return out;
}
