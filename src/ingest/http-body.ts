import { parseWellFormed, userGivenTwice, USER_TWICE } from './well-formed.js';
import { promisify } from 'node:util';
import { brotliDecompress, gunzip, inflate } from 'node:zlib';
import type { StreamNames } from '../config/load.js';
import { RiskstreamError } from '../errors.js';
import type { CanonicalEvent } from '../types.js';
import { decodeObject, tooLarge as eventTooLarge, type DecodeOptions } from './decode.js';
import { isLogin } from '../login.js';
import { splitBody, type BodySpans } from './body-records.js';

/**
 * Body parsing for `POST /v1/events` (pure: no I/O). Accepts, gzip/deflate/br-compressed or not:
 * - NDJSON: Vector `codec: json` + `framing.method: newline_delimited`, Fluent Bit
 *   `format json_lines`, `curl --data-binary @events.ndjson`;
 * - a JSON array: Vector's http sink default for `codec: json`, Fluent Bit `format json`
 *   (records carry a `date` field, used as `time` when the event has none);
 * - JSON objects back to back with no separator: Fluent Bit `format json_stream`;
 * - a single JSON object, or an object wrapping an array in `events` / `records` / `Records` / `value`
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

/**
 * MessagePack (its registered `application/vnd.msgpack`, the older `msgpack`, `x-msgpack`, `x+msgpack`),
 * Protocol Buffers (`application/x-protobuf`: Vector's `otlp` codec, OpenTelemetry's OTLP/HTTP;
 * `protobuf`, `vnd.google.protobuf`) and multipart: binary bodies that would otherwise be split
 * on their newline bytes into records of garbage, each dead-lettered.
 */
const REJECTED_TYPES = /^(application\/(x-|x\+|vnd\.)?msgpack(?![\w.+-])|application\/(x-|vnd\.google\.)?protobuf(?![\w.+-])|multipart\/)/i;

/**
 * Decompresses per Content-Encoding (identity, gzip, x-gzip, deflate, br) with an output limit.
 * Throws PAYLOAD_TOO_LARGE past `maxBytes`, UNSUPPORTED_MEDIA_TYPE for an unknown encoding, BAD_REQUEST for corrupt data.
 */
export async function decompressBody(body: Buffer, contentEncoding: string | undefined, maxBytes: number): Promise<Buffer> {
  // `gzip, identity` is gzip: identity codings in a list change nothing.
  let enc = (contentEncoding ?? '')
    .toLowerCase()
    .split(',')
    .map((c) => c.trim())
    .filter((c) => c !== '' && c !== 'identity')
    .join(', ');
  // A gzip body sent without Content-Encoding (as `Content-Type: application/gzip`, or by a
  // shipper that compresses but does not say so) is recognised by its magic bytes: JSON and
  // NDJSON never start with 0x1f 0x8b.
  if (enc === '' && body.length >= 2 && body[0] === 0x1f && body[1] === 0x8b) enc = 'gzip';
  if (enc === '' || enc === 'identity') {
    if (body.length > maxBytes) throw tooLarge(maxBytes);
    return body;
  }
  const fn = Object.hasOwn(DECOMPRESS, enc) ? DECOMPRESS[enc as keyof typeof DECOMPRESS] : undefined;
  // RFC 9110 §15.5.16: a content coding the server does not support is 415.
  if (!fn) throw new RiskstreamError('UNSUPPORTED_MEDIA_TYPE', `unsupported Content-Encoding "${enc}" (gzip, deflate, br or none)`);
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

/** Records decoded between two yields to the event loop (so `/healthz` answers during a big body). */
export const YIELD_EVERY = 256;

const yieldToLoop = (): Promise<void> => new Promise((r) => setImmediate(r));

/** Decodes record `i` of a split body. */
function decodeSpan(b: BodySpans, i: number, opts: BodyOptions): BodyItem {
  const raw = b.text.slice(b.spans[2 * i]!, b.spans[2 * i + 1]!);
  const max = opts.decode?.maxEventSize;
  if (max !== undefined && raw.length > max) return { ok: false, reason: eventTooLarge(max), raw };
  let value: unknown;
  try {
    value = parseWellFormed(raw);
  } catch {
    return { ok: false, reason: b.lines[i] ? `line ${b.lines[i]}: invalid JSON` : `record ${i + 1}: invalid JSON`, raw };
  }
  if (userGivenTwice(raw)) return { ok: false, reason: `${b.lines[i] ? `line ${b.lines[i]}` : `record ${i + 1}`}: ${USER_TWICE}`, raw };
  let d: ReturnType<typeof decodeObject>;
  try {
    d = decodeObject(value, opts.stream, opts.decode);
  } catch (err) {
    // A mapping profile that throws on a value (an object where it expects text): this record is refused, as over XADD.
    d = { ok: false, reason: `decode_failed: ${(err as { code?: unknown }).code === undefined ? 'INTERNAL' : String((err as { code?: unknown }).code)}` };
  }
  return d.ok ? { ok: true, event: d.event, raw } : { ok: false, reason: d.reason, raw };
}

/**
 * Decodes a `POST /v1/events` body record by record, handing each to `sink` in order and yielding
 * to the event loop every {@link YIELD_EVERY} records (and awaiting the sink when it returns a
 * promise: the caller can write in chunks). Records are counted while the body is split — before
 * any is parsed — so a body over `maxEvents` is refused at once. Returns the number of records.
 * Throws PAYLOAD_TOO_LARGE (size, count), UNSUPPORTED_MEDIA_TYPE (MessagePack or multipart, an
 * unknown encoding) or BAD_REQUEST (corrupt compressed data, an unreadable body).
 */
export async function decodeBody(
  body: Buffer,
  headers: { contentType?: string | undefined; contentEncoding?: string | undefined },
  opts: BodyOptions,
  sink: (item: BodyItem, index: number) => void | Promise<void>,
): Promise<number> {
  // A type whose bodies are never JSON: 415, as the API's other routes answer a type they do not read.
  if (headers.contentType && REJECTED_TYPES.test(headers.contentType)) {
    throw new RiskstreamError(
      'UNSUPPORTED_MEDIA_TYPE',
      `unsupported Content-Type "${headers.contentType}": send JSON (NDJSON, array or object); Fluent Bit: format json_lines; Vector: codec json`,
    );
  }
  const data = await decompressBody(body, headers.contentEncoding, opts.maxBytes);
  const split = splitBody(data.toString('utf8'), opts.maxEvents);
  const n = split.spans.length / 2;
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % YIELD_EVERY === 0) await yieldToLoop();
    const r = sink(decodeSpan(split, i, opts), i);
    if (r) await r;
  }
  return n;
}

/** {@link decodeBody} collected into an array (tests, small bodies). */
export async function parseEventsBody(
  body: Buffer,
  headers: { contentType?: string | undefined; contentEncoding?: string | undefined },
  opts: BodyOptions,
): Promise<BodyItem[]> {
  const items: BodyItem[] = [];
  await decodeBody(body, headers, opts, (it) => void items.push(it));
  return items;
}

/** The input stream for an event: logins (src/login.ts) → login, else activity. */
export function routeEvent(event: Pick<CanonicalEvent, 'type'>, streams: Pick<StreamNames, 'login' | 'activity'>): string {
  return isLogin(event) ? streams.login : streams.activity;
}
