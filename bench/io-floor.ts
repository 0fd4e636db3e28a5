/**
 * I/O floor: the Redis traffic the partitioned engine must exchange per event, issued by one Node
 * process with ioredis and no logic at all — the physical bound of the design on this machine, in
 * the same run as the ceiling. Over the same N pre-loaded entries:
 *
 * 1. route: XREADGROUP (COUNT 2000, both input streams), `JSON.parse` of each entry, one XADD per
 *    partition holding its events (JSON), XACK;
 * 2. own: XREAD of those partition entries, `JSON.parse`;
 * 3. commit, per partition (one pipeline): the state of each user seen (HSET, 800 bytes — the
 *    measured size of a state), each login's session identity (SET PX, 920 bytes, the measured size)
 *    with its three index entries (ZADD by login, by expiry, per user), the position (HSET) and
 *    the stream trim (XTRIM MINID).
 *
 * The engine does this and, besides, decodes, validates, detects, builds identities and encodes
 * (bench/stages.ts), in Lua-fenced commits; no implementation of the design can beat this figure.
 * `contract` variant (`routing: false`): step 2 skipped and step 1 writes nothing — what any
 * design must do to honour the contract (read, ack, store states and session identities).
 */
import type { Redis } from 'ioredis';
import { partitionOf } from '../src/partition.js';
import { redisClient, redisCpu, report, round, streamsOf } from './lib.js';

export interface IoFloorResult {
  bench: 'io_floor';
  variant: 'design' | 'contract';
  events: number;
  seconds: number;
  events_per_s: number;
  ratio_to_ceiling: number;
  node_cpu_s_per_100k: number;
  redis_cpu_s_per_100k: number;
}

type XRows = Array<[string, Array<[string, string[]]>]>;

const PARTITIONS = 64;
const STATE = Buffer.alloc(800, 7);
const IDENTITY = 'x'.repeat(920);
const TTL_MS = 12 * 3_600_000;

/** The commit's writes: per session SET PX + 3 ZADD (by login, by expiry, per user); per user HSET; position; trim. */
const COMMIT_LUA = `
local tag, now, ttl, pos, trim, n = ARGV[1], tonumber(ARGV[2]), tonumber(ARGV[3]), ARGV[4], ARGV[5], tonumber(ARGV[6])
local i = 7
for _ = 1, n do
  local sid, user = ARGV[i], ARGV[i + 1]
  redis.call('SET', tag .. ':s:' .. sid, ARGV[i + 2], 'PX', ttl)
  redis.call('ZADD', tag .. ':sl', now, sid)
  redis.call('ZADD', tag .. ':se', now + ttl, sid)
  redis.call('ZADD', tag .. ':us:' .. user, now + ttl, sid)
  i = i + 3
end
for j = i, #ARGV, 2 do redis.call('HSET', tag .. ':state', ARGV[j], ARGV[j + 1]) end
redis.call('HSET', tag .. ':pos', 'pos', pos)
if trim == '1' then redis.call('XTRIM', tag .. ':in', 'MINID', pos) end
return 1`;

interface Ev {
  user: string;
  type: string;
  outcome?: string;
  session?: { id: string };
}

