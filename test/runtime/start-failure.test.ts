import { createServer, type Server } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { startWorker } from '../../src/runtime/worker.js';
import { writeTestConfig } from '../helpers/worker.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('start-fail');
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** The lease tokens held now, by partition key. */
async function leases(): Promise<string[]> {
  const keys: string[] = [];
  for await (const batch of redis.scanStream({ match: `${prefix}:{p*}:lease`, count: 500 })) keys.push(...(batch as string[]));
  return keys.length ? ((await redis.mget(...keys)).filter(Boolean) as string[]) : [];
}

describe('a worker that fails to start', () => {
  it('its HTTP port taken: it gives back the partitions it took at once, not when their leases expire', async () => {
    const blocker: Server = await new Promise((resolve) => {
      const s = createServer();
      s.listen(0, '127.0.0.1', () => resolve(s));
    });
    const port = (blocker.address() as { port: number }).port;
    const cfg = await writeTestConfig(prefix);
    try {
      const start = startWorker({ configPath: cfg.dir, logger: createLogger('silent'), port, host: '127.0.0.1', consumer: `${prefix}-b` });
      await expect(start).rejects.toThrow(/EADDRINUSE/);
      expect((await leases()).filter((t) => t.startsWith(`${prefix}-b#`))).toEqual([]);
    } finally {
      blocker.close();
      cfg.remove();
    }
  }, 60_000);

  it('a second process of a running worker (same worker id, same port) fails before it claims anything: the running one keeps its id and partitions', async () => {
    const cfg = await writeTestConfig(prefix);
    const probe = createServer();
    const port: number = await new Promise((resolve) => probe.listen(0, '127.0.0.1', () => resolve((probe.address() as { port: number }).port)));
    await new Promise((r) => probe.close(r));
    const id = `${prefix}-same`;
    const first = await startWorker({ configPath: cfg.dir, logger: createLogger('silent'), port, host: '127.0.0.1', consumer: id });
    try {
      const held = async (): Promise<string[]> => (await leases()).filter((t) => t.startsWith(`${id}#`)).sort();
      let before: string[] = [];
      for (let i = 0; i < 100 && before.length < 64; i++) {
        before = await held();
        if (before.length < 64) await new Promise((r) => setTimeout(r, 100));
      }
      expect(before.length).toBe(64);
      const second = startWorker({ configPath: cfg.dir, logger: createLogger('silent'), port, host: '127.0.0.1', consumer: id });
      await expect(second).rejects.toThrow(/EADDRINUSE/);
      expect(await held()).toEqual(before); // the same tokens (epochs): never superseded
      expect((await fetch(`${first.url}/readyz`)).status).toBe(200);
    } finally {
      await first.close();
      cfg.remove();
    }
  }, 60_000);
});
