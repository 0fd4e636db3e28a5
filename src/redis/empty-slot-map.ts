/**
 * A Redis Cluster client's guard against an empty slot map. ioredis re-reads the slot map
 * (CLUSTER SLOTS, on MOVED; no periodic refresh by default) from a random node it knows — replicas included — and
 * replaces its node connections with the nodes the answer names. A node that answers with no slot
 * at all (one `redis-cli --cluster del-node` has just reset with CLUSTER RESET SOFT before shutting
 * it down; an emptied master turns into a replica first, so clients know it) made it close every
 * connection: the client went through close and reconnect, commands in flight failed with
 * `Connection is closed.`, and `/readyz` answered 503. Measured in test/cluster/scale-out-in.test.ts.
 */
import type { Cluster } from 'ioredis';

/** The part of ioredis' (internal) connection pool the guard wraps. */
interface Pool {
  reset(nodes: unknown[]): void;
}

/**
 * Makes `cluster` (and every client `duplicate()` makes of it, e.g. BullMQ's) ignore a slot map
 * naming no node while it is ready: its connections and slot table stay as they were until a node
 * answers with the cluster's real map. An empty reset while connecting or disconnecting (ioredis'
 * own, when no startup node answers or on `disconnect()`) goes through. Returns `cluster`.
 */
export function keepNodesOnEmptySlotMap(cluster: Cluster): Cluster {
  const pool = (cluster as unknown as { connectionPool?: Pool }).connectionPool;
  if (!pool || typeof pool.reset !== 'function') return cluster;
  const reset = pool.reset.bind(pool);
  pool.reset = (nodes) => {
    if (nodes.length === 0 && cluster.status === 'ready') return;
    reset(nodes);
  };
  const duplicate = cluster.duplicate.bind(cluster);
  cluster.duplicate = (...args: Parameters<Cluster['duplicate']>) => keepNodesOnEmptySlotMap(duplicate(...args));
  return cluster;
}
