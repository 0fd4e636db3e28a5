import { Redis, type RedisOptions } from 'ioredis';
import type { Logger } from '../obs/logger.js';
import { RiskstreamError } from '../errors.js';

/**
 * Opens a Redis connection that survives restarts and network blips: reconnects with capped
 * back-off and queues commands while reconnecting (`maxRetriesPerRequest: null`), so a blip
 * delays work instead of failing it.
 */
export function connect(url: string, logger: Logger, name: string, extra: RedisOptions = {}): Redis {
  const redis = new Redis(url, {
    connectionName: `riskstream:${name}`,
    maxRetriesPerRequest: null,
    enableReadyCheck: true,
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 7), 2000),
    reconnectOnError: (err) => /READONLY|LOADING/.test(err.message),
    lazyConnect: false,
    ...extra,
  });
  let down = false;
  redis.on('error', (err: Error) => {
    if (!down) logger.warn({ conn: name, err }, 'redis connection error; reconnecting');
    down = true;
  });
  // A connection the server closed (CLIENT KILL, restart, idle timeout) emits no 'error': say so here.
  redis.on('reconnecting', (delay: number) => {
    if (!down) logger.warn({ conn: name, delay }, 'redis connection lost; reconnecting');
    down = true;
  });
  redis.on('ready', () => {
    if (down) logger.info({ conn: name }, 'redis reconnected');
    down = false;
  });
  return redis;
}

/**
 * Waits until a connection is ready, or throws after `timeoutMs` — having closed the connection,
 * whose endless reconnecting would otherwise keep a failed process from exiting.
 */
export async function ready(redis: Redis, timeoutMs = 10_000): Promise<void> {
  if (redis.status === 'ready') return;
  await new Promise<void>((resolve, reject) => {
    const onReady = (): void => {
      clearTimeout(t);
      resolve();
    };
    const t = setTimeout(() => {
      redis.off('ready', onReady);
      redis.disconnect();
      reject(new RiskstreamError('UNAVAILABLE', `redis not ready after ${timeoutMs} ms`));
    }, timeoutMs);
    redis.once('ready', onReady);
  });
}

/**
 * Closes a connection for shutdown: `QUIT` when it is ready (the server finishes its replies),
 * else — Redis unreachable, reconnecting, commands queued — `disconnect()`, which ends the
 * reconnect loop and fails queued commands at once. A `QUIT` without an answer within
 * `timeoutMs` is cut off the same way.
 */
export async function closeConnection(redis: Redis, timeoutMs = 2000): Promise<void> {
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
