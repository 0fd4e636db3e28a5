/**
 * Markers that an entry was appended to a stream once (dead letters, audit entries, HTTP ingest's
 * chunks): keys in that stream's Redis Cluster slot, so one script appends and marks together.
 * The other Redis key names are in src/keys.ts.
 */
import { hasHashTag } from './redis/hash-tag.js';

/**
 * String (PX): the marker that a source entry (`sourceStream`, `sourceId`) was dead-lettered into
 * `deadLetterStream`, in that stream's slot (its hash tag, or the stream's name as one); undefined
 * for a name with braces but no hash tag (no key shares its slot by name).
 */
export function deadLetterSeen(deadLetterStream: string, sourceStream: string, sourceId: string): string | undefined {
  return streamOnceMarker(deadLetterStream, `${sourceStream}/${sourceId}`);
}

/**
 * String (PX): the marker that the entry known as `once` was appended to `stream` (an audit entry
 * written once, whoever writes it again after a crash), in that stream's slot as
 * {@link deadLetterSeen}'s; undefined for a name with braces but no hash tag.
 */
export function streamOnceMarker(stream: string, once: string): string | undefined {
  const base = deadLetterSlot(stream);
  return base === undefined ? undefined : `${base}:seen:${once}`;
}

/**
 * String (PX): the marker that HTTP ingest's chunk `chunk` of dead letters was appended to
 * `deadLetterStream` (src/redis/scripts/dead-letter-chunk-2.lua), in that stream's slot; undefined
 * as for {@link deadLetterSeen}.
 */
export function deadLetterChunkMarker(deadLetterStream: string, chunk: string): string | undefined {
  const base = deadLetterSlot(deadLetterStream);
  return base === undefined ? undefined : `${base}:ingest-chunk:${chunk}`;
}

/** A stream's name (the dead-letter stream's, the audit log's) as a hash tag of its markers; undefined for braces but no hash tag (its slot cannot be kept inside one). */
function deadLetterSlot(deadLetterStream: string): string | undefined {
  if (!hasHashTag(deadLetterStream) && /[{}]/.test(deadLetterStream)) return undefined;
  return hasHashTag(deadLetterStream) ? deadLetterStream : `{${deadLetterStream}}`;
}

/**
 * String (PX): the marker that HTTP ingest's chunk `chunk` was appended (src/redis/scripts/ingest-append-3.lua),
 * in input stream `stream`'s slot (its hash tag, or the stream's name as one, as its router fence).
 */
export function ingestChunkMarker(stream: string, chunk: string): string {
  return `${hasHashTag(stream) ? stream : `{${stream}}`}:ingest-chunk:${chunk}`;
}
