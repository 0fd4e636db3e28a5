import { isCluster, pipeline, type RedisClient } from '../redis/client.js';
import { scriptsOn } from '../redis/scripts.js';
import { RiskstreamError } from '../errors.js';

/** One record to append: its input stream and its entry's field values. */
export type AppendRecord = readonly [stream: string, fields: readonly string[]];

/**
 * Appends records to the input streams in their order: on one node in one script whose entry ids
 * follow one sequence across both streams (src/redis/scripts/ingest-append-2.lua), so the router
 * merges a body's login and the activity after it in that order, whatever each stream held; on a
 * cluster (the streams in different slots) each with `*`, sent together.
 */
export async function appendInOrder(redis: RedisClient, streams: { login: string; activity: string }, records: readonly AppendRecord[]): Promise<void> {
  if (!records.length) return;
  try {
    if (isCluster(redis)) {
      const p = pipeline(redis);
      for (const [stream, fields] of records) p.xadd(stream, '*', ...fields);
      for (const [err] of (await p.exec()) ?? []) if (err) throw err;
      return;
    }
    const args: string[] = [];
    for (const [stream, fields] of records) args.push(stream === streams.login ? '1' : '2', String(fields.length), ...fields);
    await scriptsOn(redis).ingestAppend(streams.login, streams.activity, ...args);
  } catch (err) {
    throw new RiskstreamError('INTERNAL', 'could not append events', undefined, { cause: err });
  }
}
