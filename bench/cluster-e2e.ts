/**
 * Issue 17: the end-to-end bench on the local Redis Cluster (`npm run bench -- --cluster`). The
 * same workload shape as bench/end-to-end.ts, pre-loaded through a cluster client; the raw read
 * ceiling measured on the cluster over the same entries; then 1 or more real worker processes
 * (`redis: {cluster: CLUSTER_NODES, prefix}`, identities `bench-<i>`) started and left to share
 * the 64 partitions before the clock starts. Per run: events/s, the ratio to that ceiling, each
 * worker's share of the events and partitions, CPU per event of the workers and of each Redis
 * node (INFO cpu before/after), and each master's share of the commands (INFO commandstats after
 * CONFIG RESETSTAT).
 */
import type { Cluster, Redis } from 'ioredis';
import { ROUTER_RESOURCE } from '../src/engine/router.js';
import { Keys } from '../src/keys.js';
import { pipeline } from '../src/redis/client.js';
import { purgePrefix } from '../src/redis/purge.js';
import { ceiling, type CeilingResult } from './ceiling.js';
import { CLUSTER_NODES, CLUSTER_PORTS, commandShares, keyCountsPerMaster, mastersOf, nodeOfKey, resetStats, withNode } from './cluster.js';
import type { BenchEvent } from './data.js';
import { CountingReceiver, WorkerChild, cpuOf, newPrefix, preload, report, round, sleep, streamsOf, writeBenchConfig } from './lib.js';

const PARTITIONS = 64;

export interface ClusterE2EResult {
  bench: 'cluster_e2e';
  workers: number;
  events: number;
  users: number;
  seconds: number;
  events_per_s: number;
  ceiling_per_s: number;
  ratio_to_ceiling: number;
  /** Events each worker applied, and partitions it owned, in the timed window. */
  events_per_worker: number[];
  partitions_per_worker: number[];
  /** CPU µs per event: all workers together; each worker; the masters together; the replicas together. */
  worker_cpu_us_per_event: number;
  worker_cpu_us_per_event_each: number[];
  /** Which worker (index) held the router lease, and — with several workers — the router's CPU µs per event estimated from the difference: the router's worker's CPU less its events at the others' owner cost per event. */
  router_worker: number;
  router_cpu_us_per_event?: number;
  masters_cpu_us_per_event: number;
  replicas_cpu_us_per_event: number;
  /** Per master (port): CPU µs per event, share of the commands, keys of the prefix after the run. */
  masters: Array<{ port: number; cpu_us_per_event: number; calls: number; share: number; keys: number }>;
  max_share: number;
}

/** CPU seconds each node (all six ports) has used since it started. */
async function cpuPerNode(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const port of CLUSTER_PORTS) out.set(port, cpuOf(await withNode(port, (n) => n.info('cpu'))));
  return out;
}

/** Owner (worker id) of each partition lease, or '' when free. */
async function owners(cluster: Cluster, prefix: string): Promise<string[]> {
  const keys = new Keys(prefix, PARTITIONS);
  const p = pipeline(cluster);
  for (let i = 0; i < PARTITIONS; i++) p.get(keys.engineLease(`p${i}`));
  return ((await p.exec()) ?? []).map(([, v]) => (typeof v === 'string' ? v.split('#')[0]! : ''));
}

/** Waits until every partition is owned by one of `ids`, each owns some, and the assignment held still for 2 s. */
async function settled(cluster: Cluster, prefix: string, ids: string[], timeoutMs = 60_000): Promise<number[]> {
  const until = Date.now() + timeoutMs;
  let last = '';
  let since = Date.now();
  for (;;) {
    const o = await owners(cluster, prefix);
    const counts = ids.map((id) => o.filter((x) => x === id).length);
    const key = o.join(',');
    if (key !== last) [last, since] = [key, Date.now()];
    if (counts.every((c) => c > 0) && counts.reduce((a, b) => a + b, 0) === PARTITIONS && Date.now() - since >= 2000) return counts;
    if (Date.now() > until) throw new Error(`partitions not settled over ${ids.join(', ')} in ${timeoutMs} ms (owned: ${counts.join(' / ')})`);
    await sleep(200);
  }
}

