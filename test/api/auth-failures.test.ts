/**
 * Failed authentication is visible and bounded: every failure is counted by reason
 * (`riskstream_api_auth_failures_total`), and a client address that sent `http.auth_failures.limit`
 * unknown tokens within the window is answered 429 `auth_throttled` with Retry-After — before its
 * token is checked, a valid one too — until the block is over, on a frozen clock. Other addresses
 * (told apart only through `http.trust_proxy`'s proxies: a client's own X-Forwarded-For is ignored)
 * are not affected, and a client on the worker's own host (loopback) is counted and logged but never
 * refused. Real fastify servers on loopback, remote clients named by a trusted proxy's
 * X-Forwarded-For; the worker-level case on real Redis.
 */
import type { FastifyInstance } from 'fastify';
import { Writable } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { TokenSet } from '../../src/api/auth.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import type { Config } from '../../src/config/load.js';
import { Metrics } from '../../src/obs/metrics.js';
import { createLogger } from '../../src/obs/logger.js';
import { apiWorkerFor, call, isApiError } from './helpers.js';

const ADMIN = 'authfail-admin-token-0123456789abcdef';
const INGEST = 'authfail-ingest-token-0123456789abcdef';
const WRONG = 'authfail-wrong-token-0123456789abcdef';
/** A client beyond the trusted proxy (the test's loopback connection). */
const REMOTE = '198.51.100.20';

/** `call`, as a request the trusted proxy forwards from `ip` (its X-Forwarded-For). */
function callFrom(ip: string): typeof call {
  return (url, path, opts = {}) => call(url, path, { ...opts, headers: { 'x-forwarded-for': ip, ...(opts.headers ?? {}) } });
}

/** A server with one admin route and one ingest route, 3 failures a minute, a 5 minute block, on a clock the test moves. */
async function server(http: Record<string, unknown>): Promise<{
  app: FastifyInstance;
  url: string;
  metrics: Metrics;
  logs: Array<Record<string, unknown>>;
  advance(ms: number): void;
  reload(http: Record<string, unknown>): void;
}> {
  let t = Date.parse('2026-12-07T12:00:00Z');
  const raw = riskstreamSchema.parse({ http: { auth_failures: { limit: 3, window: '1m', block: '5m' }, ...http } });
  let config = { raw } as unknown as Config;
  const metrics = new Metrics(false);
  const logs: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const line of chunk.toString().split('\n')) if (line) logs.push(JSON.parse(line) as Record<string, unknown>);
      done();
    },
  });
  const app = await buildServer({ config: () => config, tokens: new TokenSet([ADMIN], [INGEST]), logger: createLogger('info', sink), metrics, now: () => t }, [
    (a) => {
      a.get('/v1/ping', async () => ({ ok: true }));
      a.post('/v1/in', { config: { scope: 'ingest' } }, async () => ({ ok: true }));
      a.get('/healthz', { config: { scope: 'public' } }, async () => ({ status: 'ok' }));
    },
  ]);
  const url = await app.listen({ port: 0, host: '127.0.0.1' });
  return {
    app,
    url,
    metrics,
    logs,
    advance: (ms) => void (t += ms),
    reload: (h) => void (config = { raw: riskstreamSchema.parse({ http: h }) } as unknown as Config),
  };
}

/** A {@link server} started before a describe's tests and closed after them; `srv()` is it. */
function serverFor(http: Record<string, unknown>): () => Awaited<ReturnType<typeof server>> {
  let s: Awaited<ReturnType<typeof server>> | undefined;
  beforeAll(async () => {
    s = await server(http);
  });
  afterAll(async () => {
    await s?.app.close();
  });
  return () => s!;
}

async function counter(metrics: Metrics, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = metrics.registry.getSingleMetric(name);
  const { values } = await m!.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((s, v) => s + v.value, 0);
}

