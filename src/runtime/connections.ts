import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';
import type { Logger } from '../obs/logger.js';
import { RiskstreamError } from '../errors.js';
import type { RedisClient } from '../redis/client.js';
import { clusterStateProblem } from '../redis/cluster-state.js';
import { keepNodesOnEmptySlotMap } from '../redis/empty-slot-map.js';
import { clearAuthRefusal, noteRedisError } from './redis-auth-refusal.js';

/** Where riskstream's Redis is: one node (`url`) or a Redis Cluster (`cluster`: startup nodes). */
export interface RedisTarget {
  url: string;
  cluster: readonly string[] | null;
}

/** The options every connection shares: reconnect with capped back-off, queue while reconnecting. */
function nodeOptions(name: string, extra: RedisOptions): RedisOptions {
  return {
    connectionName: `riskstream:${name}`,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 7), 2000),
    reconnectOnError: (err) => /READONLY|LOADING/.test(err.message),
    lazyConnect: false,
    ...extra,
  };
}

/** A startup node URL as ioredis wants it (credentials and TLS go to the node options). */
function startupNode(url: string): { host: string; port: number } {
  const u = new URL(url);
  // An IPv6 literal's hostname keeps its brackets (`[::1]`), which no connect resolves.
  return { host: u.hostname.replace(/^\[(.*)\]$/, '$1'), port: Number(u.port || 6379) };
}

/**
 * A Redis Cluster client: slots re-resolved on MOVED/ASK and after a failover, commands queued
 * and retried while the cluster elects a new master (CLUSTERDOWN, TRYAGAIN), every node
 * connection reconnecting like a single-node one. Reads go to masters (a replica may lag).
 */
export function clusterClient(nodes: readonly string[], name: string, extra: RedisOptions = {}, cluster: ClusterOptions = {}): Cluster {
  const first = new URL(nodes[0]!);
  const auth: RedisOptions = {
    ...(first.username ? { username: decodeURIComponent(first.username) } : {}),
    ...(first.password ? { password: decodeURIComponent(first.password) } : {}),
    ...(first.protocol === 'rediss:' ? { tls: {} } : {}),
  };
  const client = new Cluster(nodes.map(startupNode), {
    redisOptions: nodeOptions(name, { ...auth, ...extra }),
    scaleReads: 'master',
    enableReadyCheck: true,
    enableOfflineQueue: true,
    maxRedirections: 64,
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 300,
    retryDelayOnTryAgain: 100,
    slotsRefreshTimeout: 2000,
    clusterRetryStrategy: (times) => Math.min(100 * times, 2000),
    // Nodes are connected to by the names the URLs and the cluster give (the system resolves them
    // at connect): ioredis would resolve a startup node's name first, and TLS would then check the
    // node's certificate against its IP address — names only (managed TLS clusters): every node refused.
    dnsLookup: (address, callback) => callback(null, address),
    ...cluster,
  });
  // A node answering CLUSTER SLOTS with no slot (one del-node is removing) must not drop every connection.
  return keepNodesOnEmptySlotMap(client);
}

/**
 * Opens a Redis connection that survives restarts and network blips: reconnects with capped
 * back-off and queues commands while reconnecting (`maxRetriesPerRequest: null`), so a blip
 * delays work instead of failing it. With `target.cluster`, an ioredis `Cluster` client.
 */
export function connect(target: RedisTarget | string, logger: Logger, name: string, extra: RedisOptions = {}): RedisClient {
  const t: RedisTarget = typeof target === 'string' ? { url: target, cluster: null } : target;
  const redis: RedisClient = t.cluster?.length ? clusterClient(t.cluster, name, extra) : new Redis(t.url, nodeOptions(name, extra));
  let down = false;
  redis.on('error', (err: Error) => {
    // A network error's stack is node's internals (one per connection and outage): the message and code say it all.
    const code = (err as NodeJS.ErrnoException).code;
    if (!down) logger.warn(code ? { conn: name, error: err.message, code } : { conn: name, err }, 'redis connection error; reconnecting');
    down = true;
    noteRedisError(redis, err);
  });
  // A connection the server closed (CLIENT KILL, restart, idle timeout) emits no 'error': say so here.
  redis.on('reconnecting', (delay: number) => {
    if (!down) logger.warn({ conn: name, delay }, 'redis connection lost; reconnecting');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ conn: name }, 'redis reconnected');
    down = false;
    clearAuthRefusal(redis);
  });
  return redis;
}

