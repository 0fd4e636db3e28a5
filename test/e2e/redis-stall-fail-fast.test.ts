/**
 * A Redis stalled for long (its own redis-server, `kill -STOP`ped) under shippers that keep
 * resending: once one request was answered 503 for it, the next ones are answered within the 1 s
 * PING and never reach their route. They used to wait `http.redis_timeout` + 1 s each, their bodies
 * held in memory by a Redis read that never returned until the stall ended (eight shippers resending
 * 1 MB bodies: +90 MB a minute, however long it lasts). After `kill -CONT` requests go through again.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { privateRedisWorker } from '../helpers/private-redis-worker.js';
import { criticalDetection } from '../helpers/worker.js';

const prefix = `rs-stall-fast-${process.pid}`;
const REDIS_TIMEOUT_MS = 3000;

const h = privateRedisWorker(prefix, { http: { redis_timeout: `${REDIS_TIMEOUT_MS}ms` }, log_level: 'info' });

const event = (user: string, id: string): string => criticalDetection(user, { id, time: new Date().toISOString(), vendor: 'cs' });

const timed = async (path: string, init: RequestInit = {}, token = h.cfg.adminToken): Promise<{ status: number; ms: number; retryAfter: string | null }> => {
  const t0 = Date.now();
  const res = await fetch(`${h.worker.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
    signal: AbortSignal.timeout(20_000),
  });
  await res.arrayBuffer();
  return { status: res.status, ms: Date.now() - t0, retryAfter: res.headers.get('retry-after') };
};

const ingest = (body: string): ReturnType<typeof timed> =>
  timed('/v1/events', { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } }, h.cfg.ingestToken);

describe('Redis stalled for long, requests keep coming', () => {
  it('after the first 503, requests are answered 503 within the PING second, not after http.redis_timeout each; after SIGCONT they go through', async () => {
    expect((await ingest(event('before@example.com', 'e-0'))).status).toBe(202);
    h.server.stall();
    const first = await timed('/v1/users/before%40example.com/risk');
    expect(first).toMatchObject({ status: 503, retryAfter: '5' });
    expect(first.ms).toBeGreaterThanOrEqual(REDIS_TIMEOUT_MS);

    // Shippers resending while it lasts, and an admin.
    const body = Array.from({ length: 2000 }, (_, i) => event(`u${i}@example.com`, `e-${i}`)).join('\n');
    const later = await Promise.all([...Array.from({ length: 6 }, () => ingest(body)), timed('/v1/users/before%40example.com/risk'), timed('/ssf/streams')]);
    for (const a of later) {
      expect(a).toMatchObject({ status: 503, retryAfter: '5' });
      expect(a.ms).toBeLessThan(REDIS_TIMEOUT_MS - 500); // the 1 s PING, plus room for a loaded machine
    }
    // One warning per route per 10 s, not one per request (the child's log read from its pipe: it may trail the answers).
    const warned = (): number => h.worker.output().match(/"route":"\/v1\/events".*answered 503/g)?.length ?? 0;
    await waitFor(() => warned() > 0, { timeout: 5_000, what: 'the 503 warning in the log' });
    expect(warned()).toBe(1);
    expect((await fetch(`${h.worker.url}/healthz`)).status).toBe(200);

    h.server.resume();
    await waitFor(async () => (await timed('/v1/users/before%40example.com/risk')).status === 200, { timeout: 10_000, what: 'answers after SIGCONT' });
    expect((await ingest(event('after@example.com', 'e-after'))).status).toBe(202);
  }, 90_000);
});
