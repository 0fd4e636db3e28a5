/**
 * The local Redis Cluster (scripts/ensure-redis-cluster.sh: six nodes on 127.0.0.1, ports
 * $RISKSTREAM_CLUSTER_PORTS base, default 7000, to base+5): the client a worker would use, the
 * topology, and per-master key and command counts. Shared by the bench (`--cluster`) and the
 * tests (test/helpers/cluster.ts re-exports it); node admin goes over short direct connections.
 */
import { Cluster, Redis, type ClusterOptions } from 'ioredis';

export const CLUSTER_HOST = '127.0.0.1';
const BASE = Number(process.env.RISKSTREAM_CLUSTER_PORTS ?? 7000);
/** The six node ports (three masters and their replicas, in no fixed roles). */
export const CLUSTER_PORTS: readonly number[] = [0, 1, 2, 3, 4, 5].map((i) => BASE + i);
/** Startup nodes for a Cluster client. */
export const CLUSTER_NODES: readonly string[] = CLUSTER_PORTS.slice(0, 3).map((p) => `redis://${CLUSTER_HOST}:${p}`);

/** An ioredis Cluster on the local cluster with the options a worker uses; `opts` override them. */
export function clusterClient(opts: ClusterOptions = {}): Cluster {
  return new Cluster([...CLUSTER_NODES], {
    enableAutoPipelining: true,
    scaleReads: 'master',
    ...opts,
    redisOptions: { maxRetriesPerRequest: null, ...opts.redisOptions },
  });
}

/** Runs `fn` on a short-lived direct connection to one node (no retries: a down node rejects at once). */
export async function withNode<T>(port: number, fn: (node: Redis) => Promise<T>): Promise<T> {
  const node = new Redis({ host: CLUSTER_HOST, port, lazyConnect: true, connectTimeout: 1000, maxRetriesPerRequest: 0, retryStrategy: () => null });
  node.on('error', () => undefined);
  try {
    await node.connect();
    return await fn(node);
  } finally {
    node.disconnect();
  }
}

/** One line of CLUSTER NODES. */
export interface ClusterNodeLine {
  id: string;
  port: number;
  flags: string[];
  /** The master's id for a replica, else '-'. */
  masterId: string;
  connected: boolean;
  /** Slot ranges `[first, last]` (masters only). */
  slots: Array<[number, number]>;
}

/** Parses CLUSTER NODES output. */
export function parseClusterNodes(text: string): ClusterNodeLine[] {
  return text
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const [id = '', addr = '', flags = '', masterId = '', , , , link = '', ...slots] = line.trim().split(' ');
      return {
        id,
        port: Number(/:(\d+)@/.exec(addr)?.[1]),
        flags: flags.split(','),
        masterId,
        connected: link === 'connected',
        slots: slots
          .filter((s) => !s.startsWith('['))
          .map((s): [number, number] => {
            const [a, b = a] = s.split('-').map(Number) as [number, number?];
            return [a, b];
          }),
      };
    });
}

/** CLUSTER NODES as seen by the first node of `ports` that answers. */
export async function clusterNodes(ports: readonly number[] = CLUSTER_PORTS): Promise<ClusterNodeLine[]> {
  let last: unknown;
  for (const port of ports) {
    try {
      return parseClusterNodes(await withNode(port, (n) => n.cluster('NODES') as Promise<string>));
    } catch (e) {
      last = e;
    }
  }
  throw new Error(`no cluster node answers on ${CLUSTER_HOST}:${ports.join(',')}: ${(last as Error | undefined)?.message ?? ''}`);
}

/** A master, its slot ranges and its (non-failed) replicas' ports. */
export interface ClusterMaster {
  port: number;
  id: string;
  slots: Array<[number, number]>;
  replicas: number[];
}

const failed = (n: ClusterNodeLine): boolean => n.flags.some((f) => f === 'fail' || f === 'fail?' || f === 'noaddr');

/** The serving masters (non-failed, owning slots), sorted by port; via `cluster` or a direct node connection. */
export async function mastersOf(cluster?: Cluster): Promise<ClusterMaster[]> {
  return mastersIn(cluster ? parseClusterNodes((await cluster.cluster('NODES')) as string) : await clusterNodes());
}

/** The serving masters in one node's CLUSTER NODES, sorted by port. */
function mastersIn(nodes: ClusterNodeLine[]): ClusterMaster[] {
  return nodes
    .filter((n) => n.flags.includes('master') && !failed(n) && n.slots.length > 0)
    .map((m) => ({
      port: m.port,
      id: m.id,
      slots: m.slots,
      replicas: nodes
        .filter((r) => r.masterId === m.id && !failed(r))
        .map((r) => r.port)
        .sort((a, b) => a - b),
    }))
    .sort((a, b) => a.port - b.port);
}

/** The port of the master serving `key` (CLUSTER KEYSLOT and the slot map). */
export async function nodeOfKey(key: string, cluster?: Cluster): Promise<number> {
  const masters = await mastersOf(cluster);
  const slot = Number(await withNode(masters[0]!.port, (n) => n.cluster('KEYSLOT', key)));
  const owner = masters.find((m) => m.slots.some(([a, b]) => slot >= a && slot <= b));
  if (!owner) throw new Error(`slot ${slot} of ${key} is served by no master`);
  return owner.port;
}

