/**
 * `npm run bench` — every benchmark against the local Redis, each printing one JSON line and a
 * table, then a summary against the targets of issue 8.
 *
 *   npm run bench                         # all, once (< 5 min on the 2-core reference machine)
 *   npm run bench -- --runs 3             # all, three times; the summary shows medians
 *   npm run bench -- --only ceiling,e2e   # a subset: ceiling, e2e, latency, sets, memory
 *   npm run bench -- --profile            # the end-to-end and SET-delivery workers under node --cpu-prof (+ top costs)
 *   npm run bench -- --only e2e --sessions off   # diagnostic: end to end with session audit off
 *   npm run bench -- --cluster            # instead: end to end on the local Redis Cluster (scripts/ensure-redis-cluster.sh)
 *                                         # with 1, then 2 workers, and one node at the same size (bench/cluster-run.ts)
 *   npm run bench -- --cluster --workers 1,2,3   # the worker counts to run on the cluster
 *   npm run bench -- --sweep 1000,2000,3000,4000,5000   # instead: latency at each offered rate (bench/latency-sweep.ts)
 *
 * Sizes: --events (100 000; 40 000 with --cluster), --users (10 000; 4 000 with --cluster), --rate (5 000), --low-rate (2 000; 0 = skip), --sets (5 000 per algorithm),
 * --memory-users (100 000). Each benchmark uses its own random key prefix, deleted afterwards.
 */
import { execSync } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ceiling, type CeilingResult } from './ceiling.js';
import { clusterBench } from './cluster-run.js';
import { DIAG, generate } from './data.js';
import { endToEnd, type EndToEndResult } from './end-to-end.js';
import { latency, type LatencyResult } from './latency.js';
import { latencySweep } from './latency-sweep.js';
import { fmt, median, preload, redisClient, round, withPrefix } from './lib.js';
import { memory, type MemoryResult } from './memory.js';
import { summarizeProfile } from './profile.js';
import { ioFloor, type IoFloorResult } from './io-floor.js';
import { bound, type BoundResult } from './bound.js';
import { setDelivery, type SetDeliveryResult } from './set-delivery.js';

const { values: args } = parseArgs({
  options: {
    runs: { type: 'string', default: '1' },
    only: { type: 'string', default: 'ceiling,e2e,latency,sets,memory' },
    events: { type: 'string' },
    users: { type: 'string' },
    rate: { type: 'string', default: '5000' },
    // A second latency run below the worker's capacity: latency when it is not saturated.
    'low-rate': { type: 'string', default: '2000' },
    sets: { type: 'string', default: '5000' },
    'memory-users': { type: 'string', default: '100000' },
    profile: { type: 'boolean', default: false },
    // Diagnostic: `--sessions off` runs the end-to-end worker with session audit off (its cost).
    sessions: { type: 'string', default: 'on' },
    // Issue 17: the end-to-end bench on the local Redis Cluster instead (bench/cluster-run.ts).
    cluster: { type: 'boolean', default: false },
    // With --cluster: the worker counts to run, in order.
    workers: { type: 'string', default: '1,2' },
    // Instead of the rest: the latency bench at each of these offered rates (events/s).
    sweep: { type: 'string' },
    // Seconds each latency run offers its rate before measuring (the worker's JIT warms up meanwhile).
    warmup: { type: 'string', default: '3' },
  },
});
const only = new Set(args.only.split(','));
if (only.has('e2e')) only.add('ceiling'); // the ratio needs the ceiling of the same run
const N = Number(args.events ?? (args.cluster ? 40_000 : 100_000));
const USERS = Number(args.users ?? (args.cluster ? 4_000 : 10_000));

async function machine(): Promise<Record<string, unknown>> {
  const r = redisClient();
  const info = await r.info('server');
  r.disconnect();
  let nproc = cpus().length;
  try {
    nproc = Number(execSync('nproc').toString().trim());
  } catch {
    /* os.cpus() then */
  }
  return {
    date: new Date().toISOString(),
    nproc,
    cpu: cpus()[0]?.model ?? '?',
    node: process.version,
    redis: /redis_version:(\S+)/.exec(info)?.[1] ?? '?',
    // Other work on the machine skews every figure: recorded with each run.
    loadavg_1m: round(loadavg()[0]!, 2),
  };
}

interface RunResult {
  ceiling?: CeilingResult;
  floor?: IoFloorResult;
  floorContract?: IoFloorResult;
  bound?: BoundResult;
  e2e?: EndToEndResult;
  latency?: LatencyResult;
  latencyLow?: LatencyResult;
  sets?: SetDeliveryResult;
  memory?: MemoryResult;
}

