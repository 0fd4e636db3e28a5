import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { stat } from 'node:fs/promises';
import { createGunzip } from 'node:zlib';
import { createInterface } from 'node:readline';
import type { RedisClient } from '../redis/client.js';
import { appendInOrder, type AppendRecord } from './append-in-order.js';
import type { StreamNames } from '../config/load.js';
import { RiskstreamError } from '../errors.js';
import { isLogin } from '../login.js';
import { toEpochMs } from './event-rules.js';
import { canonicalEntryFields, decodeObject, type DecodeOptions } from './decode.js';
import { unwrapRecords, type BodySpans } from './body-records.js';
import { streamProfiles } from './profiles/index.js';
import type { CanonicalEvent } from '../types.js';
import { rebaseAnchor } from './rebase-anchor.js';

/** `ingest.max_past`'s default: the stretch `rebase` anchors in when not told. */
const DEFAULT_SPAN_MS = 365 * 86_400_000;

/** Options of {@link replayFile}. */
export interface ReplayOptions {
  /** Every event to this stream (default: logins → login stream, the rest → activity). */
  stream?: string;
  /** Events per second (default: as fast as Redis takes them). */
  rate?: number;
  /**
   * Shift every timestamp so the newest event is `now` (demo data stays current); the newest of the
   * `span` holding most events, when a few outliers lie beyond it ({@link rebaseAnchor}).
   */
  rebase?: number;
  /** With `rebase`: the worker's `ingest.max_past` (default 365 days), the stretch the anchor is chosen in. */
  span?: number;
  /** With `rebase`: told how many events lie outside that stretch (the worker will dead-letter them). */
  onOutliers?(count: number): void;
  chunk?: number;
  /**
   * How the worker maps records (`Config.raw.mapping`): vendor records (Okta, Entra, CloudTrail, a
   * shipper's envelope, a configured profile) are routed by their canonical type, and `rebase`
   * shifts their time too.
   */
  mapping?: DecodeOptions['mapping'];
  /** After each chunk: events sent, and the file's count when known (a first pass counts it only for `rebase`). */
  onProgress?(sent: number, total: number | undefined): void;
}

/** A time as the worker reads it (ISO-8601, an offset-less one UTC; epoch ms or s), or undefined. */
function timeOf(v: unknown): number | undefined {
  if (typeof v !== 'number' && typeof v !== 'string') return undefined;
  const t = toEpochMs(v, 'time');
  return typeof t === 'number' ? t : undefined;
}

/** The session expiry's dotted key (ECS-style documents): the worker nests it as `session.expires_at` (docs/interfaces.md §2). */
const DOTTED_EXPIRY = 'session.expires_at';

/** Shifts a canonical line's `time` and its session's expiry, nested or under the dotted key, by `by` ms. */
function shift(obj: Record<string, unknown>, by: number): void {
  const t = timeOf(obj.time);
  if (t !== undefined) obj.time = typeof obj.time === 'number' ? t + by : new Date(t + by).toISOString();
  const s = obj.session as Record<string, unknown> | undefined;
  const e = s ? timeOf(s.expires_at) : undefined;
  if (s && e !== undefined) s.expires_at = new Date(e + by).toISOString();
  const d = timeOf(obj[DOTTED_EXPIRY]);
  if (d !== undefined) obj[DOTTED_EXPIRY] = new Date(d + by).toISOString();
}

/**
 * A vendor record (or shipper envelope) as the worker would read it on `stream`: its canonical
 * event, or undefined for a canonical object (its own `user` and `time`, no profile for `stream`),
 * a record the worker would refuse, or one with no time of its own (the worker gives it the
 * entry's: nothing to shift). A vendor record may have a `time` of its own that is not the one the
 * worker takes (an Azure Monitor export's, beside its sign-in's `createdDateTime`).
 */
