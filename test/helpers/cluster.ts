/**
 * The local Redis Cluster for tests (scripts/ensure-redis-cluster.sh; `npm test` and CI start
 * it): the client, topology and counts (from bench/cluster.ts), a guard, and failover helpers
 * that leave the cluster healthy (three masters, each with a replica) for the next test.
 * Test files that fail nodes over share the cluster: they run in the `cluster` vitest project,
 * one file at a time.
 */
import { execFile } from 'node:child_process';
import { resolve } from 'node:path';
import { promisify } from 'node:util';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll } from 'vitest';
import { clusterClient, clusterNodes, clusterProblem, CLUSTER_PORTS, mastersOf, withNode } from '../../bench/cluster.js';
import { purgePrefix } from '../../src/redis/purge.js';
import { waitFor } from './redis.js';

export {
  CLUSTER_HOST,
  CLUSTER_NODES,
  CLUSTER_PORTS,
  cleanPrefix,
  clusterNodes,
  clusterClient,
  clusterProblem,
  commandCountsPerMaster,
  commandShares,
  keyCountsPerMaster,
  mastersOf,
  nodeOfKey,
  resetStats,
  withNode,
} from '../../bench/cluster.js';

const ENSURE = resolve(import.meta.dirname, '../../scripts/ensure-redis-cluster.sh');

/** True when the local cluster is healthy (see {@link clusterProblem}). */
export async function clusterUp(): Promise<boolean> {
  return (await clusterProblem().catch((e: Error) => e.message)) === undefined;
}

/**
 * Whether a cluster test file should run: true when the cluster is up; when it is down, throws
 * under CI (`CI`) or `RISKSTREAM_REQUIRE_CLUSTER=1`, else warns and returns false (skip).
 */
export async function requireCluster(file: string): Promise<boolean> {
  const problem = await clusterProblem().catch((e: Error) => e.message);
  if (problem === undefined) return true;
  const why = `${file}: the local Redis Cluster is not healthy (${problem}); run scripts/ensure-redis-cluster.sh`;
  if (process.env.CI || process.env.RISKSTREAM_REQUIRE_CLUSTER === '1') throw new Error(why);
  console.warn(`${why} — skipping`);
  return false;
}

/**
 * The cluster client of a describe block's tests, in `.cluster`: opened before them (not while the
 * block is skipped for a cluster that is down); after them every key under `prefix` purged and the
 * client closed.
 */
export function clusterForTests(prefix: string): { cluster: Cluster } {
  const t = {} as { cluster: Cluster };
  beforeAll(() => {
    t.cluster = clusterClient();
  });
  afterAll(async () => {
    if (!t.cluster) return;
    await purgePrefix(t.cluster, prefix);
    t.cluster.disconnect();
  });
  return t;
}

/** Waits until the cluster is healthy: every node up and ok, three masters each with a replica. */
export async function waitHealthy(timeout = 20_000): Promise<void> {
  let last: string | undefined;
  await waitFor(
    async () => {
      last = await clusterProblem().catch((e: Error) => e.message);
      return last === undefined;
    },
    { timeout, interval: 100, what: 'a healthy cluster' },
  ).catch((e: Error) => {
    throw new Error(`${e.message} (last: ${last})`);
  });
}

/** The port of the (non-failed) replica of the master at `port`. */
async function replicaOf(port: number): Promise<number> {
  const master = (await mastersOf()).find((m) => m.port === port);
  if (!master) throw new Error(`${port} is not a serving master`);
  const replica = master.replicas[0];
  if (replica === undefined) throw new Error(`master ${port} has no replica`);
  return replica;
}

/** True when `port` sees itself as a master serving slots. */
async function servesAsMaster(port: number): Promise<boolean> {
  const me = (await clusterNodes([port])).find((n) => n.flags.includes('myself'));
  return !!me && me.flags.includes('master') && me.slots.length > 0;
}

/**
 * CLUSTER FAILOVER on the replica of the master at `port`; waits until that replica is master
 * and the cluster is healthy again (the old master its replica). Returns the new master's port.
 */
export async function failover(port: number): Promise<number> {
  const replica = await replicaOf(port);
  await withNode(replica, (n) => n.cluster('FAILOVER'));
  await waitFor(() => servesAsMaster(replica), { timeout: 15_000, interval: 100, what: `${replica} to take over from ${port}` });
  await waitHealthy();
  return replica;
}

/**
 * `kill -9` the master at `port` (its pid from INFO server), waits until its replica is promoted
 * and every live node says cluster_state:ok, runs `whileDown(promotedPort)` if given, then
 * restarts the killed node from its nodes.conf (scripts/ensure-redis-cluster.sh, same port and
 * dir) so it rejoins as a replica, and waits until the cluster is healthy. Returns the promoted port.
 */
export async function killMaster(port: number, whileDown?: (promoted: number) => Promise<void>): Promise<number> {
  const replica = await replicaOf(port);
  const pid = Number(/^process_id:(\d+)/m.exec(await withNode(port, (n) => n.info('server')))?.[1]);
  if (!pid) throw new Error(`no process_id from ${port}`);
  process.kill(pid, 'SIGKILL');
  const live = CLUSTER_PORTS.filter((p) => p !== port);
  await waitFor(
    async () => {
      if (!(await servesAsMaster(replica))) return false;
      for (const p of live) if (!/^cluster_state:ok\r?$/m.test((await withNode(p, (n) => n.cluster('INFO'))) as string)) return false;
      return true;
    },
    { timeout: 20_000, interval: 100, what: `${replica} to be promoted after ${port} was killed` },
  );
  try {
    if (whileDown) await whileDown(replica);
  } finally {
    await promisify(execFile)('bash', [ENSURE], { timeout: 60_000 });
    await waitHealthy();
  }
  return replica;
}