export async function ioFloor(
  redis: Redis,
  prefix: string,
  n: number,
  ceilingPerS: number,
  opts: { routing?: boolean; count?: number; quiet?: boolean } = {},
): Promise<IoFloorResult> {
  const routing = opts.routing !== false;
  const count = opts.count ?? 2000;
  const s = streamsOf(prefix);
  const group = routing ? 'iofloor' : 'iofloor-contract';
  const base = `${prefix}:${routing ? 'iof' : 'iofc'}`;
  for (const st of [s.login, s.activity]) await redis.xgroup('CREATE', st, group, '0', 'MKSTREAM');
  const reader = redisClient();
  const writer = redisClient();
  await Promise.all([reader.ping(), writer.ping()]);
  const sha = (await writer.script('LOAD', COMMIT_LUA)) as string;
  const cursors = Array.from({ length: PARTITIONS }, () => '0');
  let done = 0;
  const cpu0 = process.cpuUsage();
  const rcpu0 = await redisCpu(redis);
  const t0 = performance.now();
  let inflight: Promise<unknown> = Promise.resolve();
  while (done < n) {
    const res = (await reader.xreadgroup('GROUP', group, 'c1', 'COUNT', count, 'STREAMS', s.login, s.activity, '>', '>')) as XRows | null;
    if (!res) break;
    const byPart: Ev[][] = Array.from({ length: PARTITIONS }, () => []);
    const rawByPart: string[][] = Array.from({ length: PARTITIONS }, () => []);
    const acks = writer.pipeline();
    for (const [stream, rows] of res) {
      const ids: string[] = [];
      for (const [id, f] of rows) {
        const json = f[f.indexOf('event') + 1]!;
        const ev = JSON.parse(json) as Ev;
        const p = partitionOf(ev.user, PARTITIONS);
        byPart[p]!.push(ev);
        rawByPart[p]!.push(json);
        ids.push(id);
      }
      done += ids.length;
      acks.xack(stream, group, ...ids);
    }
    if (routing) {
      // The routing hop at its cheapest: each partition's input JSON written as one entry (no
      // re-encoding), before the acks; then read back by the owner, which keeps the parsed events it
      // holds in memory when the stream holds exactly the bytes written (as the engine's handoff).
      const w = writer.pipeline();
      const written = new Map<number, Buffer>();
      rawByPart.forEach((raw, p) => {
        if (!raw.length) return;
        const bytes = Buffer.from(`[${raw.join(',')}]`);
        written.set(p, bytes);
        w.xadd(`${base}:{p${p}}:in`, '*', 'd', bytes);
      });
      await w.exec();
      const r = writer.pipeline();
      for (const p of written.keys()) r.xreadBuffer('COUNT', count, 'STREAMS', `${base}:{p${p}}:in`, cursors[p]!);
      const got = (await r.exec()) ?? [];
      [...written].forEach(([p, bytes], i) => {
        for (const [, rows] of (got[i]?.[1] as Array<[Buffer, Array<[Buffer, Buffer[]]>]> | null) ?? []) {
          for (const [id, f] of rows) {
            cursors[p] = id.toString();
            if (!f[1]!.equals(bytes)) throw new Error(`io floor: partition ${p} holds other bytes than written`);
          }
        }
      });
    }
    // The acks and the commit go out while the next batch is read (one commit in flight, as the engine).
    await inflight;
    const ackDone = acks.exec();
    // One script call per partition (the cheapest form for the client: one command, its values
    // as arguments), as the engine's commit does; it runs the plain writes.
    const c = writer.pipeline();
    byPart.forEach((evs, p) => {
      if (!evs.length) return;
      const tag = `${base}:{p${p}}`;
      const users = new Set<string>();
      const args: Array<string | Buffer | number> = [];
      let sessions = 0;
      for (const e of evs) {
        users.add(e.user);
        const sid = e.session?.id;
        if (e.type === 'login' && sid) {
          args.push(sid, e.user, IDENTITY);
          sessions++;
        }
      }
      for (const u of users) args.push(u, STATE);
      c.evalsha(sha, 0, tag, Date.now(), TTL_MS, cursors[p]!, routing ? 1 : 0, sessions, ...args);
    });
    inflight = Promise.all([ackDone, c.exec()]);
  }
  await inflight;
  const seconds = (performance.now() - t0) / 1000;
  const cpu = process.cpuUsage(cpu0);
  const rcpu = (await redisCpu(redis)) - rcpu0;
  // Its keys and group go (the end-to-end run that follows measures bytes per user under the prefix).
  for (let cur = '0'; ;) {
    const [next, found] = await writer.scan(cur, 'MATCH', `${base}:*`, 'COUNT', 1000);
    if (found.length) await writer.unlink(...found);
    if ((cur = next) === '0') break;
  }
  for (const st of [s.login, s.activity]) await writer.xgroup('DESTROY', st, group);
  reader.disconnect();
  writer.disconnect();
  if (done !== n) throw new Error(`io floor read ${done} of ${n}`);
  const r: IoFloorResult = {
    bench: 'io_floor',
    variant: routing ? 'design' : 'contract',
    events: done,
    seconds: round(seconds, 3),
    events_per_s: round(done / seconds),
    ratio_to_ceiling: round(done / seconds / ceilingPerS, 3),
    node_cpu_s_per_100k: round(((cpu.user + cpu.system) / 1e6) * (1e5 / done), 2),
    redis_cpu_s_per_100k: round(rcpu * (1e5 / done), 2),
  };
  if (opts.quiet) return r;
  report(r, [
    [
      'what',
      routing
        ? 'the design’s Redis I/O, no logic (read, route, re-read, commit states + session identities)'
        : 'the contract’s I/O only (read, ack, states + session identities)',
    ],
    ['seconds', r.seconds],
    ['CPU s per 100 k: node / Redis', `${r.node_cpu_s_per_100k} / ${r.redis_cpu_s_per_100k}`],
    ['events/s', r.events_per_s],
    ['ratio to ceiling', r.ratio_to_ceiling, 'an upper bound on the end-to-end ratio'],
  ]);
  return r;
}
