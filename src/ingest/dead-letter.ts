import { randomBytes } from 'node:crypto';
import type { Cluster } from 'ioredis';
import { pipeline, type RedisClient } from '../redis/client.js';
import { defineScripts, queueScript, scriptsOn } from '../redis/scripts.js';
import { deadLetterChunkMarker, deadLetterSeen } from '../stream-markers.js';
import { RiskstreamError } from '../errors.js';
import type { RawEntry } from '../types.js';
import { scrubFields } from '../secrets/scrub.js';
import { scrubAll, scrubKnown } from '../secrets/known-secrets.js';
import { mayHoldBadBytes, sourceBytes, withOriginalBytes } from './dead-letter-bytes.js';

/**
 * Dead letters: entries that cannot be understood go to the dead-letter stream, never lost.
 *
 * A dead-letter entry carries `reason`, `source_stream`, `source_id`, `received_at` (ISO-8601,
 * when it was dead-lettered), `deliveries` (always 1: see `RawEntry.deliveries`), and **every original field under the prefix
 * `orig.`** (`orig.user`, `orig.event`, …) — readable with XRANGE and replayable with
 * `parseDeadLetter(...).fields`. Secrets are scrubbed from the copy and from the reason
 * (src/secrets/): secret-named fields (`password`, `accessToken`, `SAMLResponse` …, inside JSON
 * fields too) become `[redacted]`, JWTs and long opaque tokens `[redacted … sha256:<hex>]`, and
 * `ingest.scrub_fields` paths are dropped; every other field is kept byte for byte, up to
 * {@link MAX_ORIG_FIELD} characters (a longer one is not kept: `truncated` lists `name=length`) —
 * or, for a record of `POST /v1/events` (which no stream keeps), up to `ingest.max_event_size`.
 */

/** Prefix of the original entry's fields inside a dead-letter entry. */
export const ORIG_PREFIX = 'orig.';
/** Reasons longer than this are cut (a reason may quote input). */
export const MAX_REASON = 1000;
/**
 * Original field values longer than this are not kept (their length under `truncated`): a dead
 * letter stays small, and scrubbing it stays cheap whatever the input. The whole entry stays in
 * its source stream (`source_id`) until `streams.input_retention`. (An HTTP record has no source
 * stream: its caller passes a larger `maxField`, see {@link writeDeadLetters}.)
 */
export const MAX_ORIG_FIELD = 64 * 1024;
/** Most original fields a dead letter keeps (the rest are counted in `omitted_fields`). */
export const MAX_ORIG_FIELDS = 1000;
/** What a field longer than `max` characters becomes (its length under `truncated`). */
const notKeptLong = (max: number): string => `[not kept: longer than ${max} characters]`;
/** What a field becomes when scrubbing it failed: never kept unscrubbed. */
const NOT_SCRUBBED = '[not kept: could not be scrubbed]';

/** A dead-letter entry read back. */
export interface DeadLetter {
  reason: string;
  sourceStream: string;
  sourceId: string;
  receivedAt: string;
  deliveries: number;
  /** The original entry's fields, prefix removed. */
  fields: Record<string, string>;
}

/**
 * The XADD field/value list for dead-lettering `raw` with `reason`; fields longer than `maxField`
 * are not kept. `secrets`: the worker's own (src/secrets/known-secrets.ts), taken out of the
 * reason and every field whatever their shape.
 */
export function deadLetterFields(
  raw: RawEntry,
  reason: string,
  now: number = Date.now(),
  scrubPaths: readonly string[] = [],
  maxField: number = MAX_ORIG_FIELD,
  secrets: readonly string[] = [],
): string[] {
  const cut = reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason;
  const out = [
    'reason',
    safeScrubText(cut, secrets),
    'source_stream',
    raw.stream,
    'source_id',
    raw.id,
    'received_at',
    new Date(now).toISOString(),
    'deliveries',
    String(raw.deliveries),
  ];
  // No prototype: a field named `__proto__` is kept (`{}` would take it for its prototype and drop it).
  const cutFields: Record<string, string> = Object.create(null) as Record<string, string>;
  const truncated: string[] = [];
  let count = 0;
  for (const k in raw.fields) {
    // An entry of thousands of fields: the first MAX_ORIG_FIELDS are kept, the rest counted.
    if (++count > MAX_ORIG_FIELDS) continue;
    const v = raw.fields[k]!;
    if (v.length <= maxField) cutFields[k] = v;
    else {
      // Not a prefix: cut JSON no longer parses, and its scrubbing would miss nested secrets and scrub_fields paths.
      cutFields[k] = notKeptLong(maxField);
      truncated.push(`${k}=${v.length}`);
    }
  }
  if (truncated.length) out.push('truncated', truncated.join(','));
  if (count > MAX_ORIG_FIELDS) out.push('omitted_fields', String(count - MAX_ORIG_FIELDS));
  const orig = scrubbed(cutFields, scrubPaths, secrets);
  for (const k in orig) out.push(ORIG_PREFIX + k, orig[k]!);
  // A name the entry gave more than once: its earlier values too, under the same name (a stream
  // entry may repeat a field), cut and scrubbed alike (a scrub_fields path may remove one).
  for (const [k, v] of raw.repeated?.slice(0, MAX_ORIG_FIELDS) ?? []) {
    const kept = scrubbed({ [k]: v.length <= maxField ? v : notKeptLong(maxField) }, scrubPaths, secrets)[k];
    if (kept !== undefined) out.push(ORIG_PREFIX + k, kept);
  }
  return out;
}

