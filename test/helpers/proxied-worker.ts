/** A worker process reaching the shared Redis through a loopback proxy (test/helpers/tcp-proxy.ts) that a test stalls. */
import { afterAll, beforeAll } from 'vitest';
import { cleanup, redisClient } from './redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from './worker.js';
import { proxyTestRedis, type startTcpProxy, type TcpProxy } from './tcp-proxy.js';

/** What {@link proxiedWorker} sets up for a test file (filled in `beforeAll`). */
export interface ProxiedWorker {
  /** The key prefix of the worker's config. */
  prefix: string;
  proxy: TcpProxy;
  cfg: TestConfig;
  worker: WorkerProcess;
}

/**
 * Before the file: a proxy in front of REDIS_URL (`opts` as {@link startTcpProxy}'s), a test
 * config under `prefix` (`main` added) and a worker process whose `REDIS_URL` is the proxy's —
 * only its connections are stalled, nobody else's. After it: the proxy resumed, the worker
 * stopped, the proxy closed, the prefix purged and the config removed.
 */
export function proxiedWorker(prefix: string, main: Record<string, unknown> = {}, opts: Parameters<typeof startTcpProxy>[1] = {}): ProxiedWorker {
  const h = { prefix } as ProxiedWorker;
  beforeAll(async () => {
    const { proxy, url } = await proxyTestRedis(opts);
    h.proxy = proxy;
    h.cfg = await writeTestConfig(prefix, main);
    h.worker = await spawnWorker(h.cfg.dir, { REDIS_URL: url });
  }, 60_000);
  afterAll(async () => {
    h.proxy?.resume();
    await h.worker?.stop();
    await h.proxy?.close();
    const redis = redisClient();
    await cleanup(redis, prefix);
    redis.disconnect();
    h.cfg?.remove();
  }, 60_000);
  return h;
}
