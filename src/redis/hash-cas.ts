import { randomUUID } from 'node:crypto';
import { RiskstreamError } from '../errors.js';
import { streamOnceMarker } from '../stream-markers.js';
import type { RedisClient } from './client.js';
import { scriptsOn } from './scripts.js';

/** How long a compare-and-set call's marker stays (ms): past the client's resend, after a reconnect. */
const CAS_MARKER_MS = 600_000;

/**
 * Compare-and-set of one hash field (src/redis/scripts/hash-cas-2.lua): writes `next` ('' deletes
 * the field) only if the field still holds `expected` ('' absent). True when this call wrote it.
 * Once per call: the call's token names a marker the write leaves in the hash's slot, so the
 * client's resend after a dropped connection (ioredis resends an unanswered command; the first
 * run had written) answers true as the first run did, not "changed meanwhile".
 */
export async function hashCas(redis: RedisClient, hash: string, field: string, expected: string, next: string): Promise<boolean> {
  // The hash's name as the marker's hash tag: riskstream's hashes carry no braces (the key prefix allows none).
  const marker = streamOnceMarker(hash, `cas:${randomUUID()}`);
  if (marker === undefined) throw new RiskstreamError('INTERNAL', `hashCas: no key shares the slot of ${hash}`);
  return (await scriptsOn(redis).hashCas(hash, marker, field, expected, next, String(CAS_MARKER_MS))) === 1;
}
