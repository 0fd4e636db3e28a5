import type { Cluster } from 'ioredis';
import type { RedisClient } from '../redis/client.js';
import type { RawEntry } from '../types.js';

/**
 * Dead letters of stream entries whose bytes are not UTF-8: the router reads fields as UTF-8 text
 * (invalid bytes become U+FFFD), so such an entry's dead letter would not be its original. Its
 * source entry (still pending, so still in its stream unless trimmed) is read again as bytes, and
 * every `orig.` field that the dead letter keeps as read (not scrubbed, cut or redacted) is written
 * with its original bytes — name and value.
 */

/** The U+FFFD a reply decoded as UTF-8 holds for bytes that were not UTF-8. */
const REPLACEMENT = '\ufffd';

/** True when some field name or value of `raw` holds U+FFFD (bytes that may not have been UTF-8). */
export function mayHoldBadBytes(raw: RawEntry): boolean {
  for (const k in raw.fields) if (k.includes(REPLACEMENT) || raw.fields[k]!.includes(REPLACEMENT)) return true;
  return raw.repeated?.some(([k, v]) => k.includes(REPLACEMENT) || v.includes(REPLACEMENT)) ?? false;
}

/** The source entry's fields as bytes (name, value, …), or undefined when it is gone (trimmed, deleted) or unreadable. */
export async function sourceBytes(redis: RedisClient | Cluster, raw: RawEntry): Promise<Buffer[] | undefined> {
  try {
    const rows = await redis.xrangeBuffer(raw.stream, raw.id, raw.id);
    return rows[0]?.[1];
  } catch {
    return undefined; // not a stream (any more): the dead letter keeps the fields as read
  }
}

/**
 * `fields` (a dead letter's field/value list) with each `prefix`+name / value pair that equals a
 * source field as decoded (UTF-8, U+FFFD for bad bytes) but not its bytes replaced by those bytes.
 * Each source field replaces at most one pair; a scrubbed, cut or redacted value matches none.
 */
export function withOriginalBytes(fields: readonly string[], prefix: string, bytes: readonly Buffer[]): Array<string | Buffer> {
  const byText = new Map<string, Array<[Buffer, Buffer]>>();
  for (let i = 0; i + 1 < bytes.length; i += 2) {
    const name = bytes[i]!;
    const value = bytes[i + 1]!;
    const n = name.toString('utf8');
    const v = value.toString('utf8');
    if (Buffer.from(n, 'utf8').equals(name) && Buffer.from(v, 'utf8').equals(value)) continue; // UTF-8: the text is its bytes
    const key = `${n}\u0000${v}`;
    const list = byText.get(key);
    if (list) list.push([name, value]);
    else byText.set(key, [[name, value]]);
  }
  if (byText.size === 0) return [...fields];
  const out: Array<string | Buffer> = [...fields];
  for (let i = 0; i + 1 < out.length; i += 2) {
    const k = fields[i]!;
    if (!k.startsWith(prefix)) continue;
    const found = byText.get(`${k.slice(prefix.length)}\u0000${fields[i + 1]!}`)?.shift();
    if (found) {
      out[i] = Buffer.concat([Buffer.from(prefix), found[0]]);
      out[i + 1] = found[1];
    }
  }
  return out;
}
