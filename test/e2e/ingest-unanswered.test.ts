/**
 * POST /v1/events bodies that would end unanswered: the shipper never sees a 202 and sends the
 * body again, so whatever the worker appends of it then is appended twice.
 * - The client closes the connection before the answer — a shipper's request timeout (Vector's
 *   `request.timeout_secs`, 60 s by default) while its body waits its turn behind others or is
 *   being appended: a body still waiting its turn is dropped, and one being appended stops after
 *   the chunk in flight (as after a 503).
 * - SIGTERM while bodies wait their turn (each can be seconds of work: the drain overran
 *   `shutdown_timeout`, cutting bodies partly appended): those waiting are answered 503 at once,
 *   nothing of them appended; the one being appended finishes; exit 0.
 * Each worker reaches the shared Redis through a loopback proxy that stalls at the first body's
 * first chunk, so the bodies are under way, deterministically, when their clients go or SIGTERM comes.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { proxiedWorker, type ProxiedWorker } from '../helpers/proxied-worker.js';

const redis = redisClient();
afterAll(() => redis.disconnect());

const body = (tag: string, name: string, n: number): string =>
  Array.from({ length: n }, (_, i) =>
    JSON.stringify({ type: 'access', id: `${tag}-${name}-${i}`, user: `${tag}-${name}@example.com`, time: Date.now() - 1000, outcome: 'allowed', app: 'x' }),
  ).join('\n');

interface Answer {
  status: number;
  retryAfter: string | null;
  error?: string;
}

/** Posts `text`; `abort` closes the connection (the client gives up). */
function post(h: ProxiedWorker, text: string): { abort: () => void; done: Promise<Answer | 'closed'> } {
  const ac = new AbortController();
  const done = fetch(`${h.worker.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
    body: text,
    signal: ac.signal,
  }).then(
    async (r) => ({ status: r.status, retryAfter: r.headers.get('retry-after'), ...((await r.json()) as { error?: string }) }),
    () => 'closed' as const,
  );
  return { abort: () => ac.abort(), done };
}

/** How many of body `name`'s records are in the activity stream. */
async function appended(h: ProxiedWorker, tag: string, name: string): Promise<number> {
  const entries = await redis.xrange(`${h.prefix}:activity`, '-', '+');
  return entries.filter(([, f]) => f.some((v) => v.includes(`${tag}-${name}-`))).length;
}

const settle = (): Promise<void> => new Promise((r) => setTimeout(r, 500));

/**
 * A worker whose proxy stalls (every connection of the worker) when the first chunk of body `a` of
 * `tag` is sent; `underWay` posts that body (2 500 records: three chunks of 1 000) and resolves once
 * it is so held. No 503 while the proxy holds Redis's answers (http.redis_timeout): only the clients
 * or the drain stop the bodies.
 */
function stallingWorker(kind: string): { h: ProxiedWorker; tag: string; underWay: () => Promise<ReturnType<typeof post>> } {
  const tag = `${kind}-${randomBytes(4).toString('hex')}`;
  let stalled = false;
  const h = proxiedWorker(
    testPrefix('ingest-unanswered'),
    { http: { redis_timeout: '60s' } },
    { stallWhen: (d) => !stalled && (stalled = d.includes(`${tag}-a-0`)) },
  );
  const underWay = async (): Promise<ReturnType<typeof post>> => {
    const a = post(h, body(tag, 'a', 2500));
    await waitFor(() => stalled, { what: "body A's first chunk sent" });
    return a;
  };
  return { h, tag, underWay };
}

describe('POST /v1/events: a client that closes the connection before the answer', () => {
  const { h, tag, underWay } = stallingWorker('gone');

  it('its body waiting its turn is never appended, and one being appended stops after the chunk in flight (both were appended whole: twice after the resend)', async () => {
    const a = await underWay();
    // B waits its turn behind A (ingest_concurrency 1).
    const b = post(h, body(tag, 'b', 10));
    await settle(); // B received by the worker
    a.abort();
    b.abort();
    expect(await a.done).toBe('closed');
    expect(await b.done).toBe('closed');
    await settle(); // the worker saw both connections close
    h.proxy.resume();
    // C, behind A and B in line: once it is answered, they are done with.
    const c = post(h, body(tag, 'c', 1));
    expect(await c.done).toMatchObject({ status: 202 });
    expect(await appended(h, tag, 'c')).toBe(1);
    expect(await appended(h, tag, 'a')).toBe(1000);
    expect(await appended(h, tag, 'b')).toBe(0);
  }, 60_000);
});

describe('POST /v1/events: SIGTERM while bodies wait their turn', () => {
  const { h, tag, underWay } = stallingWorker('term');

  it('the bodies waiting are answered 503 unavailable with Retry-After at once, nothing of them appended; the one being appended finishes (202, whole); exit 0 (they waited, and the drain with them)', async () => {
    const a = await underWay();
    const waiting = [post(h, body(tag, 'b', 10)), post(h, body(tag, 'c', 10))];
    await settle(); // B and C received by the worker, waiting behind A
    const exit = h.worker.stop('SIGTERM');
    // A bound for the old behaviour (they waited as long as Redis did), not a timing assertion.
    const answers = await Promise.race([Promise.all(waiting.map((w) => w.done)), new Promise<'unanswered'>((r) => setTimeout(() => r('unanswered'), 20_000))]);
    h.proxy.resume();
    expect(answers).toEqual([
      { status: 503, retryAfter: '1', error: 'unavailable', message: expect.any(String) },
      { status: 503, retryAfter: '1', error: 'unavailable', message: expect.any(String) },
    ]);
    expect(await a.done).toMatchObject({ status: 202, accepted: 2500 });
    expect(await exit).toBe(0);
    expect(await appended(h, tag, 'a')).toBe(2500);
    expect(await appended(h, tag, 'b')).toBe(0);
    expect(await appended(h, tag, 'c')).toBe(0);
  }, 90_000);
});
