/**
 * `riskstream worker` (the CLI, which loads the configuration itself and hands it over with its
 * path) routes in a thread of its own when `engine.router_thread` is on, as the docs say — it used
 * to route in the main thread whatever the setting.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { criticalDetection, spawnWorker, userRisk, writeTestConfig, type WorkerProcess } from '../helpers/worker.js';

const redis = redisClient();
const prefixes: string[] = [];
const workers: WorkerProcess[] = [];
afterAll(async () => {
  for (const w of workers) await w.stop();
  for (const p of prefixes) await cleanup(redis, p);
  redis.disconnect();
});

async function start(routerThread: boolean): Promise<{ w: WorkerProcess; prefix: string }> {
  const prefix = testPrefix(`cli-rthread-${routerThread}`);
  prefixes.push(prefix);
  const cfg = await writeTestConfig(prefix, { engine: { router_thread: routerThread } });
  const w = await spawnWorker(cfg.dir, { RISKSTREAM_LOG_LEVEL: 'info' });
  workers.push(w);
  return { w, prefix };
}

describe('riskstream worker: engine.router_thread', () => {
  it.each([true, false])('router_thread %s: routing in a thread of its own only when on; events scored either way', async (on) => {
    const { w, prefix } = await start(on);
    await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection('rt@example.com'));
    await waitFor(async () => ((await userRisk(w.url, `admin-${prefix}-0123456789abcdef`, 'rt@example.com')).level === 'high' ? true : undefined), {
      what: 'the detection scored',
    });
    expect(/router thread ready/.test(w.output())).toBe(on);
  });
});