function vendorEvent(obj: Record<string, unknown>, stream: string | undefined, mapping: DecodeOptions['mapping']): CanonicalEvent | undefined {
  // A `user` of its own: no vendor shape is detected, no envelope unwrapped (src/ingest/shipper-envelope.ts).
  const profiled = stream !== undefined && mapping !== undefined && streamProfiles(mapping).has(stream);
  if (obj.user !== undefined && timeOf(obj.time) !== undefined && !profiled) return undefined;
  // No receive time (NaN): a record without a time of its own is refused rather than given one.
  const r = decodeObject(obj, stream, mapping ? { mapping } : {}, Number.NaN);
  return r.ok ? r.event : undefined;
}

/** The time of a line's event (its vendor record's as the worker reads it, or its own), or undefined. */
function lineTime(obj: Record<string, unknown>, stream: string | undefined, mapping: DecodeOptions['mapping']): number | undefined {
  return vendorEvent(obj, stream, mapping)?.time ?? timeOf(obj.time);
}

/** A canonical event shifted by `by` ms (its time and session expiry), written as the HTTP ingest writes one. */
function shiftedCanonical(e: CanonicalEvent, by: number): string[] {
  const session = e.session?.expires_at !== undefined ? { ...e.session, expires_at: e.session.expires_at + by } : e.session;
  return canonicalEntryFields({ ...e, time: e.time + by, ...(session ? { session } : {}) });
}

/**
 * The file's non-blank lines, read as a stream (never held whole; a FIFO works too): gzip (by its
 * first bytes) decompressed, a leading UTF-8 BOM dropped. A read failure is `NOT_FOUND`.
 */
async function* readLines(file: string): AsyncGenerator<string> {
  try {
    const raw = createReadStream(file);
    const chunks = raw[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const head = await chunks.next();
    if (head.done) return;
    const rest = Readable.from(
      (async function* () {
        yield head.value;
        for (let c = await chunks.next(); !c.done; c = await chunks.next()) yield c.value;
      })(),
    );
    const input = head.value[0] === 0x1f && head.value[1] === 0x8b ? rest.pipe(createGunzip()) : rest;
    rest.on('error', (err) => input.destroy(err));
    let first = true;
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      const l = first && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
      first = false;
      if (l.trim()) yield l;
    }
  } catch (e) {
    throw new RiskstreamError('NOT_FOUND', `cannot read ${file}: ${(e as Error).message}`);
  }
}

/**
 * A line's records: the elements of a wrapper object (`{"records":[…]}` …, unwrapped as `POST
 * /v1/events` unwraps a body that is one: src/ingest/body-records.ts), each its own text; else the
 * line itself. A wrapper whose array is malformed stays the line (the worker dead-letters it).
 */
function lineRecords(line: string): string[] {
  let w: BodySpans | undefined;
  try {
    w = unwrapRecords(line);
  } catch {
    return [line];
  }
  if (!w) return [line];
  const out: string[] = [];
  for (let i = 0; i < w.spans.length; i += 2) out.push(w.text.slice(w.spans[i], w.spans[i + 1]));
  return out;
}

/** The file's records, each one event: its lines, a wrapper line's elements in its place. */
async function* readRecords(file: string): AsyncGenerator<string> {
  for await (const l of readLines(file)) yield* lineRecords(l);
}

/** A first pass over the file (for `rebase`): its count of records (events) and their times. */
async function survey(file: string, stream: string | undefined, mapping: DecodeOptions['mapping']): Promise<{ total: number; times: Float64Array }> {
  let total = 0;
  let times = new Float64Array(1024);
  let n = 0;
  for await (const l of readRecords(file)) {
    total++;
    try {
      const obj = JSON.parse(l) as unknown;
      const t = typeof obj === 'object' && obj !== null && !Array.isArray(obj) ? lineTime(obj as Record<string, unknown>, stream, mapping) : undefined;
      if (t === undefined || !Number.isFinite(t)) continue;
      if (n === times.length) {
        const grown = new Float64Array(n * 2);
        grown.set(times);
        times = grown;
      }
      times[n++] = t;
    } catch {
      /* not JSON: left as is */
    }
  }
  return { total, times: times.subarray(0, n) };
}