describe('failed authentication: counted and throttled per client address', () => {
  const srv = serverFor({ trust_proxy: ['loopback'] });
  const call = callFrom(REMOTE);

  it('counts failures by reason; blocks an address after 3 unknown tokens, before checking its token, until the block ends', async () => {
    const s = srv();
    const m = s.metrics;
    expect(isApiError(await call(s.url, '/v1/ping'), 401, 'unauthorized')).toBe(true);
    expect(isApiError(await call(s.url, '/v1/ping', { token: INGEST }), 403, 'forbidden')).toBe(true);
    expect(await counter(m, 'riskstream_api_auth_failures_total', { reason: 'missing' })).toBe(1);
    expect(await counter(m, 'riskstream_api_auth_failures_total', { reason: 'forbidden' })).toBe(1);
    // Neither a missing token nor a valid one of another scope counts towards a block.
    for (let i = 0; i < 5; i++) expect((await call(s.url, '/v1/ping')).status).toBe(401);
    expect((await call(s.url, '/v1/ping', { token: ADMIN })).status).toBe(200);

    // Three unknown tokens (one on an unknown path): blocked.
    expect(isApiError(await call(s.url, '/v1/ping', { token: WRONG }), 401, 'unauthorized')).toBe(true);
    expect(isApiError(await call(s.url, '/no/such/route', { token: WRONG }), 401, 'unauthorized')).toBe(true);
    expect(isApiError(await call(s.url, '/v1/in', { method: 'POST', token: WRONG }), 401)).toBe(true);
    expect(await counter(m, 'riskstream_api_auth_failures_total', { reason: 'invalid' })).toBe(3);
    expect(await counter(m, 'riskstream_api_auth_blocks_total')).toBe(1);

    // Refused now, whatever the token — the admin one too; the path unknown or not.
    for (const r of [
      await call(s.url, '/v1/ping', { token: ADMIN }),
      await call(s.url, '/v1/ping', { token: WRONG }),
      await call(s.url, '/v1/ping'),
      await call(s.url, '/no/such/route', { token: ADMIN }),
      await call(s.url, '/v1/in', { method: 'POST', token: INGEST }),
    ]) {
      expect(isApiError(r, 429, 'auth_throttled')).toBe(true);
      expect(r.headers.get('retry-after')).toBe('300');
      expect(r.headers.get('www-authenticate')).toBeNull();
    }
    // Checked tokens were not counted again; refusals are.
    expect(await counter(m, 'riskstream_api_auth_failures_total', { reason: 'invalid' })).toBe(3);
    expect(await counter(m, 'riskstream_api_auth_throttled_total')).toBe(5);
    // Public routes answer anyway.
    expect((await call(s.url, '/healthz')).status).toBe(200);

    s.advance(299_500);
    const late = await call(s.url, '/v1/ping', { token: ADMIN });
    expect(isApiError(late, 429, 'auth_throttled')).toBe(true);
    expect(late.headers.get('retry-after')).toBe('1');
    s.advance(500);
    expect((await call(s.url, '/v1/ping', { token: ADMIN })).status).toBe(200);
    // A fresh window: one more unknown token is a 401, not a block.
    expect((await call(s.url, '/v1/ping', { token: WRONG })).status).toBe(401);
    expect((await call(s.url, '/v1/ping', { token: ADMIN })).status).toBe(200);
  });

  it('logs failures at warn, once a minute per kind: address and route, the actor only of a valid token, never a token', () => {
    const s = srv();
    const warn = s.logs.filter((l) => l.level === 40);
    const of = (msg: RegExp) => warn.filter((l) => msg.test(String(l.msg)));
    // 4 unknown tokens within the first minutes (the frozen clock moved 5 min once): 2 lines, then held back.
    const unknown = of(/^unknown bearer token/);
    expect(unknown.length).toBe(2);
    expect(unknown[0]).toMatchObject({ reason: 'invalid', address: REMOTE, method: 'GET', route: '/v1/ping', scope: 'admin', repeats_not_logged: 0 });
    expect(unknown[0]).not.toHaveProperty('actor');
    expect(unknown[1]).toMatchObject({ repeats_not_logged: 2 });
    const forbidden = of(/^bearer token without the scope/);
    expect(forbidden).toHaveLength(1);
    expect(forbidden[0]).toMatchObject({ reason: 'forbidden', address: REMOTE, route: '/v1/ping', scope: 'admin' });
    expect(forbidden[0]!.actor).toMatch(/^token:[0-9a-f]{8}$/);
    expect(of(/^client address refused/)).toEqual([expect.objectContaining({ address: REMOTE, limit: 3 })]);
    // A missing token is counted, not logged.
    expect(warn.every((l) => l.reason !== 'missing')).toBe(true);
    const all = JSON.stringify(s.logs);
    for (const t of [WRONG, ADMIN, INGEST]) expect(all).not.toContain(t);
  });
});

