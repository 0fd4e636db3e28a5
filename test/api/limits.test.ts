import { connect, type Socket } from 'node:net';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { call, isApiError, startApiWorker, type ApiWorker } from './helpers.js';

const prefix = testPrefix('api-limits');
const redis = redisClient();
const BODY_LIMIT = 4096;
const MAX_LAG = 5;
let w: ApiWorker;

beforeAll(async () => {
  // A small body limit and back-pressure threshold; claim_idle long so the worker never
  // reclaims the entries a "stalled consumer" below holds.
  w = await startApiWorker(prefix, { http: { body_limit: BODY_LIMIT }, streams: { block: '200ms', claim_idle: '10m', max_lag: MAX_LAG } });
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

const event = (i: number) =>
  JSON.stringify({ type: 'access', user: `limits-${i}@example.com`, time: new Date().toISOString(), outcome: 'denied', app: 'payroll', note: 'x'.repeat(40) });
const post = (body: string | Buffer, headers: Record<string, string> = {}) =>
  call(w.url, '/v1/events', { method: 'POST', token: w.cfg.ingestToken, body, headers: { 'content-type': 'application/x-ndjson', ...headers } });

describe('413: bodies over http.body_limit', () => {
  it('a plain body over the limit', async () => {
    const body = Array.from({ length: 60 }, (_, i) => event(i)).join('\n');
    expect(body.length).toBeGreaterThan(BODY_LIMIT);
    expect(isApiError(await post(body), 413, 'payload_too_large')).toBe(true);
  });

  it('a gzip body small on the wire but over the limit once decompressed', async () => {
    const text = Array.from({ length: 60 }, (_, i) => event(i)).join('\n');
    const gz = gzipSync(text);
    expect(gz.length).toBeLessThan(BODY_LIMIT);
    expect(text.length).toBeGreaterThan(BODY_LIMIT);
    expect(isApiError(await post(gz, { 'content-encoding': 'gzip' }), 413, 'payload_too_large')).toBe(true);
  });

  it('a body under the limit, gzip or not, is accepted', async () => {
    const text = Array.from({ length: 5 }, (_, i) => event(i)).join('\n');
    expect((await post(text)).json).toMatchObject({ accepted: 5, rejected: 0 });
    expect((await post(gzipSync(text), { 'content-encoding': 'gzip' })).json).toMatchObject({ accepted: 5, rejected: 0 });
  });

  it('admin routes are limited too', async () => {
    const r = await call(w.url, '/v1/users/x%40example.com/risk/reset', {
      method: 'POST',
      token: w.cfg.adminToken,
      body: JSON.stringify({ reason: 'y'.repeat(BODY_LIMIT * 2) }),
      headers: { 'content-type': 'application/json' },
    });
    expect(isApiError(r, 413, 'payload_too_large')).toBe(true);
  });
});

describe('429: back-pressure when the consumer group lags', () => {
  it('answers 429 with Retry-After while entries wait, and accepts again once they are acked', async () => {
    // Wait for the worker to have read everything posted above.
    await waitFor(async () => ((await redis.xpending(`${prefix}:activity`, 'riskstream')) as [number])[0] === 0, { what: 'nothing pending' });
    // A stalled consumer: it takes entries and never acks them. XADD and XREADGROUP in one
    // MULTI, so the worker cannot read them first.
    const m = redis.multi();
    for (let i = 0; i < MAX_LAG * 4; i++) m.xadd(`${prefix}:activity`, '*', 'event', event(100 + i));
    m.xreadgroup('GROUP', 'riskstream', 'stalled', 'COUNT', 1000, 'STREAMS', `${prefix}:activity`, '>');
    const res = (await m.exec()) ?? [];
    const ids = res.slice(0, MAX_LAG * 4).map(([, id]) => id as string);

    const busy = await waitFor(
      async () => {
        const r = await post(event(1));
        return r.status === 429 ? r : undefined;
      },
      { timeout: 5000, interval: 200, what: '429' },
    );
    expect(isApiError(busy, 429, 'backpressure')).toBe(true);
    expect(Number(busy.headers.get('retry-after'))).toBeGreaterThan(0);

    // Health and admin routes still answer.
    expect((await call(w.url, '/healthz')).status).toBe(200);
    expect((await call(w.url, '/v1/users', { token: w.cfg.adminToken })).status).toBe(200);

    await redis.xack(`${prefix}:activity`, 'riskstream', ...ids);
    const ok = await waitFor(
      async () => {
        const r = await post(event(2));
        return r.status === 202 ? r : undefined;
      },
      { timeout: 5000, interval: 200, what: '202 again' },
    );
    expect(ok.json).toMatchObject({ accepted: 1 });
  });
});

describe('429: more bodies at once than the worker takes', () => {
  it('answers 429 ingest_busy with Retry-After beyond http.ingest_queue; the bodies it took are all accepted', async () => {
    const p2 = testPrefix('api-limits-busy');
    // One body decoded at a time, none waiting: a second concurrent body is refused.
    const busy = await startApiWorker(p2, { http: { ingest_concurrency: 1, ingest_queue: 0 } });
    try {
      const body = Array.from({ length: 4000 }, (_, i) => event(i)).join('\n');
      const posts = await Promise.all(
        Array.from({ length: 6 }, () =>
          call(busy.url, '/v1/events', { method: 'POST', token: busy.cfg.ingestToken, body, headers: { 'content-type': 'application/x-ndjson' } }),
        ),
      );
      const refused = posts.filter((r) => r.status !== 202);
      expect(refused.length).toBeGreaterThan(0);
      for (const r of refused) {
        expect(isApiError(r, 429, 'ingest_busy')).toBe(true);
        expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
      }
      for (const r of posts.filter((x) => x.status === 202)) expect(r.json).toMatchObject({ accepted: 4000, rejected: 0 });
    } finally {
      await busy.close();
      await cleanup(redis, p2);
    }
  });
});

describe('429 before the body is read: bodies still arriving count', () => {
  /** A POST /v1/events whose headers announce `length` bytes and whose body sends only `sent` of them. */
  const slowPost = (url: string, token: string, length: number, sent: number): Promise<Socket> =>
    new Promise((resolve, reject) => {
      const u = new URL(url);
      const s = connect(Number(u.port), u.hostname, () => {
        s.write(
          `POST /v1/events HTTP/1.1\r\nHost: ${u.host}\r\nAuthorization: Bearer ${token}\r\nContent-Type: application/x-ndjson\r\nContent-Length: ${length}\r\n\r\n${'x'.repeat(sent)}`,
          () => resolve(s),
        );
      });
      s.on('error', reject);
    });

  it('refuses a body with 429 ingest_busy while http.ingest_concurrency + http.ingest_queue bodies are arriving, and takes bodies again once they are gone', async () => {
    const p2 = testPrefix('api-limits-arriving');
    // One body decoded at a time, one waiting: two bodies still arriving fill the worker.
    const busy = await startApiWorker(p2, { http: { ingest_concurrency: 1, ingest_queue: 1 } });
    const sockets: Socket[] = [];
    try {
      const one = (): Promise<Awaited<ReturnType<typeof call>>> =>
        call(busy.url, '/v1/events', { method: 'POST', token: busy.cfg.ingestToken, body: event(1), headers: { 'content-type': 'application/x-ndjson' } });
      // Both slow bodies have been admitted once a quick body is refused: poll until then.
      for (let i = 0; i < 2; i++) sockets.push(await slowPost(busy.url, busy.cfg.ingestToken, 1_000_000, 1000));
      const refused = await waitFor(
        async () => {
          const r = await one();
          return r.status === 429 ? r : undefined;
        },
        { timeout: 10_000, interval: 100, what: '429 while two bodies arrive' },
      );
      expect(isApiError(refused, 429, 'ingest_busy')).toBe(true);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0);
      // Health and the admin API still answer.
      expect((await call(busy.url, '/healthz')).status).toBe(200);
      // The clients give up: their places are free again.
      for (const s of sockets.splice(0)) s.destroy();
      const ok = await waitFor(
        async () => {
          const r = await one();
          return r.status === 202 ? r : undefined;
        },
        { timeout: 10_000, interval: 100, what: '202 once the slow bodies are gone' },
      );
      expect(ok.json).toMatchObject({ accepted: 1, rejected: 0 });
    } finally {
      for (const s of sockets) s.destroy();
      await busy.close();
      await cleanup(redis, p2);
    }
  });
});

describe('path parameters: a pasted token', () => {
  it('a 3 000-character token as a session id is looked up (404 in the API’s shape); one over 8 KiB is a 400 that never quotes it', async () => {
    const jwt = `eyJhbGciOiJFUzI1NiJ9.${'a'.repeat(3000)}.sig`;
    expect(isApiError(await call(w.url, `/v1/sessions/${jwt}`, { token: w.cfg.adminToken }), 404, 'not_found')).toBe(true);
    const long = `eyJhbGciOiJFUzI1NiJ9.${'b'.repeat(9000)}.sig`;
    const r = await call(w.url, `/v1/sessions/${long}`, { token: w.cfg.adminToken });
    expect(isApiError(r, 400, 'bad_request')).toBe(true);
    expect(r.text).not.toContain('bbbbbbbb');
  });
});