async function runOnce(run: number): Promise<RunResult> {
  const out: RunResult = {};
  if (only.has('ceiling')) {
    await withPrefix('tp', async (prefix, redis) => {
      const events = generate({ events: N, users: USERS, seed: 7 });
      const loaded = await preload(redis, prefix, events);
      console.log(`# ${N.toLocaleString('en-US')} events for ${USERS.toLocaleString('en-US')} users pre-loaded in ${round(loaded.ms / 1000, 2)} s`);
      out.ceiling = await ceiling(redis, prefix, N);
      if (only.has('e2e')) {
        // The physical bound of the design (and of any design) in the same run: its Redis I/O, no logic.
        out.floor = await ioFloor(redis, prefix, N, out.ceiling.events_per_s);
        out.floorContract = await ioFloor(redis, prefix, N, out.ceiling.events_per_s, { routing: false });
        const profileDir = args.profile ? mkdtempSync(join(tmpdir(), 'riskstream-prof-')) : undefined;
        const e2e = await endToEnd(redis, prefix, N, USERS, out.ceiling.events_per_s, {
          ...(profileDir ? { profileDir } : {}),
          sessions: args.sessions !== 'off',
        });
        out.e2e = e2e;
        if (profileDir) summarizeProfile(profileDir, e2e.window);
        out.bound = bound(N, Number(m.nproc), out.floor, out.ceiling.events_per_s);
      }
    });
  }
  if (only.has('latency')) {
    out.latency = await withPrefix('lat', (prefix, redis) =>
      latency(redis, prefix, { rate: Number(args.rate), seconds: 15, warmup: Number(args.warmup), probesPerS: 20, users: USERS }),
    );
    if (Number(args['low-rate']) > 0) {
      out.latencyLow = await withPrefix('lat', (prefix, redis) =>
        latency(redis, prefix, { rate: Number(args['low-rate']), seconds: 15, warmup: Number(args.warmup), probesPerS: 20, users: USERS }),
      );
    }
  }
  if (only.has('sets')) {
    const profileDir = args.profile ? mkdtempSync(join(tmpdir(), 'riskstream-prof-')) : undefined;
    const sets = await withPrefix('set', (prefix, redis) => setDelivery(redis, prefix, Number(args.sets), profileDir ? { profileDir } : {}));
    out.sets = sets;
    if (profileDir) {
      console.log('# SET delivery profile: the ES256 phase');
      summarizeProfile(profileDir, sets.window);
    }
  }
  if (only.has('memory')) {
    out.memory = await withPrefix('mem', (prefix, redis) => memory(redis, prefix, { users: Number(args['memory-users']), eventsPerUser: 3 }));
  }
  console.log(JSON.stringify({ bench: 'run', run, ...flat(out) }));
  return out;
}

/** The figures the targets are about, flat. */
function flat(r: RunResult): Record<string, number | undefined> {
  return {
    ceiling_per_s: r.ceiling?.events_per_s,
    e2e_per_s: r.e2e?.events_per_s,
    ratio: r.e2e?.ratio_to_ceiling,
    io_floor_ratio: r.floor?.ratio_to_ceiling,
    io_floor_contract_ratio: r.floorContract?.ratio_to_ceiling,
    bound_ratio: r.bound?.ratio_to_ceiling,
    e2e_of_bound: r.e2e && r.bound ? round(r.e2e.events_per_s / r.bound.events_per_s, 2) : undefined,
    worker_cpu_us: r.e2e ? round(r.e2e.worker_cpu_s_per_100k * 10, 1) : undefined,
    redis_cpu_us: r.e2e ? round(r.e2e.redis_cpu_s_per_100k * 10, 1) : undefined,
    logic_cpu_us: r.bound?.logic_cpu_us,
    enqueued_p50_ms: r.latency?.enqueued_ms.p50,
    enqueued_p99_ms: r.latency?.enqueued_ms.p99,
    received_p50_ms: r.latency?.received_ms.p50,
    received_p99_ms: r.latency?.received_ms.p99,
    achieved_rate: r.latency?.achieved_per_s,
    low_rate_enqueued_p99_ms: r.latencyLow?.enqueued_ms.p99,
    low_rate_received_p99_ms: r.latencyLow?.received_ms.p99,
    es256_per_s: r.sets?.es256_per_s,
    rs256_per_s: r.sets?.rs256_per_s,
    redis_bytes_per_user_e2e: r.e2e?.redis_bytes_per_user,
    redis_bytes_per_user_100k: r.memory?.redis_bytes_per_user,
    session_bytes_per_session_e2e: r.e2e?.session_bytes_per_session,
    rss_growth_beyond_2x_cap_pct: r.memory?.rss_growth_beyond_2x_cap_pct,
  };
}

const started = Date.now();
const m = await machine();
if (args.sessions === 'off') console.log('# DIAGNOSTIC RUN (--sessions off): end to end without session audit, not comparable with recorded figures');
if (DIAG.size || process.env.BENCH_WORKER_FLAGS)
  console.log(
    `# DIAGNOSTIC RUN (BENCH_DIAG=${[...DIAG].join(',')} BENCH_WORKER_FLAGS=${process.env.BENCH_WORKER_FLAGS ?? ''}): not comparable with recorded figures`,
  );
