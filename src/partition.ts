/**
 * Partitioning: a user's partition is a stable hash (FNV-1a, 32 bits, over the UTF-8 bytes of the
 * normalised user id) modulo the fixed partition count. Routed events are ordered by a key built
 * from their source entry id, the index of their source stream and a sub-index (events derived from
 * one entry at the edge, e.g. a password-spray victim flag), encoded as a stream entry id
 * (`ms-((seq·64 + source)·16 + sub)`) so partition streams can carry it as their own entry ids.
 */

/** How many input streams the key encoding distinguishes (sources beyond it are refused at start). */
export const MAX_SOURCES = 64;

/** The partition (0 … n−1) of a user id. */
export function partitionOf(user: string, partitions: number): number {
  let h = 0x811c9dc5;
  // ASCII (nearly every user id) hashes its char codes, which are its UTF-8 bytes: no Buffer.
  for (let i = 0; i < user.length; i++) {
    const c = user.charCodeAt(i);
    if (c >= 0x80) return partitionOfUtf8(user, partitions);
    h ^= c;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

function partitionOfUtf8(user: string, partitions: number): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(user, 'utf8')) {
    h ^= b;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h % partitions;
}

/** An event's position in the merged input order: source entry id (ms, seq), then source index. */
export interface OrderKey {
  ms: number;
  seq: number;
}

/** Events one source entry may yield (itself and those derived from it at the edge). */
export const MAX_SUBS = 16;

/**
 * Largest sequence number of a source entry id that an order key can hold exactly (`*` ids stay far
 * below it; an explicit id beyond it cannot be ordered, and is refused).
 */
export const MAX_SOURCE_SEQ = Math.floor(Number.MAX_SAFE_INTEGER / (MAX_SOURCES * MAX_SUBS)) - 1;

/** True when entry id `id`'s sequence number fits an order key ({@link MAX_SOURCE_SEQ}). */
export function orderableId(id: string): boolean {
  const dash = id.indexOf('-');
  return dash < 0 || Number(id.slice(dash + 1)) <= MAX_SOURCE_SEQ;
}

/** The order key of source entry `id` of source number `source` (0 … MAX_SOURCES−1), sub-index `sub`. */
export function orderKey(id: string, source: number, sub = 0): OrderKey {
  const dash = id.indexOf('-');
  const ms = Number(dash < 0 ? id : id.slice(0, dash));
  const seq = dash < 0 ? 0 : Number(id.slice(dash + 1));
  return { ms, seq: (seq * MAX_SOURCES + source) * MAX_SUBS + Math.min(sub, MAX_SUBS - 1) };
}

/** The source entry id an order key was made from. */
export function sourceIdOf(k: OrderKey): string {
  return `${k.ms}-${Math.floor(k.seq / (MAX_SOURCES * MAX_SUBS))}`;
}

/** A key as a stream entry id. */
export function keyId(k: OrderKey): string {
  return `${k.ms}-${k.seq}`;
}

/** Parses an entry id (`ms-seq`) into a key. */
export function parseKey(id: string): OrderKey {
  const dash = id.indexOf('-');
  return { ms: Number(dash < 0 ? id : id.slice(0, dash)), seq: dash < 0 ? 0 : Number(id.slice(dash + 1)) };
}

/** Orders two keys. */
export function compareKeys(a: OrderKey, b: OrderKey): number {
  return a.ms !== b.ms ? a.ms - b.ms : a.seq - b.seq;
}

/** The zero key (before everything). */
export const ZERO_KEY: OrderKey = { ms: 0, seq: 0 };