/** Resolves with the time of the batch that brings the workers' applied entries to `n` in all. */
function waitTotal(ws: WorkerChild[], n: number, timeoutMs: number): Promise<number> {
  const total = (): number => ws.reduce((a, w) => a + w.read, 0);
  return new Promise((resolve, reject) => {
    const t = setTimeout(
      () => reject(new Error(`workers read ${total()} of ${n} entries in ${timeoutMs} ms\n${ws.map((w) => w.output().slice(-2000)).join('\n')}`)),
      timeoutMs,
    );
    for (const w of ws)
      w.onBatch((b) => {
        if (total() < n) return;
        clearTimeout(t);
        resolve(b.at);
      });
  });
}

/**
 * One cluster run on a fresh prefix: pre-load `events`, measure the ceiling over them, then time
 * `workers` worker processes applying them all. The prefix is purged afterwards.
 */
export async function clusterEndToEnd(
  cluster: Cluster,
  events: readonly BenchEvent[],
  users: number,
  workers: number,
): Promise<ClusterE2EResult & { ceiling: CeilingResult }> {
  const n = events.length;
  const prefix = newPrefix(`cl${workers}w`);
  const s = streamsOf(prefix);
  const receiver = new CountingReceiver(false);
  const ws: WorkerChild[] = [];
  let remove = (): void => undefined;
  try {
    const loaded = await preload(cluster, prefix, events);
    console.log(`# cluster, ${workers} worker(s): ${n.toLocaleString('en-US')} events pre-loaded in ${round(loaded.ms / 1000, 2)} s`);
    const ceil = await ceiling(cluster, prefix, n);
    for (const st of [s.login, s.activity]) await cluster.xgroup('CREATE', st, s.group, '$');
    await receiver.listen();
    const cfg = await writeBenchConfig(prefix, {
      redis: { cluster: [...CLUSTER_NODES], prefix },
      receivers: [{ name: 'bench', kind: 'ssf', endpoint: `${receiver.url}/e2e`, audience: 'https://receiver.bench', events: ['risk-level-change'] }],
    });
    remove = cfg.remove;
    const ids = Array.from({ length: workers }, (_, i) => `bench-${i + 1}`);
    // REDIS_URL set would mean one node (it wins over redis.cluster): cleared for the workers.
    for (const id of ids) ws.push(await WorkerChild.start(cfg.dir, { env: { REDIS_URL: '', RISKSTREAM_WORKER_ID: id } }));
    const parts = await settled(cluster, prefix, ids);
    await sleep(500);
    const wcpu0 = await Promise.all(ws.map((w) => w.cpu()));
    const ncpu0 = await cpuPerNode();
    await resetStats();
    // XGROUP names no key for ioredis (a Cluster client routes it by its subcommand's slot): sent to each stream's master.
    const masterOf = async (key: string): Promise<Redis> => {
      const port = await nodeOfKey(key, cluster);
      const node = cluster.nodes('master').find((m) => m.options.port === port);
      if (!node) throw new Error(`no connection to master ${port} of ${key}`);
      return node;
    };
    const [ln, an] = await Promise.all([masterOf(s.login), masterOf(s.activity)]);
    const t0 = Date.now();
    await Promise.all([ln.xgroup('SETID', s.login, s.group, '0'), an.xgroup('SETID', s.activity, s.group, '0')]);
    await cluster.xadd(s.activity, '*', 'event', JSON.stringify({ type: 'access', user: 'kick@bench.example', time: Date.now(), app: 'mail' }));
    const end = await waitTotal(ws, n + 1, 300_000);
    const seconds = (end - t0) / 1000;
    const each = (await Promise.all(ws.map((w) => w.cpu()))).map((c, i) => c - wcpu0[i]!);
    const wcpu = each.reduce((a, c) => a + c, 0);
    const routerId = ((await cluster.get(new Keys(prefix).engineLease(ROUTER_RESOURCE))) ?? '').split('#')[0];
    const ri = ids.indexOf(routerId ?? '');
    const others = ws.map((w, i) => ({ cpu: each[i]!, read: w.read })).filter((_, i) => i !== ri);
    const ownerPerEvent =
      others.reduce((a, o) => a + o.cpu, 0) /
      Math.max(
        1,
        others.reduce((a, o) => a + o.read, 0),
      );
    const routerCpu = ri >= 0 && others.length ? each[ri]! - ownerPerEvent * ws[ri]!.read : undefined;
    const ncpu1 = await cpuPerNode();
    const shares = await commandShares();
    const masterPorts = new Set((await mastersOf()).map((m) => m.port));
    const us = (sec: number): number => round((sec * 1e6) / n, 1);
    const delta = (port: number): number => (ncpu1.get(port) ?? 0) - (ncpu0.get(port) ?? 0);
    const keyCounts = await keyCountsPerMaster(prefix);
    const replicaCpu = CLUSTER_PORTS.filter((p) => !masterPorts.has(p)).reduce((a, p) => a + delta(p), 0);
    const masters = shares.map((m) => ({
      port: m.port,
      cpu_us_per_event: us(delta(m.port)),
      calls: m.calls,
      share: round(m.share, 3),
      keys: keyCounts.get(m.port) ?? 0,
    }));
    const r: ClusterE2EResult = {
      bench: 'cluster_e2e',
      workers,
      events: n,
      users,
      seconds: round(seconds, 3),
      events_per_s: round(n / seconds),
      ceiling_per_s: ceil.events_per_s,
      ratio_to_ceiling: round(n / seconds / ceil.events_per_s, 3),
      events_per_worker: ws.map((w) => w.read),
      partitions_per_worker: parts,
      worker_cpu_us_per_event: us(wcpu),
      worker_cpu_us_per_event_each: each.map(us),
      router_worker: ri,
      ...(routerCpu === undefined ? {} : { router_cpu_us_per_event: us(routerCpu) }),
      masters_cpu_us_per_event: round(
        masters.reduce((a, m) => a + m.cpu_us_per_event, 0),
        1,
      ),
      replicas_cpu_us_per_event: us(replicaCpu),
      masters,
      max_share: Math.max(...masters.map((m) => m.share)),
    };
    report(r, [
      ['workers (partitions each)', `${workers} (${parts.join(' / ')})`],
      ['events applied per worker', r.events_per_worker.join(' / ')],
      ['seconds', r.seconds],
      ['CPU µs per event: workers', r.worker_cpu_us_per_event, `all together (each: ${r.worker_cpu_us_per_event_each.join(' / ')}), SET delivery included`],
      ['router ran on', ids[ri] ?? '?', r.router_cpu_us_per_event === undefined ? '' : `its CPU ≈ ${r.router_cpu_us_per_event} µs per event (the difference)`],
      ['CPU µs per event: masters / replicas', `${r.masters_cpu_us_per_event} / ${r.replicas_cpu_us_per_event}`],
      ...masters.map((m): [string, unknown, string] => [
        `  master ${m.port}`,
        `${round(m.share * 100, 1)} %`,
        `of ${shares.reduce((a, x) => a + x.calls, 0).toLocaleString('en-US')} commands; ${m.cpu_us_per_event} µs CPU per event; ${m.keys} keys`,
      ]),
      ['events/s', r.events_per_s, 'XADD → applied and committed, on the cluster'],
      ['ceiling on the cluster (events/s)', r.ceiling_per_s, 'raw XREADGROUP + JSON.parse + XACK, same entries'],
      ['ratio to ceiling', r.ratio_to_ceiling],
      ['largest master share', `${round(r.max_share * 100, 1)} %`, 'issue 17: no master above 50 % with 3 masters'],
    ]);
    return { ...r, ceiling: ceil };
  } finally {
    for (const w of ws) await w.stop();
    await receiver.close();
    remove();
    await purgePrefix(cluster, prefix).catch(() => undefined);
  }
}
