/**
 * End to end: the real worker (its own process, shipped defaults, one SSF receiver) over the
 * same N pre-loaded entries the ceiling read. The worker's consumer group is created at the
 * stream end before it starts; the clock starts when the group is moved back to 0 (the entries
 * become visible to its router) and stops when every partition has committed the last entry routed
 * to it (states, risk events and session identities in Redis). Events/s, and the ratio to the ceiling of the same run.
 */
import type { Redis } from 'ioredis';
import { Keys } from '../src/keys.js';
import { compareKeys, parseKey } from '../src/partition.js';
import { redisBytesPerUser, type RedisPerUser } from './memory.js';
import {
  CountingReceiver,
  WorkerChild,
  commandStats,
  profileFlags,
  redisCpu,
  topCommands,
  report,
  round,
  sleep,
  streamsOf,
  workerFlags,
  writeBenchConfig,
} from './lib.js';

export interface EndToEndResult {
  bench: 'end_to_end';
  events: number;
  users: number;
  seconds: number;
  events_per_s: number;
  ratio_to_ceiling: number;
  batches: number;
  mean_batch: number;
  hits: number;
  level_changes: number;
  sets_delivered: number;
  redis_bytes_per_user: number;
  /** Risk-event history bytes per user (per-user streams), apart from the state. */
  history_bytes_per_user: number;
  /** Session audit: bytes per active session identity (identity, indexes), and the sessions stored. */
  session_bytes_per_session: number;
  active_sessions: number;
  /** CPU seconds per 100 k events: the worker process, Redis. */
  worker_cpu_s_per_100k: number;
  redis_cpu_s_per_100k: number;
  redis_top: string;
}

