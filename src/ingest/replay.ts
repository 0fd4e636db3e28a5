import { stat } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import type { RedisClient } from '../redis/client.js';
import { appendInOrder, type AppendRecord } from './append-in-order.js';
import type { StreamNames } from '../config/load.js';
import { RiskstreamError } from '../errors.js';
import { isLogin } from '../login.js';
import { toEpochMs } from './event-rules.js';
import { canonicalEntryFields, decodeObject, type DecodeOptions } from './decode.js';
import { IDLE, notAnObject, readReplayLines, STDIN, withIdle } from './replay-lines.js';
import { streamProfiles } from './profiles/index.js';
import type { CanonicalEvent } from '../types.js';
import { rebaseAnchor } from './rebase-anchor.js';

/** How long input may pause (stdin, a FIFO fed live) before the records read are appended without waiting for a full chunk (ms). */
const IDLE_MS = 200;

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
  /** The first line to replay (1-based, blank lines counted): resumes after a stop (its `through + 1`). */
  from?: number;
  /** Stops the replay between lines, once every line read is appended whole. */
  signal?: AbortSignal;
  /** Told of each record that is no JSON object (appended as it is: the worker dead-letters it), with its line. */
  onNotObject?(line: number, why: string): void;
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
 * A first pass over the file (for `rebase`): its count of records (events) from line `from` on, and
 * the times of all of them — a resumed replay (`from`) is shifted as the replay it resumes was, by
 * the whole file's anchor, so the lines it appends keep their place among those appended before.
 */
