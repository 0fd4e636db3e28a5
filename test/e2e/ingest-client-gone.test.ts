/**
 * POST /v1/events whose client closes the connection before the answer — a shipper's request
 * timeout (Vector's `request.timeout_secs`, 60 s by default) while its body waits its turn behind
 * others or is being appended. The shipper never sees a 202 and sends the body again, so what the
 * worker appends of it after the client left is only appended twice: a body still waiting its turn
 * is dropped, and one being appended stops after the chunk in flight (as after a 503). The worker
 * reaches the shared Redis through a loopback proxy that stalls at the first body's first chunk,
 * so both bodies are under way, deterministically, when their clients go.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { proxiedWorker } from '../helpers/proxied-worker.js';

const prefix = testPrefix('ingest-gone');
const redis = redisClient();
const tag = `gone-${randomBytes(4).toString('hex')}`;
let stalledAtFirstChunk = false;
// The proxy stalls (every connection of the worker) when the first chunk of body A is sent: A is
// under way. No 503 while it holds Redis's answers (http.redis_timeout): only the clients' leaving
// stops the bodies.
const h = proxiedWorker(
  prefix,
  { http: { redis_timeout: '60s' } },
  { stallWhen: (d) => !stalledAtFirstChunk && (stalledAtFirstChunk = d.includes(`${tag}-a-0`)) },
);
afterAll(() => redis.disconnect());

const body = (name: string, n: number): string =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({ type: 'access', id: `${tag}-${name}-${i}`, user: `${tag}-${name}@example.com`, time: Date.now() - 1000, outcome: 'allowed', app: 'x' }),
  ).join('\n');

/** Posts `text`; the returned controller closes the connection (the client gives up). */
function post(text: string): { abort: () => void; done: Promise<number | 'closed'> } {
  const ac = new AbortController();
  const done = fetch(`${h.worker.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
    body: text,
    signal: ac.signal,
  }).then(
    (r) => r.status,
    () => 'closed' as const,
  );
  return { abort: () => ac.abort(), done };
}

/** How many of body `name`'s records are in the activity stream. */
async function appended(name: string): Promise<number> {
  const entries = await redis.xrange(`${prefix}:activity`, '-', '+');
  return entries.filter(([, f]) => f.some((v) => v.includes(`${tag}-${name}-`))).length;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500));

describe('POST /v1/events: a client that closes the connection before the answer', () => {
  it('its body waiting its turn is never appended, and one being appended stops after the chunk in flight (both were appended whole: twice after the resend)', async () => {
    // A: 2 500 records, three chunks of 1 000; its first is held by the proxy.
    const a = post(body('a', 2500));
    await waitFor(() => stalledAtFirstChunk, { what: "body A's first chunk sent" });
    // B waits its turn behind A (ingest_concurrency 1).
    const b = post(body('b', 10));
    await settle(); // B received by the worker
    a.abort();
    b.abort();
    expect(await a.done).toBe('closed');
    expect(await b.done).toBe('closed');
    await settle(); // the worker saw both connections close
    h.proxy.resume();
    // C, behind A and B in line: once it is answered, they are done with.
    const c = post(body('c', 1));
    expect(await c.done).toBe(202);
    expect(await appended('c')).toBe(1);
    expect(await appended('a')).toBe(1000);
    expect(await appended('b')).toBe(0);
  }, 60_000);
});