describe('a client on this host (loopback), no trusted proxy', () => {
  const srv = serverFor({});

  it('is counted and logged, never refused; its own X-Forwarded-For is not believed', async () => {
    const s = srv();
    for (let i = 0; i < 6; i++) {
      const r = await call(s.url, '/v1/ping', { token: WRONG, headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(isApiError(r, 401, 'unauthorized')).toBe(true);
    }
    expect((await call(s.url, '/v1/ping', { token: ADMIN })).status).toBe(200);
    expect(await counter(s.metrics, 'riskstream_api_auth_failures_total', { reason: 'invalid' })).toBe(6);
    expect(await counter(s.metrics, 'riskstream_api_auth_blocks_total')).toBe(0);
    expect(await counter(s.metrics, 'riskstream_api_auth_throttled_total')).toBe(0);
    const unknown = s.logs.filter((l) => l.level === 40 && /^unknown bearer token/.test(String(l.msg)));
    expect(unknown).toEqual([expect.objectContaining({ address: '127.0.0.1' })]);
  });
});

describe('behind a trusted proxy (http.trust_proxy)', () => {
  const srv = serverFor({ trust_proxy: ['loopback'] });

  it("counts the address the proxy names: one client's block leaves the others alone", async () => {
    const s = srv();
    const from = (ip: string) => ({ 'x-forwarded-for': ip });
    for (let i = 0; i < 3; i++) expect((await call(s.url, '/v1/ping', { token: WRONG, headers: from('198.51.100.7') })).status).toBe(401);
    expect(isApiError(await call(s.url, '/v1/ping', { token: ADMIN, headers: from('198.51.100.7') }), 429, 'auth_throttled')).toBe(true);
    expect((await call(s.url, '/v1/ping', { token: ADMIN, headers: from('198.51.100.8') })).status).toBe(200);
    // The proxy's own address (no X-Forwarded-For) is another client too.
    expect((await call(s.url, '/v1/ping', { token: ADMIN })).status).toBe(200);
    expect(
      (await call(s.url, '/v1/in', { method: 'POST', token: INGEST, body: '{}', headers: { ...from('198.51.100.8'), 'content-type': 'application/json' } }))
        .status,
    ).toBe(200);
  });
});

describe('http.auth_failures is read at every failure (a reload applies at once)', () => {
  const srv = serverFor({ trust_proxy: ['loopback'] });
  const call = callFrom(REMOTE);

  it('limit 0 never refuses; a lower limit refuses from the next failure on', async () => {
    const s = srv();
    s.reload({ trust_proxy: ['loopback'], auth_failures: { limit: 0 } });
    for (let i = 0; i < 5; i++) expect((await call(s.url, '/v1/ping', { token: WRONG })).status).toBe(401);
    expect(await counter(s.metrics, 'riskstream_api_auth_failures_total', { reason: 'invalid' })).toBe(5);
    s.reload({ trust_proxy: ['loopback'], auth_failures: { limit: 1, block: '2m' } });
    expect((await call(s.url, '/v1/ping', { token: WRONG })).status).toBe(401);
    const r = await call(s.url, '/v1/ping', { token: ADMIN });
    expect(isApiError(r, 429, 'auth_throttled')).toBe(true);
    expect(r.headers.get('retry-after')).toBe('120');
  });
});

describe('a worker (real Redis): settings from riskstream.yaml, failures in GET /metrics', () => {
  const api = apiWorkerFor('api-auth-failures', { http: { trust_proxy: ['loopback'], auth_failures: { limit: 2, window: '1m', block: '10m' } } });
  const call = callFrom(REMOTE);

  it('blocks after http.auth_failures.limit unknown tokens; the metrics say so', async () => {
    const w = api.worker();
    const before = await call(w.url, '/metrics', { token: w.cfg.adminToken });
    expect(before.status).toBe(200);
    expect((await call(w.url, '/v1/users', { token: WRONG })).status).toBe(401);
    expect((await call(w.url, '/v1/users', { token: WRONG })).status).toBe(401);
    const refused = await call(w.url, '/metrics', { token: w.cfg.adminToken });
    expect(isApiError(refused, 429, 'auth_throttled')).toBe(true);
    expect(refused.headers.get('retry-after')).toBe('600');
    const text = w.worker.metrics.registry;
    const body = await text.metrics();
    expect(body).toMatch(/^riskstream_api_auth_failures_total\{reason="invalid"\} 2$/m);
    expect(body).toMatch(/^riskstream_api_auth_blocks_total 1$/m);
    expect(body).toMatch(/^riskstream_api_auth_throttled_total 1$/m);
    expect(body).not.toContain(WRONG);
  });
});
