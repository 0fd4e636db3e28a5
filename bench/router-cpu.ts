/**
 * Diagnostic (not part of `npm run bench`): the router's CPU per event in this process, whole
 * steps against the local Redis — read (fenced script), decode, enrich (password_spray's per-IP
 * edge, captured sessions), partition writes and acks — as the router thread runs them (no
 * in-process handoff). Each round pre-loads the same events under a fresh prefix (not timed),
 * then routes them all with the router loop (`runRouterLoop`, as the router thread runs it), `--count` entries per stream per read (default 200:
 * the small steps of a worker offered ≈ 5 k events/s; 2000 is the configured batch size). Prints
 * the median, and the minimum, process CPU µs per event over the rounds after a warm-up one (wall time too).
 * `--profile f.cpuprofile`: a CPU profile of the routing only (the counted rounds; summarise it with
 * bench/profile.ts).
 *   node --import tsx bench/router-cpu.ts [events] [--rounds n] [--count n] [--profile file]
 */
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config/load.js';
import { Keys } from '../src/keys.js';
import { createLogger } from '../src/obs/logger.js';
import { runRouterLoop } from '../src/engine/router-loop.js';
import { buildOwnRouter } from '../src/runtime/router-build.js';
import { generate } from './data.js';
import { preload, redisClient, round, withPrefix, writeBenchConfig } from './lib.js';

const { values: args, positionals } = parseArgs({
  options: { rounds: { type: 'string', default: '5' }, count: { type: 'string', default: '200' }, profile: { type: 'string' } },
  allowPositionals: true,
});
const N = Number(positionals[0] ?? 30_000);
const raw = generate({ events: N, users: 10_000, seed: 7 });
const inspector = new Session();
let profiling = false;
const profiles: unknown[] = [];
const cpu = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};
const sys = (): number => process.cpuUsage().system;

/** µs per event of one round: process CPU (user + system), system alone, wall. */
interface Round {
  cpu: number;
  sys: number;
  wall: number;
  routed: number;
}

/** One round: µs of CPU (and wall) per event, routing every pre-loaded event. */
async function routeAll(): Promise<Round> {
  return withPrefix('router-cpu', async (prefix, redis) => {
    const cfg = await writeBenchConfig(prefix, { streams: { batch_size: Number(args.count) } });
    const waker = redisClient();
    try {
      const config = loadConfig(`${cfg.dir}/riskstream.yaml`);
      const keys = new Keys(config.prefix, config.raw.engine.partitions);
      await preload(redis, prefix, raw);
      const logger = createLogger('error');
      const { router } = await buildOwnRouter({ config: () => config, redis, keys, logger });
      await router.ensureGroups();
      router.start('bench-token');
      let routed = 0;
      if (profiling) await inspector.post('Profiler.start');
      const c0 = cpu();
      const s0 = sys();
      const t0 = performance.now();
      // The router thread's loop (one step ahead, waits when caught up), until all are routed.
      await runRouterLoop({
        router,
        redis,
        waker,
        keys,
        logger,
        settings: () => ({ blockMs: 100, maxRouted: Number.MAX_SAFE_INTEGER }),
        stopping: () => routed >= N,
        onReport: (r) => void (routed += r.routed + r.deadLettered),
        onError: (err) => {
          throw err;
        },
      });
      const done = { cpu: (cpu() - c0) / N, sys: (sys() - s0) / N, wall: ((performance.now() - t0) * 1000) / N, routed };
      if (profiling) profiles.push((await inspector.post('Profiler.stop')).profile);
      return done;
    } finally {
      cfg.remove();
      waker.disconnect();
    }
  });
}

await routeAll(); // warm-up (compiles the hot paths), not counted
if (args.profile) {
  inspector.connect();
  await inspector.post('Profiler.setSamplingInterval', { interval: 200 });
  await inspector.post('Profiler.enable');
  profiling = true;
}
const runs: Round[] = [];
for (let i = 0; i < Number(args.rounds); i++) runs.push(await routeAll());
// The last round's profile (bench/profile.ts reads one profile).
if (args.profile && profiles.length) writeFileSync(args.profile, JSON.stringify(profiles[profiles.length - 1]));
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
console.log(
  JSON.stringify({
    bench: 'router-cpu',
    events: N,
    count: Number(args.count),
    routed: runs[0]!.routed,
    cpu_us_per_event: round(median(runs.map((r) => r.cpu)), 2),
    min_cpu_us_per_event: round(Math.min(...runs.map((r) => r.cpu)), 2),
    sys_us_per_event: round(median(runs.map((r) => r.sys)), 2),
    wall_us_per_event: round(median(runs.map((r) => r.wall)), 2),
    rounds: runs.map((r) => round(r.cpu, 1)),
  }),
);
process.exit(0);
