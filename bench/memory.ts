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
  /** Active sessions stored, and the session-audit bytes per active session. */
  activeSessions: number;
  perSession: number;
}

const RISK_KINDS = new Set(['state', 'expiry', 'pos', 'lease', 'epoch', 'events', 'outbox', 'delivered', 'enqueued']);

/** Sums MEMORY USAGE over every key of the prefix's users (SCAN), per key kind, divided by users. */
export async function redisBytesPerUser(redis: Redis, prefix: string): Promise<RedisPerUser> {
  const users = await redis.zcard(`${prefix}:users:level`);
  const sum: Record<string, number> = {};
  let sessionBytes = 0;
  for (const [pattern, kindOf] of [
    [`${prefix}:u:*`, (k: string) => k.slice(k.lastIndexOf('}:') + 2).split(':')[0]!],
    [`${prefix}:session:*`, () => 'session'],
    // Partitions: users' states and expiry index (risk); `in` (routed input, trimmed as committed) is input, not state.
    [`${prefix}:{p*}:*`, (k: string) => k.slice(k.lastIndexOf('}:') + 2)],
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
        if (kind === 'in') return;
        if (RISK_KINDS.has(kind)) sum[kind] = (sum[kind] ?? 0) + bytes;
        else sessionBytes += bytes;
      });
    } while (cursor !== '0');
  }
  const usage = async (key: string): Promise<number> => Number((await redis.memory('USAGE', key, 'SAMPLES', '0')) ?? 0);
  const indexes = (await usage(`${prefix}:users:level`)) + (await usage(`${prefix}:outbox:pending`));
  const activeSessions = await redis.zcard(`${prefix}:sessions:expiry`);
  sessionBytes += (await usage(`${prefix}:sessions:login`)) + (await usage(`${prefix}:sessions:expiry`));
  const per = (b: number): number => (users ? round(b / users) : 0);
  const byKind = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, per(v)]));
  const riskBytes = Object.values(sum).reduce((a, b) => a + b, 0) + indexes;
  return {
    users,
    total: per(riskBytes),
    byKind,
    indexes: per(indexes),
    sessions: per(sessionBytes),
    activeSessions,
    perSession: activeSessions ? round(sessionBytes / activeSessions) : 0,
  };
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
  /** Least-squares slope of RSS over users, from 2× the LRU cap on (bytes per extra user). */
  rss_bytes_per_user_beyond_2x_cap: number;
  heap_bytes_per_user_beyond_2x_cap: number;
  /** That slope over 80 k extra users, as a share of the RSS at 2× the cap. */
  rss_growth_beyond_2x_cap_pct: number;
}

/** Least-squares slope of y over x. */
function slope(points: Array<[number, number]>): number {
  const n = points.length;
  if (n < 2) return 0;
  const mx = points.reduce((a, p) => a + p[0], 0) / n;
  const my = points.reduce((a, p) => a + p[1], 0) / n;
  const num = points.reduce((a, p) => a + (p[0] - mx) * (p[1] - my), 0);
  const den = points.reduce((a, p) => a + (p[0] - mx) ** 2, 0);
  return den ? num / den : 0;
}

export async function memory(
  redis: Redis,
  prefix: string,
  opts: { users: number; eventsPerUser: number; lruSize?: number },
): Promise<MemoryResult & { perUser: RedisPerUser }> {
  const lru = opts.lruSize ?? 10_000;
  const receiver = new CountingReceiver(false);
  await receiver.listen();
  const cfg = await writeBenchConfig(prefix, {
    receivers: [{ name: 'bench', kind: 'ssf', endpoint: `${receiver.url}/mem`, audience: 'https://receiver.bench', events: ['risk-level-change'] }],
  });
  const w = await WorkerChild.start(cfg.dir, { execArgv: ['--expose-gc'] });
  const step = Math.max(1000, Math.round(opts.users / 10));
  const checkpoints = [0, ...Array.from({ length: Math.ceil(opts.users / step) }, (_, i) => Math.min(opts.users, (i + 1) * step))];
  const rss: Record<string, number> = {};
  const heap: Record<string, number> = {};
  const raw: Array<{ users: number; rss: number; heap: number }> = [];
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
      raw.push({ users: tracked, rss: m.rss, heap: m.heapUsed });
    }
    const perUser = await redisBytesPerUser(redis, prefix);
    const keys = raw.map((x) => x.users);
    const beyond = raw.filter((x) => x.users >= 2 * lru * 0.9);
    const at2x = beyond[0]?.users ?? keys[0]!;
    const rssSlope = slope(beyond.map((x) => [x.users, x.rss]));
    const heapSlope = slope(beyond.map((x) => [x.users, x.heap]));
    const rssAt2x = beyond.length
      ? beyond.reduce((a, x) => a + x.rss, 0) / beyond.length - rssSlope * (beyond.reduce((a, x) => a + x.users, 0) / beyond.length - at2x)
      : 1;
    const r: MemoryResult = {
      bench: 'memory',
      users: perUser.users,
      events: sent,
      lru_size: lru,
      redis_bytes_per_user: perUser.total,
      redis_session_bytes_per_user: perUser.sessions,
      rss_mb: rss,
      heap_mb: heap,
      rss_bytes_per_user_beyond_2x_cap: round(rssSlope),
      heap_bytes_per_user_beyond_2x_cap: round(heapSlope),
      rss_growth_beyond_2x_cap_pct: round(((rssSlope * 80_000) / rssAt2x) * 100, 1),
    };
    report(r, [
      ['tracked users', r.users],
      ['events', r.events],
      [
        'Redis bytes per user (risk)',
        r.redis_bytes_per_user,
        `${Object.entries(perUser.byKind)
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}, indexes ${perUser.indexes}; target < 2048`,
      ],
      ['Redis bytes per user (sessions)', r.redis_session_bytes_per_user, 'session audit: identities (TTL), per-user session/device index'],
      ...keys.map((k): [string, unknown, string] => [
        `RSS / heap MB at ${k} users`,
        `${rss[String(k)]} / ${heap[String(k)]}`,
        k === at2x ? '(≥ 2× LRU cap from here)' : '',
      ]),
      [
        'slope beyond 2× cap: RSS / heap',
        `${r.rss_bytes_per_user_beyond_2x_cap} / ${r.heap_bytes_per_user_beyond_2x_cap}`,
        'bytes per extra user (least squares)',
      ],
      ['RSS growth over 80 k more users', `${r.rss_growth_beyond_2x_cap_pct} %`, 'flat: < 10 %'],
    ]);
    return { ...r, perUser };
  } finally {
    await w.stop();
    await receiver.close();
    cfg.remove();
  }
}
