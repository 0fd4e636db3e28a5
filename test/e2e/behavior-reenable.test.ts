/**
 * A behavior turned off and on again with no event of the user in between — hot reloads, or a
 * worker restarted while it was off — starts afresh (README "Behaviors"): brute_force's failures
 * from before it was turned off do not count after it is on again; new ones do. Found by a review:
 * what an off behavior remembered was dropped only at an event applied while it was off.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { inProcessWorker, userRisk, writeTestConfig } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { bruteForceOnly, bruteLogins } from '../helpers/brute-logins.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { loadConfig } from '../../src/config/load.js';
import { createLogger } from '../../src/obs/logger.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import type { Redis } from 'ioredis';

const brute = bruteForceOnly;

/** Login events and risk reads for one prefix. */
function on(redis: Redis, prefix: string) {
  const { login: add, failures } = bruteLogins(redis, prefix);
  return {
    failures,
    success: (user: string, minute: number) => add(user, minute, 'success'),
    quiet: (users: string[]) => untilQuiet(redis, { prefix, users }),
    level: async (url: string, user: string) => (await userRisk(url, `admin-${prefix}-0123456789abcdef`, user)).level ?? 'low',
  };
}

describe('a behavior off then on again (hot reload)', () => {
  const w = inProcessWorker('behavior-reenable');

  it("starts afresh: the user's failures from before it was turned off do not count; new ones do", async () => {
    const worker = await w.start({});
    const dir = worker.config().dir;
    const reload = async (enabled: boolean) => {
      writeFileSync(join(dir, 'behaviors.yaml'), stringify(brute(enabled)));
      await worker.reload(dir);
    };
    const u = on(w.redis, w.prefix);
    const user = 'erin@example.com';
    await reload(true);
    await u.failures(user, 0, 4);
    await u.quiet([user]);
    await reload(false);
    await reload(true); // no event of the user while it was off
    await u.failures(user, 4, 1);
    await u.success(user, 5);
    await u.quiet([user]);
    expect(await u.level(worker.url, user)).toBe('low');

    // On again, it counts what comes now.
    await u.failures(user, 6, 5);
    await u.success(user, 11);
    await u.quiet([user]);
    expect(await u.level(worker.url, user)).toBe('high');
  }, 60_000);
});

describe('a behavior off across a restart, then on again', () => {
  const redis = redisClient();
  const prefix = testPrefix('behavior-restart');
  let cfg: Awaited<ReturnType<typeof writeTestConfig>> | undefined;
  let worker: WorkerHandle | undefined;
  afterAll(async () => {
    await worker?.close().catch(() => undefined);
    cfg?.remove();
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  it('a worker restarted while it was off, then a configuration with it on: the user starts afresh', async () => {
    cfg = await writeTestConfig(prefix, {}, brute(true));
    const start = async (enabled: boolean) => {
      writeFileSync(join(cfg!.dir, 'behaviors.yaml'), stringify(brute(enabled)));
      return (worker = await startWorker({
        config: loadConfig(cfg!.dir),
        logger: createLogger('silent'),
        port: 0,
        host: '127.0.0.1',
        consumer: `${prefix}-1`,
      }));
    };
    const u = on(redis, prefix);
    const user = 'frank@example.com';
    await start(true);
    await u.failures(user, 0, 4);
    await u.quiet([user]);
    await worker!.close();
    await (await start(false)).close(); // restarted while it is off, no event of the user
    const w2 = await start(true);
    await u.failures(user, 4, 1);
    await u.success(user, 5);
    await u.quiet([user]);
    expect(await u.level(w2.url, user)).toBe('low');

    await u.failures(user, 6, 5);
    await u.success(user, 11);
    await u.quiet([user]);
    expect(await u.level(w2.url, user)).toBe('high');
  }, 60_000);
});