/** `fields` scrubbed for a dead letter; every field {@link NOT_SCRUBBED} when scrubbing failed (e.g. a stack overflow in a pattern). */
function scrubbed(fields: Record<string, string>, scrubPaths: readonly string[], secrets: readonly string[]): Record<string, string> {
  try {
    const out = scrubFields(fields, scrubPaths);
    if (secrets.length) for (const k in out) out[k] = scrubKnown(out[k]!, secrets);
    return out;
  } catch {
    return Object.fromEntries(Object.keys(fields).map((k) => [k, NOT_SCRUBBED]));
  }
}

function safeScrubText(text: string, secrets: readonly string[]): string {
  try {
    return scrubAll(text, secrets);
  } catch {
    return NOT_SCRUBBED;
  }
}

/** Reads a dead-letter entry's fields back into its parts. */
export function parseDeadLetter(fields: Record<string, string>): DeadLetter {
  const orig: Record<string, string> = {};
  for (const k in fields) if (k.startsWith(ORIG_PREFIX)) orig[k.slice(ORIG_PREFIX.length)] = fields[k]!;
  return {
    reason: fields.reason ?? '',
    sourceStream: fields.source_stream ?? '',
    sourceId: fields.source_id ?? '',
    receivedAt: fields.received_at ?? '',
    deliveries: Number(fields.deliveries ?? 0),
    fields: orig,
  };
}

/**
 * How long a source entry is remembered as dead-lettered (`once`): a router or owner that crashed
 * between the dead letter and the ack or commit reads the entry again within seconds; one down
 * for longer than this writes its dead letter a second time.
 */
export const SEEN_TTL_MS = 3_600_000;

/** One entry to dead-letter. */
export interface DeadLetterItem {
  raw: RawEntry;
  reason: string;
}

/**
 * Appends the items to the dead-letter stream in one pipeline (approximate MAXLEN trim when
 * `maxlen` is given) and returns the new entry ids. With `once` (entries of a stream: ids that name
 * them), an entry dead-lettered already in the last {@link SEEN_TTL_MS} is not appended again (its id
 * is ''). With `chunk` instead (a chunk of an HTTP body, whose ids name no stream entry), the items
 * are appended by one script with a marker of this call: the client's resend of it (its reply lost
 * to a dropped connection) appends nothing (each id then ''). `maxField`: the longest original field
 * kept (default {@link MAX_ORIG_FIELD}; an HTTP record, which no stream keeps, is kept up to
 * `ingest.max_event_size`). Throws INTERNAL if Redis refuses any: the caller must then not ack the
 * source entries.
 */
export async function writeDeadLetters(
  redis: RedisClient | Cluster,
  stream: string,
  items: readonly DeadLetterItem[],
  opts: { maxlen?: number; now?: number; scrubPaths?: readonly string[]; once?: boolean; chunk?: boolean; maxField?: number; secrets?: readonly string[] } = {},
): Promise<string[]> {
  if (items.length === 0) return [];
  const chunkMarker = opts.chunk && !opts.once ? deadLetterChunkMarker(stream, randomBytes(12).toString('base64url')) : undefined;
  if (chunkMarker) return writeChunk(redis, stream, chunkMarker, items, opts);
  if (opts.once) defineScripts(redis);
  const pipe = pipeline(redis);
  const trim = opts.maxlen ? ['MAXLEN', '~', String(opts.maxlen)] : [];
  // Entries of a stream whose bytes may not be UTF-8: their source fields as bytes (see dead-letter-bytes.ts).
  const bytes = opts.once ? await Promise.all(items.map(({ raw }) => (mayHoldBadBytes(raw) ? sourceBytes(redis, raw) : undefined))) : [];
  for (const [i, { raw, reason }] of items.entries()) {
    const text = deadLetterFields(raw, reason, opts.now, opts.scrubPaths, opts.maxField, opts.secrets);
    const own = bytes[i];
    // Buffers among the arguments are sent as they are (ioredis): typed as text for the signature.
    const fields = (own ? withOriginalBytes(text, ORIG_PREFIX, own) : text) as string[];
    const marker = opts.once ? deadLetterSeen(stream, raw.stream, raw.id) : undefined;
    if (marker) queueScript(pipe, 'deadLetter', stream, marker, String(SEEN_TTL_MS), opts.maxlen ? String(opts.maxlen) : '', ...fields);
    else pipe.xadd(stream, ...(trim as []), '*', ...fields);
  }
  const res = (await pipe.exec()) ?? [];
  return res.map(([err, id], i) => {
    if (err)
      throw new RiskstreamError('INTERNAL', `dead-letter write failed for ${items[i]!.raw.stream}/${items[i]!.raw.id}: ${err.message}`, undefined, {
        cause: err,
      });
    return id === null ? '' : String(id);
  });
}

/** The items in one script (src/redis/scripts/dead-letter-chunk-2.lua) with the chunk's marker (kept {@link SEEN_TTL_MS}). */
async function writeChunk(
  redis: RedisClient | Cluster,
  stream: string,
  marker: string,
  items: readonly DeadLetterItem[],
  opts: { maxlen?: number; now?: number; scrubPaths?: readonly string[]; maxField?: number; secrets?: readonly string[] },
): Promise<string[]> {
  const args: string[] = [];
  for (const { raw, reason } of items) {
    const fields = deadLetterFields(raw, reason, opts.now, opts.scrubPaths, opts.maxField, opts.secrets);
    args.push(String(fields.length), ...fields);
  }
  try {
    const ids = await scriptsOn(redis).deadLetterChunk(stream, marker, String(SEEN_TTL_MS), opts.maxlen ? String(opts.maxlen) : '', ...args);
    return ids ? ids.map(String) : items.map(() => '');
  } catch (err) {
    const what = `${items.length} entries from ${items[0]!.raw.stream}`;
    throw new RiskstreamError('INTERNAL', `dead-letter write failed for ${what}: ${(err as Error).message}`, undefined, { cause: err });
  }
}
