/**
 * Memory: Redis bytes per tracked user (MEMORY USAGE of every per-user key plus each user's share
 * of the per-partition indexes) and the worker's RSS as the number of users grows past its LRU cap
 * (state.lru_size, 10 000 by default): users arrive in phases; after each phase is committed the
 * worker runs a full GC and reports RSS and heap.
 */
import type { Redis } from 'ioredis';
import { Keys } from '../src/keys.js';
import { generate } from './data.js';
import { CountingReceiver, WorkerChild, preload, report, round, writeBenchConfig } from './lib.js';

export interface RedisPerUser {
  users: number;
  /**
   * Risk state per user (bytes): the user's state (partition hash field), delivery bookkeeping, the
   * engine's per-partition keys and the user's share of the indexes — what the target is about.
   */
  total: number;
  /** The risk-event history (per-user streams of hits and changes, capped by max_events_per_user) and the outbox (transient), per user. */
  history: number;
  outbox: number;
  byKind: Record<string, number>;
  indexes: number;
  /** Session audit per user (per-user session/device keys, session keys, their indexes), reported apart. */
  sessions: number;
  /** Active sessions stored, and the session-audit bytes per active session. */
  activeSessions: number;
  perSession: number;
}

const RISK_KINDS = new Set(['state', 'expiry', 'pos', 'lease', 'epoch', 'events', 'outbox', 'delivered', 'enqueued']);

/**
 * The kind of one of the prefix's keys (src/keys.ts): a partition's (`<prefix>:{p<n>}:…`: its
 * users' events / outbox / sessions / devices, sessions, indexes, state, position, lease) or a
 * user's delivery key (`<prefix>:u:{user}:…`).
 */
function kindOf(prefix: string, key: string): string {
  const rest = key.slice(prefix.length + 1);
  const inPartition = /^\{p\d+\}:(.*)$/.exec(rest)?.[1];
  if (inPartition === undefined) return rest.slice(rest.lastIndexOf('}:') + 2).split(':')[0]!;
  if (inPartition.startsWith('u:')) return inPartition.slice(inPartition.lastIndexOf(':') + 1);
  if (inPartition === 'users:level' || inPartition === 'outbox:pending') return 'index';
  if (inPartition.startsWith('sessions:')) return 'session-index';
  if (inPartition.startsWith('session:')) return 'session';
  if (inPartition.startsWith('control:')) return 'control';
  return inPartition;
}

/** Members of a per-partition sorted set, summed over the partitions (engine.partitions: the default). */
async function countAll(redis: Redis, prefix: string, key: (keys: Keys, p: number) => string): Promise<number> {
  const keys = new Keys(prefix);
  const p = redis.pipeline();
  for (const part of keys.partitionList) p.zcard(key(keys, part));
  return ((await p.exec()) ?? []).reduce((n, [, c]) => n + Number(c ?? 0), 0);
}

/** Sums MEMORY USAGE over every key of the prefix's users (SCAN), per key kind, divided by users. */
export async function redisBytesPerUser(redis: Redis, prefix: string): Promise<RedisPerUser> {
  const users = await countAll(redis, prefix, (k, p) => k.usersByLevel(p));
  const activeSessions = await countAll(redis, prefix, (k, p) => k.sessionsByExpiry(p));
  const sum: Record<string, number> = {};
  let sessionBytes = 0;
  let indexes = 0;
  for (const pattern of [`${prefix}:u:*`, `${prefix}:{p*}:*`]) {
    let cursor = '0';
    do {
      const [next, found] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 2000);
      cursor = next;
      if (!found.length) continue;
      const p = redis.pipeline();
      for (const k of found) p.memory('USAGE', k, 'SAMPLES', '0');
      const res = (await p.exec()) ?? [];
      found.forEach((k, i) => {
        const kind = kindOf(prefix, k);
        const bytes = Number(res[i]?.[1] ?? 0);
        // `in` (routed input, trimmed as committed) is input, not state; reset outcomes are transient.
        if (kind === 'in' || kind === 'control') return;
        if (kind === 'index') indexes += bytes;
        else if (RISK_KINDS.has(kind)) sum[kind] = (sum[kind] ?? 0) + bytes;
        else sessionBytes += bytes;
      });
    } while (cursor !== '0');
  }
  const per = (b: number): number => (users ? round(b / users) : 0);
  const byKind = Object.fromEntries(Object.entries(sum).map(([k, v]) => [k, per(v)]));
  const riskBytes = Object.entries(sum).reduce((a, [k, b]) => (k === 'events' || k === 'outbox' ? a : a + b), 0) + indexes;
  return {
    users,
    total: per(riskBytes),
    history: per(sum.events ?? 0),
    outbox: per(sum.outbox ?? 0),
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
      const tracked = c === 0 ? 0 : await countAll(redis, prefix, (k, p) => k.usersByLevel(p));
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
