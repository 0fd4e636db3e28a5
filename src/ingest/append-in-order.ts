import { randomBytes } from 'node:crypto';
import { isCluster, slotOf, type RedisClient } from '../redis/client.js';
import { scriptsOn } from '../redis/scripts.js';
import { sendTogether } from '../redis/send-together.js';
import { RiskstreamError } from '../errors.js';
import { ingestChunkMarker } from '../stream-markers.js';

/** One record to append: its input stream and its entry's field values. */
export type AppendRecord = readonly [stream: string, fields: readonly string[]];

/**
 * How long a chunk's marker is kept (ms): a resend of the chunk (ioredis resends an unanswered
 * command when it reconnects) within it appends nothing. An hour, as for dead letters' markers.
 */
export const CHUNK_MARKER_TTL_MS = 3_600_000;

/**
 * Appends records to the input streams in their order, once: one script (src/redis/scripts/ingest-append-3.lua)
 * whose entry ids follow one sequence across both streams, so the router merges a body's login and
 * the activity after it in that order, whatever each stream held — on one node, and on a cluster
 * whose two streams share a hash slot (one hash tag). On a cluster with the streams in different
 * slots, one such script per stream, sent together: each stream's records in order, the order
 * between the streams that of their nodes' clocks (docs/operations.md). Each script writes a
 * marker of this call with its entries, so the client's resend of a script whose reply was lost
 * appends nothing.
 */
export async function appendInOrder(redis: RedisClient, streams: { login: string; activity: string }, records: readonly AppendRecord[]): Promise<void> {
  if (!records.length) return;
  const chunk = randomBytes(12).toString('base64url');
  const scripts = scriptsOn(redis);
  const ttl = String(CHUNK_MARKER_TTL_MS);
  try {
    if (!isCluster(redis) || slotOf(streams.login) === slotOf(streams.activity)) {
      const args: string[] = [];
      for (const [stream, fields] of records) args.push(stream === streams.login ? '1' : '2', String(fields.length), ...fields);
      await scripts.ingestAppend(ingestChunkMarker(streams.login, chunk), streams.login, streams.activity, ttl, ...args);
      return;
    }
    const byStream = new Map<string, string[]>();
    for (const [stream, fields] of records) {
      let args = byStream.get(stream);
      if (!args) byStream.set(stream, (args = []));
      args.push('1', String(fields.length), ...fields);
    }
    const outcomes = await sendTogether(redis, () =>
      [...byStream].map(([stream, args]) => scripts.ingestAppend(ingestChunkMarker(stream, chunk), stream, stream, ttl, ...args)),
    );
    for (const [err] of outcomes) if (err) throw err;
  } catch (err) {
    throw new RiskstreamError('INTERNAL', 'could not append events', undefined, { cause: err });
  }
}
