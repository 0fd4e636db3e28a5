/**
 * Memory: Redis bytes per tracked user (MEMORY USAGE of every per-user key plus each user's share
 * of the global indexes) and the worker's RSS as the number of users grows past its LRU cap
 * (state.lru_size, 10 000 by default): users arrive in phases; after each phase is committed the
 * worker runs a full GC and reports RSS and heap.
 */
import type { Redis } from 'ioredis';
import { generate } from './data.js';
import { CountingReceiver, WorkerChild, preload, report, round, writeBenchConfig } from './lib.js';

export interface RedisPerUser {
  users: number;
  /** Risk state per user: per-user risk keys + share of the risk indexes (bytes). */
  total: number;
  byKind: Record<string, number>;
  indexes: number;
  /** Session audit per user (per-user session/device keys, session keys, their indexes), reported apart. */
  sessions: number;
}

const RISK_KINDS = new Set(['state', 'applied', 'events', 'outbox', 'delivered', 'enqueued']);

/** Sums MEMORY USAGE over every key of the prefix's users (SCAN), per key kind, divided by users. */
export async function redisBytesPerUser(redis: Redis, prefix: string): Promise<RedisPerUser> {
  const users = await redis.zcard(`${prefix}:users:level`);
  const sum: Record<string, number> = {};
  let sessionBytes = 0;
  for (const [pattern, kindOf] of [
    [`${prefix}:u:*`, (k: string) => k.slice(k.lastIndexOf('}:') + 2).split(':')[0]!],
    [`${prefix}:session:*`, () => 'session'],
  ] as const) {
    let cursor = '0';
    do {
      const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
      cursor = next;
      if (!keys.length) continue;
      const p = redis.pipeline();
      for (const k of keys) p.memory('USAGE', k, 'SAMPLES', '0');
      const res = (await p.exec()) ?? [];
      keys.forEach((k, i) => {
        const kind = kindOf(k);
        const bytes = Number(res[i]?.[1] ?? 0);
        if (RISK_KINDS.has(kind)) sum[kind] = (sum[kind] ?? 0) + bytes;
        else sessionBytes += bytes;
      });
    } while (cursor !== '0');
  }
  const usage = async (key: string): Promise<number> => Number((await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0);
  const indexes = (await usage(`${prefix}:users:level`)) + (await usage(`${prefix}:expiry`)) + (await usage(`${prefix}:outbox:pending`));
  sessionBytes += (await usage(`${prefix}:sessions:login`)) + (await usage(`${prefix}:sessions:expiry`));
  const per = (b: number): number => (users ? round(b / users) : 0);
  const byKind = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, per(v)]));
  const riskBytes = Object.values(sum).reduce((a, b) => a + b, 0) + indexes;
  return { users, total: per(riskBytes), byKind, indexes: per(indexes), sessions: per(sessionBytes) };
}

export interface MemoryResult {
  bench: 'memory';
  users: number;
  events: number;
  lru_size: number;
  redis_bytes_per_user: number;
  redis_session_bytes_per_user: number;
  rss_mb: Record<string, number>;
  heap_mb: Record<string, number>;
  rss_growth_beyond_2x_cap_pct: number;
  rss_bytes_per_user_beyond_2x_cap: number;
}

export async function memory(redis: Redis, prefix: string, opts: { users: number; eventsPerUser: number; lruSize?: number }): Promise<MemoryResult & { perUser: RedisPerUser }> {
  const lru = opts.lruSize ?? 10_000;
  const receiver = new CountingReceiver(false);
  await receiver.listen();
  const cfg = await writeBenchConfig(prefix, {
    receivers: [{ name: 'bench', kind: 'ssf', endpoint: `${receiver.url}/mem`, audience: 'https://receiver.bench', events: ['risk-level-change'] }],
  });
  const w = await WorkerChild.start(cfg.dir, { execArgv: ['--expose-gc'] });
  const checkpoints = [0, lru, 2 * lru, 4 * lru, 7 * lru, opts.users].filter((c, i, a) => c <= opts.users && a.indexOf(c) === i);
  const rss: Record<string, number> = {};
  const heap: Record<string, number> = {};
  let sent = 0;
  try {
    let prev = 0;
    for (const c of checkpoints) {
      if (c > prev) {
        // Event times: the last 12 h, so the state is what live traffic leaves behind.
        const events = generate({ events: (c - prev) * opts.eventsPerUser, users: c - prev, firstUser: prev, seed: 11 + prev });
        await preload(redis, prefix, events);
        sent += events.length;
        await w.waitRead(sent, 300_000);
        prev = c;
      }
      const m = await w.memory();
      const tracked = c === 0 ? 0 : await redis.zcard(`${prefix}:users:level`);
      rss[String(tracked)] = round(m.rss / 2 ** 20, 1);
      heap[String(tracked)] = round(m.heapUsed / 2 ** 20, 1);
    }
    const perUser = await redisBytesPerUser(redis, prefix);
    const keys = Object.keys(rss).map(Number);
    const at2x = keys.find((k) => k >= 2 * lru * 0.9) ?? keys[0]!;
    const last = keys[keys.length - 1]!;
    const growth = rss[String(last)]! - rss[String(at2x)]!;
    const r: MemoryResult = {
      bench: 'memory',
      users: perUser.users,
      events: sent,
      lru_size: lru,
      redis_bytes_per_user: perUser.total,
      redis_session_bytes_per_user: perUser.sessions,
      rss_mb: rss,
      heap_mb: heap,
      rss_growth_beyond_2x_cap_pct: round((growth / rss[String(at2x)]!) * 100, 1),
      rss_bytes_per_user_beyond_2x_cap: last > at2x ? round((growth * 2 ** 20) / (last - at2x)) : 0,
    };
    report(r, [
      ['tracked users', r.users],
      ['events', r.events],
      ['Redis bytes per user (risk)', r.redis_bytes_per_user, `${Object.entries(perUser.byKind).map(([k, v]) => `${k} ${v}`).join(', ')}, indexes ${perUser.indexes}; target < 2048`],
      ['Redis bytes per user (sessions)', r.redis_session_bytes_per_user, 'session audit: identities (TTL), per-user session/device index'],
      ...keys.map((k): [string, unknown, string] => [`RSS / heap MB at ${k} users`, `${rss[String(k)]} / ${heap[String(k)]}`, k === at2x ? '(2× LRU cap)' : '']),
      ['RSS growth beyond 2× cap', `${r.rss_growth_beyond_2x_cap_pct} %`, `${r.rss_bytes_per_user_beyond_2x_cap} B per extra user`],
    ]);
    return { ...r, perUser };
  } finally {
    await w.stop();
    await receiver.close();
    cfg.remove();
  }
}
