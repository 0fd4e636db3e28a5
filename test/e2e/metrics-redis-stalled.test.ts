/**
 * `GET /metrics` while the worker's Redis holds the connection but does not answer (stalled, or
 * partitioned away without a reset): docs/interfaces.md §5 says metrics answer from memory while
 * Redis is unreachable, as `/readyz` does (503 "no PONG within 1000 ms"). The worker reaches the
 * shared Redis through a loopback proxy that the test stalls (nobody else's connections affected).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, REDIS_URL, testPrefix } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const prefix = testPrefix('metrics-stalled');
const redis = redisClient();
const metricsToken = `metrics-${prefix}-0123456789abcdef`;
let cfg: TestConfig;
let proxy: TcpProxy;
let worker: WorkerProcess;

beforeAll(async () => {
  const u = new URL(REDIS_URL);
  proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 6379) });
  cfg = await writeTestConfig(prefix, { http: { metrics_tokens: [metricsToken] } });
  worker = await spawnWorker(cfg.dir, { REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
}, 60_000);

afterAll(async () => {
  proxy?.resume();
  await worker?.stop();
  await proxy?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
}, 60_000);

/** GET /metrics with the metrics token: status, body and how long it took. */
async function scrape(): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  const r = await fetch(`${worker.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` }, signal: AbortSignal.timeout(20_000) });
  return { status: r.status, body: await r.text(), ms: Date.now() - t0 };
}

describe('GET /metrics with a stalled Redis', () => {
  it('answers from memory within a couple of seconds, not once Redis answers again', async () => {
    const before = await scrape();
    expect(before.status).toBe(200);
    expect(before.body).toMatch(/^riskstream_consumer_lag\{stream="[^"]+"\} \d+$/m);

    proxy.stall();
    try {
      const ready = await fetch(`${worker.url}/readyz`);
      expect(ready.status).toBe(503); // readiness already says so after 1 s
      const during = await scrape();
      expect(during.status).toBe(200);
      expect(during.body).toMatch(/^riskstream_events_processed_total \d+$/m);
      expect(during.ms).toBeLessThan(3_000);
    } finally {
      proxy.resume();
    }
  }, 40_000);
});