console.log(
  `# riskstream bench — ${m.date} — ${m.nproc} cores (${String(m.cpu)}), Node ${String(m.node)}, Redis ${String(m.redis)}, load ${String(m.loadavg_1m)}`,
);
console.log(JSON.stringify({ bench: 'machine', ...m }));
if (args.sweep) {
  await latencySweep(args.sweep.split(',').map(Number), { seconds: 10, warmup: Number(args.warmup), users: USERS, targetMs: 25 });
  process.exit(0);
}
if (args.cluster) {
  await clusterBench({ runs: Number(args.runs), events: N, users: USERS, workers: args.workers.split(',').map(Number) });
  process.exit(0);
}
const runs: Array<Record<string, number | undefined>> = [];
for (let i = 1; i <= Number(args.runs); i++) {
  if (Number(args.runs) > 1) console.log(`\n# run ${i} of ${args.runs}`);
  runs.push(flat(await runOnce(i)));
}
const med: Record<string, number | undefined> = {};
for (const k of Object.keys(runs[0]!)) {
  const v = runs.map((r) => r[k]).filter((x): x is number => typeof x === 'number' && Number.isFinite(x));
  med[k] = v.length ? median(v) : undefined;
}
const seconds = round((Date.now() - started) / 1000, 1);
console.log(JSON.stringify({ bench: 'summary', runs: runs.length, median: med, seconds }));

const bytes = Math.max(med.redis_bytes_per_user_e2e ?? 0, med.redis_bytes_per_user_100k ?? 0) || undefined;
const rows: Array<[string, number | undefined, string, boolean | undefined]> = [
  ['ceiling events/s', med.ceiling_per_s, '', undefined],
  ['end-to-end events/s', med.e2e_per_s, '', undefined],
  ['I/O floor of the design / ceiling', med.io_floor_ratio, 'bound', undefined],
  ['I/O floor of the contract / ceiling', med.io_floor_contract_ratio, 'bound', undefined],
  ['bound: logic + I/O floor, all cores busy / ceiling', med.bound_ratio, 'bench/bound.ts', undefined],
  ['end-to-end / ceiling', med.ratio, '≥ 0.30', med.ratio === undefined ? undefined : med.ratio >= 0.3],
  ['end-to-end / that bound', med.e2e_of_bound, '', undefined],
  ['CPU µs per event: worker / Redis (end to end)', med.worker_cpu_us, `Redis ${fmt(med.redis_cpu_us)}`, undefined],
  ['CPU µs per event: the logic alone, all threads', med.logic_cpu_us, '', undefined],
  ['p99 XADD → job enqueued (ms)', med.enqueued_p99_ms, `< 25 at ${args.rate}/s`, med.enqueued_p99_ms === undefined ? undefined : med.enqueued_p99_ms < 25],
  ['p99 XADD → SET received (ms)', med.received_p99_ms, '', undefined],
  [`p99 XADD → job enqueued at ${args['low-rate']}/s (ms)`, med.low_rate_enqueued_p99_ms, '', undefined],
  [`p99 XADD → SET received at ${args['low-rate']}/s (ms)`, med.low_rate_received_p99_ms, '', undefined],
  ['ES256 SETs/s delivered', med.es256_per_s, '≥ 1 000', med.es256_per_s === undefined ? undefined : med.es256_per_s >= 1000],
  ['RS256 SETs/s delivered', med.rs256_per_s, '', undefined],
  ['Redis bytes per user, risk state (max of runs)', bytes, '< 1 024', bytes === undefined ? undefined : bytes < 1024],
  [
    'Redis bytes per active session identity',
    med.session_bytes_per_session_e2e,
    '< 1 024',
    med.session_bytes_per_session_e2e === undefined ? undefined : med.session_bytes_per_session_e2e < 1024,
  ],
  [
    'RSS growth 2× cap → 100 k users (%)',
    med.rss_growth_beyond_2x_cap_pct,
    'flat (< 10 %)',
    med.rss_growth_beyond_2x_cap_pct === undefined ? undefined : med.rss_growth_beyond_2x_cap_pct < 10,
  ],
];
console.log(`\n# summary${runs.length > 1 ? ` (median of ${runs.length} runs)` : ''} — ${seconds} s`);
const w = Math.max(...rows.map((r) => r[0].length));
for (const [name, v, target, ok] of rows) {
  if (v === undefined) continue;
  console.log(`  ${name.padEnd(w)}  ${fmt(v).padStart(10)}  ${target.padEnd(16)} ${ok === undefined ? '' : ok ? 'ok' : 'MISSED'}`);
}
process.exit(0);