/**
 * Appends the events of an NDJSON file (gzip too) to the input streams (field `event` = the JSON line;
 * lines that are not JSON are appended as-is, so the worker dead-letters them with a reason). A line
 * that is a wrapper object (`{"records":[…]}`, `events`, `Records`, `value`; no `user`) is its
 * elements, each its own entry (or dead letter), as `POST /v1/events` reads one; `sent` counts
 * entries. Vendor
 * records go to the stream of their canonical type; with `rebase` they are written as the canonical
 * event the worker would make of them, shifted (the record's own fields kept as attributes). The
 * file is streamed, never held in memory (a FIFO too); with `rebase` it is read twice (its newest
 * time first: not a FIFO then).
 */
export async function replayFile(
  redis: RedisClient,
  streams: StreamNames,
  file: string,
  opts: ReplayOptions = {},
): Promise<{ sent: number; byStream: Record<string, number> }> {
  // A FIFO can be read once: --rebase's first pass would leave the second waiting for ever.
  if (opts.rebase !== undefined && (await stat(file).catch(() => undefined))?.isFIFO())
    throw new RiskstreamError('BAD_REQUEST', `${file} is a FIFO: --rebase reads the file twice; replay a regular file`);
  const surveyed = opts.rebase !== undefined ? await survey(file, opts.stream, opts.mapping) : undefined;
  const anchored = surveyed && rebaseAnchor(surveyed.times, opts.span ?? DEFAULT_SPAN_MS);
  if (anchored?.outside) opts.onOutliers?.(anchored.outside);
  const by = opts.rebase !== undefined && anchored ? opts.rebase - anchored.anchor : 0;
  const chunk = opts.chunk ?? (opts.rate ? Math.max(1, Math.min(500, Math.ceil(opts.rate / 20))) : 500);
  const byStream: Record<string, number> = {};
  const started = Date.now();
  let sent = 0;
  let batch: string[] = [];
  // One script per chunk, with a marker of it: the client's resend of a chunk whose reply was lost
  // to a dropped connection (it ran) appends nothing again — an event without an `id` appended
  // twice would count twice (a DLP threshold reached by half the events).
  const into = opts.stream ? { login: opts.stream, activity: opts.stream } : streams;
  const send = async (): Promise<void> => {
    const records: AppendRecord[] = [];
    for (const line of batch) {
      let fields = ['event', line];
      let type: unknown;
      try {
        const obj = JSON.parse(line) as Record<string, unknown>;
        const vendor = typeof obj === 'object' && obj !== null && !Array.isArray(obj) ? vendorEvent(obj, opts.stream, opts.mapping) : undefined;
        type = vendor ? vendor.type : obj.type;
        if (by && vendor) fields = shiftedCanonical(vendor, by);
        else if (by) {
          shift(obj, by);
          fields = ['event', JSON.stringify(obj)];
        }
      } catch {
        /* appended raw; the worker dead-letters it */
      }
      const stream = opts.stream ?? (isLogin({ type }) ? streams.login : streams.activity);
      byStream[stream] = (byStream[stream] ?? 0) + 1;
      records.push([stream, fields]);
    }
    await appendInOrder(redis, into, records);
    sent += batch.length;
    batch = [];
    opts.onProgress?.(sent, surveyed ? Math.max(surveyed.total, sent) : undefined);
    if (opts.rate) {
      const wait = started + (sent / opts.rate) * 1000 - Date.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    }
  };
  try {
    for await (const record of readRecords(file)) {
      batch.push(record);
      if (batch.length >= chunk) await send();
    }
    if (batch.length) await send();
  } catch (e) {
    // Cut short (a truncated gzip, a Redis error on the last chunk, say): what was appended already is said, so that it is not sent twice.
    if (sent === 0 || !(e instanceof RiskstreamError)) throw e;
    throw new RiskstreamError(e.code, `${e.message} (after ${sent} events were appended)`, { sent }, { cause: e.cause ?? e });
  }
  return { sent, byStream };
}