export async function endToEnd(
  redis: Redis,
  prefix: string,
  n: number,
  users: number,
  ceilingPerS: number,
  opts: { profileDir?: string; sessions?: boolean } = {},
): Promise<EndToEndResult & { perUser: RedisPerUser; window: [number, number] }> {
  const s = streamsOf(prefix);
  for (const st of [s.login, s.activity]) await redis.xgroup('CREATE', st, s.group, '$', 'MKSTREAM');
  const receiver = new CountingReceiver(false);
  await receiver.listen();
  const cfg = await writeBenchConfig(prefix, {
    receivers: [{ name: 'bench', kind: 'ssf', endpoint: `${receiver.url}/e2e`, audience: 'https://receiver.bench', events: ['risk-level-change'] }],
    ...(opts.sessions === false ? { sessions: { enabled: false } } : {}),
  });
  const execArgv = [...(opts.profileDir ? profileFlags(opts.profileDir) : []), ...workerFlags()];
  const w = await WorkerChild.start(cfg.dir, { execArgv });
  try {
    await sleep(500); // started and idle: blocked in XREADGROUP on the empty group
    const cpu0 = await w.cpu();
    const rcpu0 = await redisCpu(redis);
    const stats0 = await commandStats(redis);
    const t0 = Date.now();
    await redis
      .pipeline()
      .xgroup('SETID', s.login, s.group, '0')
      .xgroup('SETID', s.activity, s.group, '0')
      // Wakes the blocked XREADGROUP (a group moving back does not).
      .xadd(s.activity, '*', 'event', JSON.stringify({ type: 'access', user: 'kick@bench.example', time: Date.now(), app: 'mail' }))
      .exec();
    await w.waitRead(n + 1, 300_000);
    // The clock stops once every partition has committed what it applied (states, risk events and
    // session identities written), not at the last apply: the commit is part of the work.
    const end = await allCommitted(redis, prefix);
    const seconds = (end - t0) / 1000;
    const end0Hr = w.lastHr;
    const cpu = (await w.cpu()) - cpu0;
    const rcpu = (await redisCpu(redis)) - rcpu0;
    const top = topCommands(stats0, await commandStats(redis), n);
    const delivered = receiver.receipts.length;
    // Let the queued SETs drain before measuring memory and stopping (not timed).
    if (w.changes > 0) await receiver.waitCount(1, 30_000).catch(() => undefined);
    const perUser = await redisBytesPerUser(redis, prefix);
    const r: EndToEndResult = {
      bench: 'end_to_end',
      events: n,
      users,
      seconds: round(seconds, 3),
      events_per_s: round(n / seconds),
      ratio_to_ceiling: round(n / seconds / ceilingPerS, 3),
      batches: w.batches,
      mean_batch: round(w.read / w.batches, 1),
      hits: w.hits,
      level_changes: w.changes,
      sets_delivered: delivered,
      redis_bytes_per_user: perUser.total,
      history_bytes_per_user: perUser.history,
      session_bytes_per_session: perUser.perSession,
      active_sessions: perUser.activeSessions,
      worker_cpu_s_per_100k: round(cpu * (1e5 / n), 2),
      redis_cpu_s_per_100k: round(rcpu * (1e5 / n), 2),
      redis_top: top,
    };
    report(r, [
      ['events', r.events],
      ['users', r.users],
      ['seconds', r.seconds],
      ['batches (mean size)', `${r.batches} (${r.mean_batch})`],
      ['behavior hits / level changes', `${r.hits} / ${r.level_changes}`],
      ['SETs delivered by then', r.sets_delivered],
      ['CPU s per 100 k: worker / Redis', `${r.worker_cpu_s_per_100k} / ${r.redis_cpu_s_per_100k}`, 'worker includes SET delivery, sweeps'],
      ['Redis commands per event (calls×/µs)', top.split(', ').slice(0, 4).join(', ')],
      ['', top.split(', ').slice(4).join(', ')],
      [
        'Redis bytes per user',
        r.redis_bytes_per_user,
        `${Object.entries(perUser.byKind)
          .filter(([k]) => k !== 'events' && k !== 'outbox')
          .map(([k, v]) => `${k} ${v}`)
          .join(', ')}, indexes ${perUser.indexes}; target < 1024`,
      ],
      [
        '  + risk-event history / outbox per user',
        `${perUser.history} / ${perUser.outbox}`,
        'hits and changes with evidence (capped per user); outbox: transient',
      ],
      ['Redis bytes per active session', r.session_bytes_per_session, `${r.active_sessions} sessions; target < 1024`],
      ['events/s', r.events_per_s, 'XADD → committed, acked, relayed'],
      ['ratio to ceiling', r.ratio_to_ceiling, 'target ≥ 0.30'],
    ]);
    return { ...r, perUser, window: [w.firstHr ?? 0, end0Hr] };
  } finally {
    await w.stop();
    await receiver.close();
    cfg.remove();
  }
}

/**
 * Resolves with the time (ms) at which every partition's committed position has reached the last
 * entry routed to it (its stream, trimmed as commits land, holds nothing above the position).
 */
async function allCommitted(redis: Redis, prefix: string, timeoutMs = 120_000): Promise<number> {
  const keys = new Keys(prefix);
  const above = (id: string, pos: string | null): boolean => !pos || compareKeys(parseKey(id), parseKey(pos)) > 0;
  const until = Date.now() + timeoutMs;
  for (;;) {
    const p = redis.pipeline();
    for (const part of keys.partitionList) p.xrevrange(keys.partitionIn(part), '+', '-', 'COUNT', 1).hget(keys.partitionPos(part), 'pos');
    const res = (await p.exec()) ?? [];
    let pending = false;
    for (let i = 0; i < res.length; i += 2) {
      const top = (res[i]?.[1] as Array<[string, string[]]> | null)?.[0]?.[0];
      if (top && above(top, res[i + 1]?.[1] as string | null)) pending = true;
    }
    const now = Date.now();
    if (!pending) return now;
    if (now > until) throw new Error('end to end: partitions still uncommitted after the timeout');
    await sleep(10);
  }
}