async function survey(
  file: string,
  from: number,
  stream: string | undefined,
  mapping: DecodeOptions['mapping'],
  signal?: AbortSignal,
): Promise<{ total: number; times: Float64Array }> {
  let total = 0;
  let times = new Float64Array(1024);
  let n = 0;
  for await (const { line, records } of readReplayLines(file, 1, signal))
    for (const l of records) {
      if (line >= from) total++;
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

/** What {@link replayFile} did: entries appended (by stream), and the last line all of whose records were. */
export interface ReplayResult {
  sent: number;
  byStream: Record<string, number>;
  /** Every line up to this one (1-based; 0: none) was appended whole: `from: through + 1` resumes after it. */
  through: number;
  /** True when `signal` stopped it before the end of the file. */
  stopped: boolean;
}

/**
 * Appends the events of an NDJSON file (gzip too; `-`: standard input) to the input streams (field
 * `event` = the record's JSON; records that are not JSON objects are appended as-is, so the worker
 * dead-letters them with a reason, and told to `onNotObject`). A line's records are read as `POST
 * /v1/events` reads an NDJSON line's (src/ingest/replay-lines.ts): a JSON array, a wrapper object
 * (`{"records":[…]}` …, no `user`) or objects back to back are their elements, each its own entry (or
 * dead letter); `sent` counts entries. Vendor records go to the stream of their canonical type; with
 * `rebase` they are written as the canonical event the worker would make of them, shifted (the
 * record's own fields kept as attributes). The file is streamed, never held in memory (a FIFO too);
 * with `rebase` it is read twice (its newest time first: not a FIFO or stdin then). `signal` stops
 * it between lines, once the lines read are appended whole; a failure says the lines appended.
 */
export async function replayFile(redis: RedisClient, streams: StreamNames, file: string, opts: ReplayOptions = {}): Promise<ReplayResult> {
  const from = opts.from ?? 1;
  // A FIFO can be read once: --rebase's first pass would leave the second waiting for ever.
  if (opts.rebase !== undefined && (file === STDIN || (await stat(file).catch(() => undefined))?.isFIFO()))
    throw new RiskstreamError('BAD_REQUEST', `${file} is a FIFO or stdin: --rebase reads the file twice; replay a regular file`);
  const surveyed = opts.rebase !== undefined ? await survey(file, from, opts.stream, opts.mapping, opts.signal) : undefined;
  const anchored = surveyed && rebaseAnchor(surveyed.times, opts.span ?? DEFAULT_SPAN_MS);
  if (anchored?.outside) opts.onOutliers?.(anchored.outside);
  const by = opts.rebase !== undefined && anchored ? opts.rebase - anchored.anchor : 0;
  const chunk = opts.chunk ?? (opts.rate ? Math.max(1, Math.min(500, Math.ceil(opts.rate / 20))) : 500);
  const byStream: Record<string, number> = {};
  const started = Date.now();
  let sent = 0;
  // Records read and not appended yet, each with its line; `read`: the last line read whole into it.
  let batch: Array<{ line: number; record: string }> = [];
  let read = from - 1;
  let through = read;
  // One script per chunk, with a marker of it: the client's resend of a chunk whose reply was lost
  // to a dropped connection (it ran) appends nothing again — an event without an `id` appended
  // twice would count twice (a DLP threshold reached by half the events).
  const into = opts.stream ? { login: opts.stream, activity: opts.stream } : streams;
  const send = async (): Promise<void> => {
    const part = batch.slice(0, chunk);
    const records: AppendRecord[] = [];
    for (const { record } of part) {
      let fields = ['event', record];
      let type: unknown;
      try {
        const obj = JSON.parse(record) as Record<string, unknown>;
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
      records.push([opts.stream ?? (isLogin({ type }) ? streams.login : streams.activity), fields]);
    }
    await appendInOrder(redis, into, records);
    for (const [stream] of records) byStream[stream] = (byStream[stream] ?? 0) + 1;
    sent += part.length;
    batch = batch.slice(part.length);
    through = batch.length ? batch[0]!.line - 1 : read;
    opts.onProgress?.(sent, surveyed ? Math.max(surveyed.total, sent) : undefined);
    const wait = opts.rate ? started + (sent / opts.rate) * 1000 - Date.now() : 0;
    if (wait > 0) await sleep(wait, undefined, opts.signal ? { signal: opts.signal } : {}).catch(() => undefined);
  };
  // The reading ends on `signal`, and when the replay leaves early (a failed append) while a line is awaited.
  const reading = new AbortController();
  const stopReading = (): void => reading.abort();
  if (opts.signal?.aborted) reading.abort();
  opts.signal?.addEventListener('abort', stopReading, { once: true });
  try {
    for await (const item of withIdle(readReplayLines(file, from, reading.signal), IDLE_MS, () => reading.abort())) {
      if (opts.signal?.aborted) break;
      if (item === IDLE) {
        while (batch.length) await send(); // input that pauses (stdin, a FIFO fed live): what was read goes in now
        continue;
      }
      const { line, records } = item;
      for (const record of records) {
        const why = notAnObject(record);
        if (why) opts.onNotObject?.(line, why);
        batch.push({ line, record });
      }
      read = line;
      if (!batch.length) through = line; // a line of no records (`[]`) with nothing pending
      while (batch.length >= chunk) await send();
    }
    while (batch.length) await send();
  } catch (e) {
    // Cut short (a truncated gzip, a Redis error, say): what was appended already is said, so that it is not sent twice.
    if (!(e instanceof RiskstreamError)) throw e;
    // Redis's own words (WRONGTYPE: a key of another type; a dropped connection), not only "could not append".
    const why = e.code === 'INTERNAL' && e.cause instanceof Error ? `: ${e.cause.message}` : '';
    if (sent === 0 && !why) throw e;
    const resume = sent
      ? ` (after ${sent} events were appended): lines up to ${through} were appended whole: --from-line ${through + 1} resumes after them`
      : '';
    throw new RiskstreamError(e.code, `${e.message}${why}${resume}`, { sent, through }, { cause: e.cause ?? e });
  } finally {
    opts.signal?.removeEventListener('abort', stopReading);
  }
  return { sent, byStream, through, stopped: opts.signal?.aborted ?? false };
}
