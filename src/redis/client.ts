import { Cluster, type ChainableCommander, type ClusterOptions, type Redis, type RedisOptions } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { RiskstreamError } from '../errors.js';
import { directSend } from './zero-copy.js';

/**
 * A connection to riskstream's Redis: one node (`Redis`) or a Redis Cluster (`Cluster`, when
 * `redis.cluster` is configured). Code takes this type and keeps every script, MULTI and pipeline
 * within one slot (see docs/scaling.md), so the same code runs on both.
 */
export type RedisClient = Redis | Cluster;

/** Whether a connection is a Redis Cluster client. */
export function isCluster(redis: RedisClient): redis is Cluster {
  return redis instanceof Cluster;
}

/**
 * Another connection to the same Redis (node or cluster) with `extra` options (and, on a cluster,
 * the cluster options `cluster`). On a cluster,
 * `enableAutoPipelining` is ignored (off): ioredis retries an auto-pipeline after MOVED only when
 * all its errors are the same and its other commands read-only, so after a failover its commands
 * fail with MOVED instead of following the new master (seen: an audit write lost).
 */
export function duplicate(redis: RedisClient, extra: RedisOptions, cluster: Omit<ClusterOptions, 'redisOptions'> = {}): RedisClient {
  if (redis instanceof Cluster) {
    const { enableAutoPipelining: _off, ...node } = extra;
    return redis.duplicate(undefined, { ...cluster, redisOptions: { ...redis.options.redisOptions, ...node }, enableAutoPipelining: false });
  }
  return redis.duplicate(extra);
}

type Method = (...args: unknown[]) => Promise<unknown>;

/**
 * A pipeline on any connection. On one node, ioredis's pipeline (one round trip, in order). On a
 * cluster, whose pipelines must stay on one node, each queued command is sent on its own at
 * `exec()` — in queueing order, in one tick, so commands to one node still travel together and
 * run in order — and the replies come back as a pipeline's `[error, result]` pairs. Atomicity is
 * never assumed of a pipeline: what must be atomic is one script on one slot.
 */
export function pipeline(redis: RedisClient): ChainableCommander {
  return redis instanceof Cluster ? directPipeline(redis) : redis.pipeline();
}

/**
 * A pipeline whose commands are sent each on its own at `exec()` (see {@link pipeline}'s cluster
 * case), on one node too: for commands with large Buffer arguments, which ioredis's pipeline
 * copies once more into one buffer of them all. On one node the socket is corked meanwhile, so
 * they still leave in one write (a writev of their buffers), in order.
 */
export function directPipeline(redis: RedisClient): ChainableCommander {
  const queued: Array<() => Promise<unknown>> = [];
  const target = redis as unknown as Record<string | symbol, unknown>;
  const proxy: ChainableCommander = new Proxy({} as ChainableCommander, {
    get(_t, prop) {
      if (prop === 'exec') return () => outcomes(corked(redis, () => directSend(() => queued.splice(0).map((run) => run()))));
      if (prop === 'length') return queued.length;
      const fn = target[prop];
      if (typeof fn !== 'function') return undefined;
      return (...args: unknown[]) => {
        queued.push(() => (fn as Method).apply(redis, args));
        return proxy;
      };
    },
  });
  return proxy;
}

/**
 * Runs `issue` (which sends commands on `redis`) with the connection's socket corked, on one node
 * and when it is ready: the commands leave in one write, nothing between them. On a cluster, as is.
 */
export function corked<T>(redis: RedisClient, issue: () => T): T {
  const stream = redis instanceof Cluster || redis.status !== 'ready' ? undefined : redis.stream;
  const cork = stream !== undefined && !stream.destroyed && stream.writable;
  if (cork) stream.cork();
  try {
    return issue();
  } finally {
    if (cork) stream.uncork();
  }
}

/** A command's outcome as a pipeline reports it: `[error, null]` or `[null, reply]`. */
export type Outcome = [Error, null] | [null, unknown];

/** The outcomes of sent commands, in order, as a pipeline's `exec()` gives them. */
export function outcomes(sent: ReadonlyArray<Promise<unknown>>): Promise<Outcome[]> {
  return Promise.all(
    sent.map((p) =>
      p.then(
        (r): Outcome => [null, r],
        (e: Error): Outcome => [e, null],
      ),
    ),
  );
}

/**
 * The connections a command meant for every node goes to: one node's own, or each master of a
 * cluster. A cluster client that has not loaded its slot map yet (just created, or lazy) knows no
 * master: a keyless command first waits for it (queued until the client is ready, as every command
 * is), so that no caller acts on none and takes that for done. UNAVAILABLE when no master is known.
 */
async function everyNode(redis: RedisClient): Promise<Redis[]> {
  if (!(redis instanceof Cluster)) return [redis];
  if (redis.status !== 'ready') await redis.ping();
  const masters = redis.nodes('master');
  if (!masters.length) throw new RiskstreamError('UNAVAILABLE', 'no Redis Cluster master known');
  return masters;
}

/** SCANs every key matching `match`: on a cluster, on every master. Yields the keys a batch at a time. */
export async function* scanKeys(redis: RedisClient, match: string, count = 1000): AsyncGenerator<string[]> {
  const nodes = await everyNode(redis);
  for (const node of nodes) {
    let cursor = '0';
    do {
      const [next, found] = await node.scan(cursor, 'MATCH', match, 'COUNT', count);
      cursor = next;
      if (found.length) yield found;
    } while (cursor !== '0');
  }
}

/** Groups items by partition (`partitionOf`), in first-seen order. */
export function byPartition<T>(items: Iterable<T>, partitionOf: (item: T) => number): Map<number, T[]> {
  const out = new Map<number, T[]>();
  for (const it of items) {
    const p = partitionOf(it);
    const list = out.get(p);
    if (list) list.push(it);
    else out.set(p, [it]);
  }
  return out;
}

/**
 * Waits until `replicas` replicas acknowledged every write this connection made (WAIT; on a cluster,
 * on every master, together). Throws UNAVAILABLE when fewer did within `timeoutMs`, so a caller
 * that acknowledges input only afterwards never acknowledges what a failover could lose.
 */
export async function waitReplicas(redis: RedisClient, replicas: number, timeoutMs: number): Promise<void> {
  if (replicas <= 0) return;
  const nodes = await everyNode(redis);
  const acks = await Promise.all(nodes.map((n) => n.wait(replicas, timeoutMs)));
  const least = Math.min(...acks);
  if (least < replicas) {
    throw new RiskstreamError('UNAVAILABLE', `only ${least} of ${replicas} replicas acknowledged within ${timeoutMs} ms (redis.wait_replicas)`);
  }
}

/** The Redis Cluster hash slot of a key (0 … 16383; hash tags honoured), as ioredis computes it. */
export function slotOf(key: string): number {
  return calculateSlot(key);
}

/**
 * The values of string keys, in order (null where missing): one MGET on one node; on a cluster,
 * whose MGET cannot span slots, one GET per key sent together.
 */
export async function getAll(redis: RedisClient, keys: readonly string[]): Promise<Array<string | null>> {
  if (!keys.length) return [];
  if (!isCluster(redis)) return redis.mget(...keys);
  return Promise.all(keys.map((k) => redis.get(k)));
}
