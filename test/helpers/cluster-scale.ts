/**
 * Scaling the local (private) Redis Cluster out and in the way an operator does: an extra empty
 * redis-server node started on a free loopback port, joined as a master with
 * `redis-cli --cluster add-node`, slots moved onto it and off it again, then removed with
 * `redis-cli --cluster del-node` (CLUSTER FORGET on every other node, then SHUTDOWN of the node).
 */
import { execFile } from 'node:child_process';
import { rmSync } from 'node:fs';
import { promisify } from 'node:util';
import calculateSlot from 'cluster-key-slot';
import { resolve } from 'node:path';
import { CLUSTER_HOST, CLUSTER_PORTS, clusterNodes, clusterProblem, mastersOf, withNode } from './cluster.js';
import { waitFor } from './redis.js';

const run = promisify(execFile);
const ENSURE = resolve(import.meta.dirname, '../../scripts/ensure-redis-cluster.sh');

/** The data dir of an extra node (beside scripts/ensure-redis-cluster.sh's, one per port). */
const dirOf = (port: number): string => `/tmp/riskstream-cluster-extra-${port}`;

/** True when something answers PING on `port`. */
async function answers(port: number): Promise<boolean> {
  return withNode(port, (n) => n.ping()).then(
    () => true,
    () => false,
  );
}

/**
 * Starts an empty cluster-enabled redis-server on `port` (no persistence, node timeout 2 s, like
 * scripts/ensure-redis-cluster.sh's nodes). Refuses a port (or its bus port) already answering.
 */
export async function startExtraNode(port: number): Promise<void> {
  if (await answers(port)) throw new Error(`port ${port} already answers: not free for an extra node`);
  const dir = dirOf(port);
  rmSync(dir, { recursive: true, force: true });
  await run('mkdir', ['-p', dir]);
  await run('redis-server', [
    '--bind',
    CLUSTER_HOST,
    '--port',
    String(port),
    '--dir',
    dir,
    '--logfile',
    `${dir}/redis.log`,
    '--pidfile',
    `${dir}/redis.pid`,
    '--cluster-enabled',
    'yes',
    '--cluster-config-file',
    `${dir}/nodes.conf`,
    '--cluster-node-timeout',
    '2000',
    '--save',
    '',
    '--appendonly',
    'no',
    '--repl-diskless-sync-delay',
    '0',
    '--daemonize',
    'yes',
  ]);
  await waitFor(() => answers(port), { timeout: 5000, interval: 50, what: `redis-server on ${port}` });
}

/**
 * After a file that adds nodes: stops the extra node on `port` if it still runs, and if the
 * cluster is not healthy then (a test that failed half-way: the node still known, a slot left
 * migrating), scripts/ensure-redis-cluster.sh recreates it (empty) for the next file.
 */
export async function restoreCluster(port: number): Promise<void> {
  await stopExtraNode(port);
  if ((await clusterProblem().catch((e: Error) => e.message)) === undefined && (await clusterNodes()).length === CLUSTER_PORTS.length) return;
  await run('bash', [ENSURE], { timeout: 120_000 });
}

/** Stops an extra node if it still runs (by the pid it reports) and wipes its dir. */
export async function stopExtraNode(port: number): Promise<void> {
  const pid = await withNode(port, async (n) => Number(/^process_id:(\d+)/m.exec(await n.info('server'))?.[1])).catch(() => 0);
  if (pid) {
    process.kill(pid, 'SIGKILL');
    await waitFor(() => !isAlive(pid), { timeout: 5000, interval: 50, what: `redis-server ${pid} gone` });
  }
  rmSync(dirOf(port), { recursive: true, force: true });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Waits until every node of the cluster (the six and `extra`) knows exactly `known` nodes, none failed. */
async function waitKnown(known: number, extra: readonly number[]): Promise<void> {
  let last = '';
  await waitFor(
    async () => {
      for (const p of [...CLUSTER_PORTS, ...extra]) {
        const nodes = await clusterNodes([p]).catch(() => []);
        const bad = nodes.filter((n) => n.flags.some((f) => f.startsWith('fail') || f === 'handshake' || f === 'noaddr'));
        if (nodes.length !== known || bad.length) {
          last = `${p} knows ${nodes.length} nodes${bad.length ? `, ${bad.length} failed or in handshake` : ''}`;
          return false;
        }
      }
      return true;
    },
    { timeout: 20_000, interval: 100, what: `every node knowing ${known} nodes` },
  ).catch((e: Error) => {
    throw new Error(`${e.message} (last: ${last})`);
  });
}

/**
 * `redis-cli --cluster add-node` of the node on `port` as an empty master; waits until all nodes
 * know it and it says cluster_state:ok (until then it has not learnt every slot's owner and
 * refuses what MIGRATE sends it: `CLUSTERDOWN The cluster is down`). Returns its id.
 */
export async function addMaster(port: number): Promise<string> {
  const before = (await clusterNodes()).length;
  await run('redis-cli', ['--cluster', 'add-node', `${CLUSTER_HOST}:${port}`, `${CLUSTER_HOST}:${CLUSTER_PORTS[0]}`], { timeout: 30_000 });
  await waitKnown(before + 1, [port]);
  await waitFor(async () => /^cluster_state:ok\r?$/m.test((await withNode(port, (n) => n.cluster('INFO'))) as string), {
    timeout: 20_000,
    interval: 100,
    what: `${port}: cluster_state:ok`,
  });
  return (await withNode(port, (n) => n.cluster('MYID'))) as string;
}

/**
 * `redis-cli --cluster del-node` of the (emptied) node on `port`: every other node forgets it and
 * it is shut down. Waits until the remaining nodes all know one node less.
 */
export async function removeNode(port: number): Promise<void> {
  const id = (await withNode(port, (n) => n.cluster('MYID'))) as string;
  const before = (await clusterNodes()).length;
  const seed = (await mastersOf()).find((m) => m.port !== port)!.port;
  await run('redis-cli', ['--cluster', 'del-node', `${CLUSTER_HOST}:${seed}`, id], { timeout: 30_000 });
  await waitKnown(before - 1, []);
}

/** The slots holding any key, with their owner's port (SCAN on every serving master). */
export async function slotsWithKeys(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const m of await mastersOf()) {
    await withNode(m.port, async (n) => {
      let cursor = '0';
      do {
        const [next, keys] = await n.scan(cursor, 'COUNT', 1000);
        cursor = next;
        for (const k of keys) out.set(calculateSlot(k), m.port);
      } while (cursor !== '0');
    });
  }
  return out;
}
