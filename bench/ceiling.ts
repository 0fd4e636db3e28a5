/**
 * Ceiling: what one Node process with ioredis can pull through a consumer group with no
 * processing at all — XREADGROUP (COUNT 1000) over the input streams, JSON.parse of each
 * entry's `event`, XACK (pipelined per read) — over N pre-loaded entries. Events/s. On a Redis
 * Cluster the two streams live on different slots (one XREADGROUP cannot name both): one read
 * loop per stream, both at once, on a cluster client.
 */
import { isCluster, pipeline, type RedisClient } from '../src/redis/client.js';
import { clusterClient } from './cluster.js';
import { redisClient, redisCpu, report, round, streamsOf } from './lib.js';

export interface CeilingResult {
  bench: 'ceiling';
  events: number;
  seconds: number;
  events_per_s: number;
  reads: number;
  /** CPU seconds per 100 k events: this Node process, Redis. */
  node_cpu_s_per_100k: number;
  redis_cpu_s_per_100k: number;
}

type XRows = Array<[string, Array<[string, string[]]>]>;

export async function ceiling(redis: RedisClient, prefix: string, n: number): Promise<CeilingResult> {
  const s = streamsOf(prefix);
  const group = 'ceiling';
  for (const st of [s.login, s.activity]) await redis.xgroup('CREATE', st, group, '0', 'MKSTREAM');
  const reader: RedisClient = isCluster(redis) ? clusterClient() : redisClient();
  await reader.ping();
  let count = 0;
  let reads = 0;
  let checksum = 0;
  /** Reads `streams` (one XREADGROUP naming all) until they are empty or `n` entries were read in all. */
  const drain = async (streams: string[]): Promise<void> => {
    while (count < n) {
      const res = (await reader.xreadgroup('GROUP', group, 'c1', 'COUNT', 1000, 'STREAMS', ...streams, ...streams.map(() => '>'))) as XRows | null;
      if (!res) break;
      reads++;
      const p = pipeline(reader);
      for (const [stream, rows] of res) {
        const ids: string[] = [];
        for (const [id, f] of rows) {
          const ev = JSON.parse(f[f.indexOf('event') + 1]!) as { user: string };
          checksum += ev.user.length;
          ids.push(id);
        }
        count += ids.length;
        p.xack(stream, group, ...ids);
      }
      const acks = (await p.exec()) ?? [];
      for (const [err] of acks) if (err) throw err;
    }
  };
  const cpu0 = process.cpuUsage();
  const rcpu0 = await redisCpu(redis);
  const t0 = performance.now();
  if (isCluster(reader)) await Promise.all([drain([s.login]), drain([s.activity])]);
  else await drain([s.login, s.activity]);
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rcpu = (await redisCpu(redis)) - rcpu0;
  reader.disconnect();
  if (count !== n || checksum === 0) throw new Error(`ceiling read ${count} of ${n}`);
  const r: CeilingResult = {
    bench: 'ceiling',
    events: count,
    seconds: round(seconds, 3),
    events_per_s: round(count / seconds),
    reads,
    node_cpu_s_per_100k: round(((cpu.user + cpu.system) / 1e6) * (1e5 / count), 2),
    redis_cpu_s_per_100k: round(rcpu * (1e5 / count), 2),
  };
  report(r, [
    ['events', r.events],
    ['seconds', r.seconds],
    ['XREADGROUP calls', r.reads],
    ['CPU s per 100 k: node / Redis', `${r.node_cpu_s_per_100k} / ${r.redis_cpu_s_per_100k}`],
    ['events/s', r.events_per_s, 'raw XREADGROUP + JSON.parse + XACK'],
  ]);
  return r;
}
