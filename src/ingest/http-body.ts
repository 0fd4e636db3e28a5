import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import type { StreamNames } from '../config/load.js';
import { RiskstreamError } from '../errors.js';
import type { CanonicalEvent } from '../types.js';
import { decodeObject, type DecodeOptions } from './decode.js';
import { LOGIN_TYPES } from './event-schema.js';
import { isPlainObject } from './profiles/path.js';

/**
 * Body parsing for `POST /v1/events` (pure: no I/O). Accepts, gzip/deflate/br-compressed or not:
 * - NDJSON: Vector `codec: json` + `framing.method: newline_delimited`, Fluent Bit
 *   `format json_lines`, `curl --data-binary @events.ndjson`;
 * - a JSON array: Vector's http sink default for `codec: json`, Fluent Bit `format json`
 *   (records carry a `date` field, used as `time` when the event has none);
 * - a single JSON object, or an object wrapping an array in `events` / `records` / `Records`
 *   (Azure diagnostic export, CloudTrail log files).
 */

/** One record of a body: decoded, or rejected with a reason. `raw` is its JSON text. */
export type BodyItem = { ok: true; event: CanonicalEvent; raw: string } | { ok: false; reason: string; raw: string };

export interface BodyOptions {
  /** Max body size after decompression (bytes); beyond → PAYLOAD_TOO_LARGE. */
  maxBytes: number;
  /** Max records per body; beyond → PAYLOAD_TOO_LARGE. Default: no limit. */
  maxEvents?: number;
  /** Mapping options (profiles, vendor detection). */
  decode?: DecodeOptions;
  /** Stream whose mapping profile applies; by default none (vendor shapes are auto-detected). */
  stream?: string;
}

const DECOMPRESS = {
  gzip: promisify(gunzip),
  'x-gzip': promisify(gunzip),
  deflate: promisify(inflate),
  br: promisify(brotliDecompress),
} as const;

const REJECTED_TYPES = /^(application\/(x-)?msgpack|multipart\/)/i;
const WRAPPERS = ['events', 'records', 'Records'] as const;

/**
 * Decompresses per Content-Encoding (identity, gzip, x-gzip, deflate, br) with an output limit.
 * Throws PAYLOAD_TOO_LARGE past `maxBytes`, BAD_REQUEST for an unknown encoding or corrupt data.
 */
export async function decompressBody(body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<Buffer> {
  let enc = (contentEncoding ?? '').trim().toLowerCase();
  // A gzip body sent without Content-Encoding (as `Content-Type: application/gzip`, or by a
  // shipper that compresses but does not say so) is recognised by its magic bytes: JSON and
  // NDJSON never start with 0x1f 0x8b.
  if (enc === '' && body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b) enc = 'gzip';
  if (enc === '' || enc === 'identity') {
    if (body.length > maxBytes) throw tooLarge(maxBytes);
    return body;
  }
  const fn = Object.hasOwn(DECOMPRESS, enc) ? DECOMPRESS[enc as keyof typeof DECOMPRESS] : undefined;
  if (!fn) throw new RiskstreamError('BAD_REQUEST', `unsupported Content-Encoding "${enc}" (gzip, deflate, br or none)`);
  try {
    return await fn(body, { maxOutputLength: maxBytes });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ERR_BUFFER_TOO_LARGE' || e instanceof RangeError) throw tooLarge(maxBytes);
    throw new RiskstreamError('BAD_REQUEST', `body is not valid ${enc} data: ${(e as Error).message}`);
  }
}

function tooLarge(maxBytes: number): RiskstreamError {
  return new RiskstreamError('PAYLOAD_TOO_LARGE', `body exceeds ${maxBytes} bytes after decompression`, { limit: maxBytes });
}

/** A record before decoding: its parsed value, or the reason it could not be parsed. */
interface Record_ {
  raw: string;
  value?: unknown;
  error?: string;
}

function tryParse(text: string): { value: unknown } | undefined {
  try {
    return { value: JSON.parse(text) };
  } catch {
    return undefined;
  }
}

function fromValue(v: unknown): Record_[] {
  if (Array.isArray(v)) return v.map((value) => ({ raw: JSON.stringify(value) ?? 'null', value }));
  if (isPlainObject(v) && v.user === undefined) {
    for (const w of WRAPPERS) {
      const inner = v[w];
      if (Array.isArray(inner)) return fromValue(inner);
    }
  }
  return [{ raw: JSON.stringify(v) ?? 'null', value: v }];
}

/** Splits a body's text into records: JSON array, NDJSON lines, or one (pretty-printed) object. */
export function splitRecords(text: string): Record_[] {
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  const start = body.trimStart();
  if (start === '') return [];
  if (start[0] === '[') {
    const whole = tryParse(body);
    if (!whole) throw new RiskstreamError('BAD_REQUEST', 'body starts with "[" but is not a valid JSON array');
    return fromValue(whole.value);
  }
  const lines = body.split('\n');
  const out: Record_[] = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!.trim();
    if (line === '') continue;
    const parsed = tryParse(line);
    if (out.length === 0 && !parsed) {
      // Not NDJSON: maybe one object spread over several lines.
      const whole = tryParse(body);
      if (whole) return fromValue(whole.value);
    }
    if (parsed) out.push({ raw: line, value: parsed.value });
    else out.push({ raw: line, error: `line ${i + 1}: invalid JSON` });
  }
  if (out.length === 1 && out[0]!.value !== undefined) return fromValue(out[0]!.value);
  return out;
}

/**
 * Parses a `POST /v1/events` body into decoded records. Throws PAYLOAD_TOO_LARGE (size, count)
 * or BAD_REQUEST (content type, encoding, unreadable body); a bad record is an `ok: false` item.
 */
export async function parseEventsBody(
  body: Buffer,
  headers: { contentType?: string | undefined; contentEncoding?: string | undefined },
  opts: BodyOptions,
): Promise<BodyItem[]> {
  if (headers.contentType && REJECTED_TYPES.test(headers.contentType)) {
    throw new RiskstreamError('BAD_REQUEST', `unsupported Content-Type "${headers.contentType}": send JSON (NDJSON, array or object); Fluent Bit: format json_lines`);
  }
  const data = await decompressBody(body, headers.contentEncoding, opts.maxBytes);
  const records = splitRecords(data.toString('utf8'));
  if (opts.maxEvents !== undefined && records.length > opts.maxEvents) {
    throw new RiskstreamError('PAYLOAD_TOO_LARGE', `body holds ${records.length} records, limit ${opts.maxEvents}`, { limit: opts.maxEvents });
  }
  return records.map((r): BodyItem => {
    if (r.error !== undefined) return { ok: false, reason: r.error, raw: r.raw };
    const d = decodeObject(r.value, opts.stream, opts.decode);
    return d.ok ? { ok: true, event: d.event, raw: r.raw } : { ok: false, reason: d.reason, raw: r.raw };
  });
}

/** The input stream for an event: logins (`login`, `session_refresh`) → login, else activity. */
export function routeEvent(event: Pick<CanonicalEvent, 'type'>, streams: Pick<StreamNames, 'login' | 'activity'>): string {
  return LOGIN_TYPES.has(event.type) ? streams.login : streams.activity;
}