/** The Redis target of a configuration: its cluster's startup nodes, else its one node. */
export function targetOf(config: { redisUrl: string; redisCluster: readonly string[] | null }): RedisTarget {
  return { url: config.redisUrl, cluster: config.redisCluster };
}

/**
 * Waits until a connection is ready, or throws after `timeoutMs` — having closed the connection,
 * whose endless reconnecting would otherwise keep a failed process from exiting.
 */
export async function ready(redis: RedisClient, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    let last: string | undefined; // the last connection error: what an operator needs to fix it
    const onError = (err: Error): void => void (last = connectionErrorText(err).slice(0, 300));
    const onReady = (): void => {
      clearTimeout(t);
      redis.off('error', onError);
      resolve();
    };
    const t = setTimeout(() => {
      redis.off('ready', onReady);
      redis.off('error', onError);
      // A cluster client whose ready check failed said nothing: ask a node why.
      const why = last === undefined && redis instanceof Cluster ? clusterStateProblem(redis) : Promise.resolve(last);
      void why.then((w) => {
        redis.disconnect();
        reject(new RiskstreamError('UNAVAILABLE', `redis ${whereIs(redis)} not ready after ${timeoutMs} ms${w ? ` (last error: ${w})` : ''}`));
      });
    }, timeoutMs);
    redis.once('ready', onReady);
    redis.on('error', onError);
  });
}

/**
 * A connection error's text. A cluster client that could load the slot map from no startup node
 * says only `Failed to refresh slots cache.`: the last node's own error follows it (a NOPERM for
 * `cluster|slots`, WRONGPASS, ECONNREFUSED …), which is what says what to fix.
 */
export function connectionErrorText(err: Error): string {
  const node = (err as { lastNodeError?: unknown }).lastNodeError;
  return node instanceof Error ? `${err.message.replace(/\.$/, '')} (last node error: ${node.message})` : err.message;
}

/**
 * Refuses a one-node connection to a node of a Redis Cluster (`redis.url` or `REDIS_URL` naming
 * one, `redis.cluster` meant): it reaches that node's slots only, so the first key of another slot
 * failed with a bare `MOVED <slot> <host:port>` — the worker's start after writing the keys it
 * reached. CONFIG_INVALID, before anything is written. A cluster client, or a Redis whose INFO is
 * refused, passes.
 */
export async function refuseClusterNode(redis: RedisClient): Promise<void> {
  if (redis instanceof Cluster) return;
  const info = await redis.info('cluster').catch(() => '');
  if (!/^cluster_enabled:1\r?$/m.test(info)) return;
  throw new RiskstreamError(
    'CONFIG_INVALID',
    `redis ${whereIs(redis)} is a node of a Redis Cluster: list its nodes in redis.cluster (redis.url and REDIS_URL name one Redis, whose connection cannot follow the cluster's slots)`,
  );
}

/** `at host:port` of a one-node connection (never its credentials); `cluster` for a cluster client. */
function whereIs(redis: RedisClient): string {
  if (redis instanceof Cluster) return 'cluster';
  const { host, port } = redis.options;
  return `at ${host ?? '?'}:${port ?? '?'}`;
}

/**
 * Closes a connection for shutdown: `QUIT` when it is ready (the server finishes its replies),
 * else — Redis unreachable, reconnecting, commands queued — `disconnect()`, which ends the
 * reconnect loop and fails queued commands at once. A `QUIT` without an answer within
 * `timeoutMs` is cut off the same way.
 */
export async function closeConnection(redis: RedisClient, timeoutMs = 2000): Promise<void> {
  if (redis.status !== 'ready') {
    redis.disconnect();
    return;
  }
  let timer: NodeJS.Timeout | undefined;
  const cut = new Promise<void>((r) => {
    timer = setTimeout(r, timeoutMs);
    timer.unref();
  });
  await Promise.race([
    redis.quit().then(
      () => undefined,
      () => undefined,
    ),
    cut,
  ]);
  clearTimeout(timer);
  redis.disconnect();
}
