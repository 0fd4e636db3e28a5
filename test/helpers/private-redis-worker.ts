/** A worker process on a redis-server of its own (test/helpers/private-redis.ts), to stall or kill under it. */
import { afterAll, beforeAll } from 'vitest';
import { startPrivateRedis, type PrivateRedis, type PrivateRedisOptions } from './private-redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from './worker.js';

/** What {@link privateRedisWorker} sets up for a test file (filled in `beforeAll`). */
export interface PrivateRedisWorker {
  server: PrivateRedis;
  cfg: TestConfig;
  worker: WorkerProcess;
}

/**
 * Before the file: a private redis-server, a test config on it under `prefix` (`main` added, as in
 * {@link writeTestConfig}) and a worker process (`REDIS_URL` the server's, `opts.env` added). After it: the server resumed if stalled, the
 * worker stopped (15 s to drain requests it still holds, then SIGKILL), the server stopped and
 * the config removed.
 */
export function privateRedisWorker(
  prefix: string,
  main: Record<string, unknown> = {},
  opts: PrivateRedisOptions & { env?: Record<string, string> } = {},
): PrivateRedisWorker {
  const h = {} as PrivateRedisWorker;
  beforeAll(async () => {
    h.server = await startPrivateRedis({ rdb: opts.rdb });
    h.cfg = await writeTestConfig(prefix, { redis: { url: h.server.url, prefix }, ...main });
    h.worker = await spawnWorker(h.cfg.dir, { REDIS_URL: h.server.url, ...opts.env });
  }, 60_000);
  afterAll(async () => {
    try {
      h.server?.resume();
      // A worker still holding requests (the test failed) gets 15 s to drain, then SIGKILL.
      const killer = setTimeout(() => h.worker?.child.kill('SIGKILL'), 15_000);
      await h.worker?.stop();
      clearTimeout(killer);
    } finally {
      await h.server?.stop();
      h.cfg?.remove();
    }
  }, 30_000);
  return h;
}
