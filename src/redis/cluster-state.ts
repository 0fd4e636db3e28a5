import { Redis, type Cluster } from 'ioredis';

/**
 * Why a Redis Cluster client does not get ready although nothing failed that it reports: its ready
 * check (`CLUSTER INFO`, which must say `cluster_state:ok`) fails without an error event — a user
 * without `cluster|info`, a cluster whose state is not ok — and it reconnects, so a start or a
 * command waiting for it could say only that nothing answered. Asks the client's first startup
 * node itself, on a short connection with the client's node options (its credentials and TLS):
 * its refusal (`NOPERM …`) or a state other than ok. Undefined when it says ok, or when the client
 * names no startup node.
 */
export async function clusterStateProblem(redis: Cluster, timeoutMs = 1000): Promise<string | undefined> {
  const first = (redis as unknown as { startupNodes?: Array<{ host?: string; port?: number }> }).startupNodes?.[0];
  if (!first?.host) return undefined;
  const where = `${first.host}:${first.port ?? 6379}`;
  const node = new Redis({
    ...redis.options.redisOptions,
    host: first.host,
    port: first.port ?? 6379,
    lazyConnect: true,
    enableReadyCheck: false,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
    connectTimeout: timeoutMs,
    commandTimeout: timeoutMs,
  });
  node.on('error', () => undefined);
  try {
    await node.connect();
    const state = /^cluster_state:(\w+)/m.exec(String(await node.cluster('INFO')))?.[1];
    return state === undefined || state === 'ok' ? undefined : `CLUSTER INFO on ${where}: cluster_state:${state}`;
  } catch (err) {
    return `CLUSTER INFO on ${where}: ${(err as Error).message.slice(0, 200)}`;
  } finally {
    node.disconnect();
  }
}
