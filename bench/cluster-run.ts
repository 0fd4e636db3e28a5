/**
 * `npm run bench -- --cluster` (issue 17): per run, the end-to-end bench on one Redis node at the
 * same size (the reference: bench/end-to-end.ts), then on the local 3-master Redis Cluster with
 * each worker count (bench/cluster-e2e.ts); a summary of the medians. Shows balance over the
 * masters and the cost per event, not speed: on the 2-core machine everything shares two cores.
 */
import { clusterEndToEnd, type ClusterE2EResult } from './cluster-e2e.js';
import { clusterClient, clusterProblem } from './cluster.js';
import { ceiling } from './ceiling.js';
import { generate } from './data.js';
import { endToEnd } from './end-to-end.js';
import { fmt, median, preload, round, withPrefix } from './lib.js';

export interface ClusterBenchOptions {
  runs: number;
  events: number;
  users: number;
  /** Worker counts, run in this order. */
  workers: number[];
}

/** The figures of one configuration in one run. */
interface Figures {
  events_per_s: number;
  ceiling_per_s: number;
  ratio: number;
  worker_us: number;
  redis_us: number;
  max_share?: number;
  router_us?: number;
  shares?: string;
}

async function nodeReference(events: ReturnType<typeof generate>, users: number): Promise<Figures> {
  return withPrefix('tp', async (prefix, redis) => {
    await preload(redis, prefix, events);
    const c = await ceiling(redis, prefix, events.length);
    const e = await endToEnd(redis, prefix, events.length, users, c.events_per_s);
    return {
      events_per_s: e.events_per_s,
      ceiling_per_s: c.events_per_s,
      ratio: e.ratio_to_ceiling,
      worker_us: e.worker_cpu_s_per_100k * 10,
      redis_us: e.redis_cpu_s_per_100k * 10,
    };
  });
}

const figures = (r: ClusterE2EResult): Figures => ({
  events_per_s: r.events_per_s,
  ceiling_per_s: r.ceiling_per_s,
  ratio: r.ratio_to_ceiling,
  worker_us: r.worker_cpu_us_per_event,
  redis_us: r.masters_cpu_us_per_event,
  max_share: r.max_share,
  ...(r.router_cpu_us_per_event === undefined ? {} : { router_us: r.router_cpu_us_per_event }),
  shares: r.masters.map((m) => `${m.port} ${round(m.share * 100, 1)} %`).join(', '),
});

/** Runs the cluster bench `opts.runs` times and prints each run's JSON line and a summary of medians. */
export async function clusterBench(opts: ClusterBenchOptions): Promise<void> {
  const problem = await clusterProblem().catch((e: Error) => e.message);
  if (problem) throw new Error(`--cluster: the local Redis Cluster is not healthy (${problem}); run scripts/ensure-redis-cluster.sh`);
  const started = Date.now();
  const events = generate({ events: opts.events, users: opts.users, seed: 7 });
  const configs = ['one node, 1 worker', ...opts.workers.map((w) => `cluster, ${w} worker${w > 1 ? 's' : ''}`)];
  const runs: Figures[][] = [];
  const cluster = clusterClient();
  try {
    for (let i = 1; i <= opts.runs; i++) {
      if (opts.runs > 1) console.log(`\n# run ${i} of ${opts.runs}`);
      const row = [await nodeReference(events, opts.users)];
      for (const w of opts.workers) row.push(figures(await clusterEndToEnd(cluster, events, opts.users, w)));
      console.log(JSON.stringify({ bench: 'cluster_run', run: i, ...Object.fromEntries(configs.map((c, j) => [c, row[j]])) }));
      runs.push(row);
    }
  } finally {
    cluster.disconnect();
  }
  const seconds = round((Date.now() - started) / 1000, 1);
  const med = (j: number, k: keyof Figures): number | undefined => {
    const v = runs.map((r) => r[j]![k]).filter((x): x is number => typeof x === 'number');
    return v.length ? median(v) : undefined;
  };
  console.log(
    `\n# cluster summary${runs.length > 1 ? ` (median of ${runs.length} runs)` : ''} — ${opts.events.toLocaleString('en-US')} events, ${opts.users.toLocaleString('en-US')} users — ${seconds} s`,
  );
  console.log(
    `  ${'configuration'.padEnd(20)} ${'events/s'.padStart(9)} ${'ceiling'.padStart(9)} ${'ratio'.padStart(6)} ${'worker µs/ev'.padStart(13)} ${'Redis µs/ev'.padStart(12)} ${'router µs/ev'.padStart(13)}  largest master share`,
  );
  configs.forEach((c, j) => {
    const share = med(j, 'max_share');
    const cells = [med(j, 'events_per_s'), med(j, 'ceiling_per_s'), med(j, 'ratio'), med(j, 'worker_us'), med(j, 'redis_us'), med(j, 'router_us')].map((v) =>
      fmt(v === undefined ? '' : round(v, 3)),
    );
    const verdict = share === undefined ? '' : `${round(share * 100, 1)} % ${share <= 0.5 ? 'ok (≤ 50 %)' : 'ABOVE 50 %'}`;
    console.log(
      `  ${c.padEnd(20)} ${cells[0]!.padStart(9)} ${cells[1]!.padStart(9)} ${cells[2]!.padStart(6)} ${cells[3]!.padStart(13)} ${cells[4]!.padStart(12)} ${cells[5]!.padStart(13)}  ${verdict}`,
    );
  });
  console.log(JSON.stringify({ bench: 'cluster_summary', runs: runs.length, seconds, configs, last_run_shares: runs.at(-1)?.map((f) => f.shares ?? '') }));
}
