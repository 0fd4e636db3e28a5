import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { writeTestConfig } from '../helpers/worker.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';

const redis = redisClient();
const prefixes: string[] = [];
afterAll(async () => {
  for (const p of prefixes) await cleanup(redis, p);
  redis.disconnect();
});

const T = Date.now() - 3 * 3_600_000;
const login = (user: string, at: number, ip: string, geo: Record<string, unknown>) =>
  JSON.stringify({ type: 'login', user, time: new Date(T + at).toISOString(), outcome: 'success', ip, geo });

/** Runs a worker from a config path (the router thread follows engine.router_thread) over a trip and a bad entry. */
async function run(routerThread: boolean): Promise<{ level: string | null; deadLetters: number; metrics: string; worker: WorkerHandle; prefix: string }> {
  const prefix = testPrefix(`rthread-${routerThread}`);
  prefixes.push(prefix);
  const cfg = await writeTestConfig(prefix, { engine: { router_thread: routerThread } });
  const worker = await startWorker({ configPath: cfg.dir, logger: createLogger('silent'), port: 0, host: '127.0.0.1', consumer: `${prefix}-1` });
  try {
    const stream = `${prefix}:login`;
    await redis.xadd(stream, '*', 'event', login('trip@example.com', 0, '81.2.69.142', { lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB' }));
    // Sydney an hour later.
    await redis.xadd(stream, '*', 'event', login('trip@example.com', 3_600_000, '1.128.0.1', { lat: -33.87, lon: 151.21, accuracy_km: 20, country: 'AU' }));
    await redis.xadd(stream, '*', 'event', '{not json');
    const level = await waitFor(
      async () => {
        const r = await fetch(`${worker.url}/v1/users/trip@example.com/risk`, { headers: { authorization: `Bearer admin-${prefix}-0123456789abcdef` } });
        const body = (await r.json()) as { level?: string };
        return body.level === 'high' ? body.level : undefined;
      },
      { timeout: 30_000, what: 'the trip scored' },
    );
    const deadLetters = await waitFor(async () => (await redis.xlen(`${prefix}:dead-letter`)) || undefined, {
      timeout: 15_000,
      what: 'the bad entry dead-lettered',
    });
    const metrics = await waitFor(
      async () => {
        const m = (await worker.metrics.render()).body;
        return /riskstream_events_dead_lettered_total\{stream="[^"]+:login"\} 1/.test(m) ? m : undefined;
      },
      { timeout: 10_000, what: 'the dead letter counted' },
    );
    return { level, deadLetters, metrics, worker, prefix };
  } finally {
    await worker.close();
    cfg.remove();
  }
}

describe('engine.router_thread', () => {
  it('routes in its own thread: events scored, bad entries dead-lettered and counted in the main thread’s metrics, a clean close', async () => {
    const t0 = Date.now();
    const r = await run(true);
    expect(r.level).toBe('high');
    expect(r.deadLetters).toBe(1);
    expect(r.metrics).toMatch(/riskstream_engine_routed_total \d+/);
    expect(Number(/riskstream_engine_routed_total (\d+)/.exec(r.metrics)![1])).toBeGreaterThanOrEqual(2);
    // Nothing left pending: the thread acked what it routed before it ended.
    const pending = (await redis.xpending(`${r.prefix}:login`, 'riskstream')) as [number, ...unknown[]];
    expect(pending[0]).toBe(0);
    expect(Date.now() - t0).toBeLessThan(60_000);
  }, 90_000);

  it('false: the same result with routing in the main thread', async () => {
    const r = await run(false);
    expect(r.level).toBe('high');
    expect(r.deadLetters).toBe(1);
    expect(Number(/riskstream_engine_routed_total (\d+)/.exec(r.metrics)![1])).toBeGreaterThanOrEqual(2);
  }, 90_000);
});

/**
 * A router lease whose epoch counter was lost while the input streams' fences kept a newer epoch
 * (a restored or partly flushed Redis): refused by the fences, the worker takes its lease again
 * above the fence's epoch and routes, rather than holding the lease and routing nothing.
 */
describe.each([true, false])('a stale router fence (engine.router_thread %s)', (routerThread) => {
  it('is passed: the lease is taken again above the fence and the input is routed', async () => {
    const prefix = testPrefix(`sfence-${routerThread}`);
    prefixes.push(prefix);
    const keys = new Keys(prefix);
    const streams = [`${prefix}:login`, `${prefix}:activity`, keys.controlStream];
    // Fences of epoch 40, with no epoch counter: the worker's first lease has epoch 1.
    for (const s of streams) await redis.set(keys.routerFence(s), 'gone-worker#40');
    const cfg = await writeTestConfig(prefix, { engine: { router_thread: routerThread } });
    const worker = await startWorker({ configPath: cfg.dir, logger: createLogger('silent'), port: 0, host: '127.0.0.1', consumer: `${prefix}-1` });
    try {
      await redis.xadd(`${prefix}:login`, '*', 'event', login('trip@example.com', 0, '81.2.69.142', { lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB' }));
      await redis.xadd(
        `${prefix}:login`,
        '*',
        'event',
        login('trip@example.com', 3_600_000, '1.128.0.1', { lat: -33.87, lon: 151.21, accuracy_km: 20, country: 'AU' }),
      );
      const level = await waitFor(
        async () => {
          const r = await fetch(`${worker.url}/v1/users/trip@example.com/risk`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });
          const body = (await r.json()) as { level?: string };
          return body.level === 'high' ? body.level : undefined;
        },
        { timeout: 30_000, what: 'the trip scored' },
      );
      expect(level).toBe('high');
      for (const s of streams) expect(await redis.get(keys.routerFence(s))).toBe(`${prefix}-1#41`);
      expect(await redis.get(`${prefix}:{r:*}:epoch`)).toBe('41');
      expect((await worker.metrics.render()).body).toMatch(/riskstream_engine_router_owned 1/);
    } finally {
      await worker.close();
      cfg.remove();
    }
  }, 60_000);
});
