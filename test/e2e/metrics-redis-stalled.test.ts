/**
 * `GET /metrics` while the worker's Redis holds the connection but does not answer (stalled, or
 * partitioned away without a reset): docs/interfaces.md §5 says metrics answer from memory while
 * Redis is unreachable, as `/readyz` does (503 "no PONG within 1000 ms"). The worker reaches the
 * shared Redis through a loopback proxy that the test stalls (nobody else's connections affected).
 */
import { describe, expect, it } from 'vitest';
import { testPrefix } from '../helpers/redis.js';
import { proxiedWorker } from '../helpers/proxied-worker.js';

const prefix = testPrefix('metrics-stalled');
const metricsToken = `metrics-${prefix}-0123456789abcdef`;
const h = proxiedWorker(prefix, { http: { metrics_tokens: [metricsToken] } });

/** GET /metrics with the metrics token: status, body and how long it took. */
async function scrape(): Promise<{ status: number; body: string; ms: number }> {
  const t0 = Date.now();
  const r = await fetch(`${h.worker.url}/metrics`, { headers: { authorization: `Bearer ${metricsToken}` }, signal: AbortSignal.timeout(20_000) });
  return { status: r.status, body: await r.text(), ms: Date.now() - t0 };
}

describe('GET /metrics with a stalled Redis', () => {
  it('answers from memory within a couple of seconds, not once Redis answers again', async () => {
    const before = await scrape();
    expect(before.status).toBe(200);
    expect(before.body).toMatch(/^riskstream_consumer_lag\{stream="[^"]+"\} \d+$/m);

    h.proxy.stall();
    try {
      const ready = await fetch(`${h.worker.url}/readyz`);
      expect(ready.status).toBe(503); // readiness already says so after 1 s
      const during = await scrape();
      expect(during.status).toBe(200);
      expect(during.body).toMatch(/^riskstream_events_processed_total \d+$/m);
      expect(during.ms).toBeLessThan(3_000);
    } finally {
      h.proxy.resume();
    }
  }, 40_000);
});
