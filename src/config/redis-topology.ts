/**
 * The checks of which Redis holds riskstream's keys: one node (`redis.url`) or a Redis Cluster
 * (`redis.cluster`), never both; and on a cluster, the hash-slot rules the worker's scripts need.
 */
import { hasHashTag } from '../redis/hash-tag.js';
import { slotOf } from '../redis/client.js';
import type { RiskstreamFileConfig } from './schema.js';

/**
 * Issues of the Redis topology, located with `at` (a path in the main file): `redis` setting both
 * `url` and `cluster` (`redisJs`: the section as written, before its defaults); and on a cluster
 * (`redis.cluster` set and no `REDIS_URL` in `env`), an input stream name with braces but no hash
 * tag (its router fence key could not share its slot), or a bridged list whose stream is in
 * another slot (the list bridge moves items with one script).
 */
export function redisTopologyIssues(
  raw: RiskstreamFileConfig,
  redisJs: unknown,
  env: NodeJS.ProcessEnv,
  at: (path: readonly PropertyKey[]) => { line: number; col: number },
): Array<{ line: number; col: number; message: string }> {
  const out: Array<{ line: number; col: number; message: string }> = [];
  // One node or a cluster: with both, which Redis holds everything would be left unsaid.
  if (redisJs && typeof redisJs === 'object' && 'url' in redisJs && 'cluster' in redisJs)
    out.push({ ...at(['redis', 'cluster']), message: 'redis: set url (one node) or cluster (startup nodes of a Redis Cluster), not both' });
  // On a cluster the list bridge moves items with one script, so a list and its stream must share a slot.
  if (raw.redis.cluster && !env.REDIS_URL) {
    // The router's fence key of an input stream must share its slot: a name with braces but no hash tag has no such key.
    const named: Array<[string | undefined, PropertyKey[]]> = [
      [raw.streams.login, ['streams', 'login']],
      [raw.streams.activity, ['streams', 'activity']],
      ...raw.streams.extra.map((x, i): [string, PropertyKey[]] => [x, ['streams', 'extra', i]]),
    ];
    for (const [stream, path] of named) {
      if (stream === undefined || !/[{}]/.test(stream) || hasHashTag(stream)) continue;
      out.push({ ...at(path), message: `streams: on a Redis Cluster an input stream name with braces needs a hash tag ({tag}…): "${stream}"` });
    }
    for (const [list, stream] of Object.entries(raw.bridge.lists)) {
      if (slotOf(list) === slotOf(stream)) continue;
      out.push({
        ...at(['bridge', 'lists', list]),
        message: `bridge.lists: on a Redis Cluster the list "${list}" and its stream "${stream}" must share a hash slot: give both one hash tag, e.g. "{shipper}:list" → "{shipper}:events" (and list the stream in streams.extra)`,
      });
    }
  }
  return out;
}