/**
 * Why the cluster is not healthy, or undefined when it is: all six nodes answer with
 * cluster_state:ok and the same view of the topology, three masters own every slot, each with a
 * connected replica whose link is up.
 */
export async function clusterProblem(): Promise<string | undefined> {
  const views = new Map<string, number[]>();
  let masters: ClusterMaster[] = [];
  for (const port of CLUSTER_PORTS) {
    let info: string;
    try {
      info = await withNode(
        port,
        async (n) => `${(await n.cluster('INFO')) as string}\n${await n.info('replication')}\n${(await n.cluster('NODES')) as string}`,
      );
    } catch (e) {
      return `${port} does not answer (${(e as Error).message})`;
    }
    if (!/^cluster_state:ok\r?$/m.test(info)) return `${port}: cluster_state is not ok`;
    if (!/^cluster_slots_ok:16384\r?$/m.test(info)) return `${port}: not every slot is ok`;
    if (/^role:slave\r?$/m.test(info) && !/^master_link_status:up\r?$/m.test(info)) return `${port}: replica link down`;
    masters = mastersIn(
      parseClusterNodes(
        info
          .split('\n')
          .filter((l) => /^[0-9a-f]{40} /.test(l))
          .join('\n'),
      ),
    );
    const view = JSON.stringify(masters);
    views.set(view, [...(views.get(view) ?? []), port]);
  }
  if (views.size > 1) return `the nodes disagree on the topology (${[...views.values()].map((ps) => ps.join(',')).join(' / ')})`;
  if (masters.length !== 3) return `${masters.length} masters serve slots, not 3`;
  const lone = masters.find((m) => m.replicas.length === 0);
  return lone ? `master ${lone.port} has no replica` : undefined;
}

/** Commands of clients' and replicas' housekeeping, not of the workload. */
const HOUSEKEEPING = new Set([
  'info',
  'cluster',
  'config',
  'ping',
  'command',
  'client',
  'hello',
  'select',
  'readonly',
  'readwrite',
  'asking',
  'auth',
  'replconf',
  'psync',
  'sync',
]);

/** Calls per master since the last {@link resetStats}, from INFO commandstats, housekeeping (INFO, CLUSTER, REPLCONF, …) left out. */
export async function commandCountsPerMaster(): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const m of await mastersOf()) {
    const stats = await withNode(m.port, (n) => n.info('commandstats'));
    let calls = 0;
    for (const [, cmd, n] of stats.matchAll(/^cmdstat_([^:]+):calls=(\d+)/gm)) if (!HOUSEKEEPING.has(cmd!.split('|')[0]!)) calls += Number(n);
    out.set(m.port, calls);
  }
  return out;
}

/** CONFIG RESETSTAT on every node that answers (zeroes INFO commandstats). */
export async function resetStats(): Promise<void> {
  for (const port of CLUSTER_PORTS) await withNode(port, (n) => n.config('RESETSTAT')).catch(() => undefined);
}

/** Each master's share (0..1) of the calls since the last {@link resetStats}. */
export async function commandShares(): Promise<Array<{ port: number; calls: number; share: number }>> {
  const counts = await commandCountsPerMaster();
  const total = [...counts.values()].reduce((a, b) => a + b, 0);
  return [...counts].map(([port, calls]) => ({ port, calls, share: total ? calls / total : 0 }));
}

const glob = (s: string): string => s.replace(/[*?[\]\\]/g, '\\$&');
/** MATCH patterns for a prefix's keys: `p:*`, `{p}:*` and `{p:*` (hash-tagged forms). */
export function prefixPatterns(prefix: string): string[] {
  const p = glob(prefix);
  return [`${p}:*`, `{${p}}:*`, `{${p}:*`];
}

/** Every key of `prefix` on one node (SCAN). */
async function keysOn(node: Redis, prefix: string): Promise<string[]> {
  const keys = new Set<string>();
  for (const pattern of prefixPatterns(prefix)) {
    let cursor = '0';
    do {
      const [next, batch] = await node.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
      cursor = next;
      for (const k of batch) keys.add(k);
    } while (cursor !== '0');
  }
  return [...keys];
}

/** How many keys of `prefix` each master holds. */
export async function keyCountsPerMaster(prefix: string): Promise<Map<number, number>> {
  const out = new Map<number, number>();
  for (const m of await mastersOf()) out.set(m.port, (await withNode(m.port, (n) => keysOn(n, prefix))).length);
  return out;
}

/** Deletes every key of `prefix` on every master: SCAN each, one UNLINK per key (keys span slots). */
export async function cleanPrefix(cluster: Cluster | undefined, prefix: string): Promise<number> {
  let deleted = 0;
  for (const m of await mastersOf(cluster)) {
    deleted += await withNode(m.port, async (n) => {
      const keys = await keysOn(n, prefix);
      const p = n.pipeline();
      for (const k of keys) p.unlink(k);
      if (keys.length) await p.exec();
      return keys.length;
    });
  }
  return deleted;
}
