import type { Cluster } from 'ioredis';
import { pipeline, type RedisClient } from '../redis/client.js';
import { RiskstreamError } from '../errors.js';
import type { RawEntry } from '../types.js';
import { scrubFields } from '../secrets/scrub.js';
import { scrubText } from '../secrets/secret-values.js';

/**
 * Dead letters: entries that cannot be understood go to the dead-letter stream, never lost.
 *
 * A dead-letter entry carries `reason`, `source_stream`, `source_id`, `received_at` (ISO-8601,
 * when it was dead-lettered), `deliveries`, and **every original field under the prefix
 * `orig.`** (`orig.user`, `orig.event`, …) — readable with XRANGE and replayable with
 * `parseDeadLetter(...).fields`. Secrets are scrubbed from the copy and from the reason
 * (src/secrets/): secret-named fields (`password`, `accessToken`, `SAMLResponse` …, inside JSON
 * fields too) become `[redacted]`, JWTs and long opaque tokens `[redacted … sha256:<hex>]`, and
 * `ingest.scrub_fields` paths are dropped; every other field is kept byte for byte.
 */

/** Prefix of the original entry's fields inside a dead-letter entry. */
export const ORIG_PREFIX = 'orig.';
/** Reasons longer than this are cut (a reason may quote input). */
export const MAX_REASON = 1000;

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

/** The XADD field/value list for dead-lettering `raw` with `reason`. */
export function deadLetterFields(raw: RawEntry, reason: string, now: number = Date.now(), scrubPaths: readonly string[] = []): string[] {
  const cut = reason.length > MAX_REASON ? `${reason.slice(0, MAX_REASON)}…` : reason;
  const out = [
    'reason',
    scrubText(cut),
    'source_stream',
    raw.stream,
    'source_id',
    raw.id,
    'received_at',
    new Date(now).toISOString(),
    'deliveries',
    String(raw.deliveries),
  ];
  const orig = scrubFields(raw.fields, scrubPaths);
  for (const k in orig) out.push(ORIG_PREFIX + k, orig[k]!);
  return out;
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

/** One entry to dead-letter. */
export interface DeadLetterItem {
  raw: RawEntry;
  reason: string;
}

/**
 * Appends the items to the dead-letter stream in one pipeline (approximate MAXLEN trim when
 * `maxlen` is given) and returns the new entry ids. Throws INTERNAL if Redis refuses any:
 * the caller must then not ack the source entries.
 */
export async function writeDeadLetters(
  redis: RedisClient | Cluster,
  stream: string,
  items: readonly DeadLetterItem[],
  opts: { maxlen?: number; now?: number; scrubPaths?: readonly string[] } = {},
): Promise<string[]> {
  if (items.length === 0) return [];
  const pipe = pipeline(redis);
  const trim = opts.maxlen ? ['MAXLEN', '~', String(opts.maxlen)] : [];
  for (const { raw, reason } of items) {
    pipe.xadd(stream, ...(trim as []), '*', ...deadLetterFields(raw, reason, opts.now, opts.scrubPaths));
  }
  const res = (await pipe.exec()) ?? [];
  return res.map(([err, id], i) => {
    if (err)
      throw new RiskstreamError('INTERNAL', `dead-letter write failed for ${items[i]!.raw.stream}/${items[i]!.raw.id}: ${err.message}`, undefined, {
        cause: err,
      });
    return String(id);
  });
}
