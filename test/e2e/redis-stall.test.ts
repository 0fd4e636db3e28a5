/**
 * A Redis that stalls with its connection open (its own redis-server, `kill -STOP`ped): the admin
 * API and `/ssf/*` answer 503 `unavailable` with `Retry-After` within `http.redis_timeout` plus the
 * 1 s PING, instead of waiting until Redis answers again; an ingest body answered 503 before any of
 * it was written is not written once Redis goes on (the shipper's resend is its only copy); after
 * `kill -CONT` everything answers again.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { privateRedisWorker } from '../helpers/private-redis-worker.js';
import { criticalDetection } from '../helpers/worker.js';

const prefix = `rs-stall-${process.pid}`;
const REDIS_TIMEOUT_MS = 2000;
/** The PING's second after the deadline, plus room for a loaded machine. */
const BOUND_MS = REDIS_TIMEOUT_MS + 1000 + 2500;

const h = privateRedisWorker(prefix, { http: { redis_timeout: `${REDIS_TIMEOUT_MS}ms` } });

const event = (user: string, id: string): string => criticalDetection(user, { id, time: new Date().toISOString() });

const api = (path: string, init: RequestInit = {}, token = h.cfg.adminToken): Promise<Response> =>
  fetch(`${h.worker.url}${path}`, {
    ...init,
    headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string> | undefined) },
    signal: AbortSignal.timeout(BOUND_MS + 5000),
  });

const ingest = (body: string): Promise<Response> =>
  api('/v1/events', { method: 'POST', body, headers: { 'content-type': 'application/x-ndjson' } }, h.cfg.ingestToken);

/** Entries of the activity stream holding `user`. */
const entriesOf = async (user: string): Promise<number> =>
  (await h.server.client.xrange(`${prefix}:activity`, '-', '+')).filter(([, f]) => f.some((v) => v.includes(user))).length;

describe('Redis stalled with its connection open', () => {
  it('answers /v1/* and /ssf/* 503 unavailable within http.redis_timeout, writes nothing it refused, and answers again after SIGCONT', async () => {
    expect((await ingest(event('before@example.com', 'e-before'))).status).toBe(202);
    await waitFor(async () => ((await (await api('/v1/users/before%40example.com/risk')).json()) as { level?: string }).level === 'high', {
      timeout: 20_000,
      what: 'scored before the stall',
    });
    // Past POST /v1/events' cached consumer lag (1 s): its next body reads the lag from Redis first.
    await new Promise((r) => setTimeout(r, 1200));

    h.server.stall();
    const timed = async (p: Promise<Response>): Promise<{ status: number; ms: number; retryAfter: string | null; error: unknown }> => {
      const t0 = Date.now();
      const res = await p;
      const body = (await res.json()) as { error?: unknown };
      return { status: res.status, ms: Date.now() - t0, retryAfter: res.headers.get('retry-after'), error: body.error };
    };
    const answers = await Promise.all([
      timed(api('/v1/users/before%40example.com/risk')),
      timed(
        api('/v1/users/before%40example.com/risk/reset', { method: 'POST', body: '{"reason":"stall test"}', headers: { 'content-type': 'application/json' } }),
      ),
      timed(api('/v1/sessions/s-unknown', { method: 'DELETE' })),
      timed(api('/ssf/streams')),
      timed(ingest(event('stalled@example.com', 'e-stalled'))),
    ]);
    for (const a of answers) {
      expect(a).toMatchObject({ status: 503, retryAfter: '5', error: 'unavailable' });
      expect(a.ms).toBeLessThan(BOUND_MS);
    }
    expect((await fetch(`${h.worker.url}/healthz`)).status).toBe(200);

    h.server.resume();
    expect((await api('/v1/users/before%40example.com/risk')).status).toBe(200);
    expect((await api('/ssf/streams')).status).not.toBe(503);
    // The refused body was never written, even now that its lag read is answered: the resend is its only copy.
    await new Promise((r) => setTimeout(r, 1000));
    expect(await entriesOf('stalled@example.com')).toBe(0);
    expect((await ingest(event('stalled@example.com', 'e-stalled'))).status).toBe(202);
    expect(await entriesOf('stalled@example.com')).toBe(1);
    await waitFor(async () => ((await (await api('/v1/users/stalled%40example.com/risk')).json()) as { level?: string }).level === 'high', {
      timeout: 20_000,
      what: `scored after the stall; worker said: ${h.worker.output().slice(-2000)}`,
    });
  }, 90_000);
});
