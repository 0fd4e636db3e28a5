import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { call, isApiError, startApiWorker, type ApiWorker } from './helpers.js';

const prefix = testPrefix('api-auth');
const redis = redisClient();
const ssfToken = `ssf-${prefix}-0123456789abcdef`;
const metricsToken = `metrics-${prefix}-0123456789abcdef`;
let w: ApiWorker;

beforeAll(async () => {
  w = await startApiWorker(prefix, { http: { ssf_tokens: [ssfToken], metrics_tokens: [metricsToken], request_timeout: '2s' } });
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** A raw TCP connection to the worker (loopback) that keeps its side open: what it received, and when the server ended or closed it. */
function rawConnection(url: string): { socket: Socket; got: () => string; ended: Promise<void>; closed: Promise<void> } {
  const { port, hostname } = new URL(url);
  const socket = connect({ port: Number(port), host: hostname, allowHalfOpen: true });
  socket.on('error', () => undefined);
  let got = '';
  socket.on('data', (d) => (got += d.toString()));
  const ended = new Promise<void>((resolve) => socket.once('end', () => resolve()));
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return { socket, got: () => got, ended, closed };
}

/** Every admin-scope route of docs/interfaces.md §5 (method, path). */
const ADMIN_ROUTES: Array<[string, string]> = [
  ['GET', '/metrics'],
  ['GET', '/v1/users'],
  ['GET', '/v1/users?level=high'],
  ['GET', '/v1/users/alice%40example.com/risk'],
  ['GET', '/v1/users/alice%40example.com/events'],
  ['POST', '/v1/users/alice%40example.com/risk/reset'],
  ['GET', '/v1/sessions'],
  ['GET', '/v1/users/alice%40example.com/sessions'],
  ['GET', '/v1/sessions/s-1'],
  ['DELETE', '/v1/sessions/s-1'],
  ['GET', '/v1/audit'],
];

const PUBLIC_ROUTES = ['/healthz', '/readyz', '/.well-known/jwks.json', '/.well-known/ssf-configuration'];

describe('bearer authentication', () => {
  it('answers are not cached or sniffed (no-store, nosniff), errors too; the JWKS keeps its max-age', async () => {
    for (const [path, token] of [
      ['/v1/users', w.cfg.adminToken],
      ['/v1/sessions', w.cfg.adminToken],
      ['/v1/users', undefined],
      ['/healthz', undefined],
    ] as const) {
      const r = await call(w.url, path, { token });
      expect(r.headers.get('cache-control'), path).toBe('no-store');
      expect(r.headers.get('x-content-type-options'), path).toBe('nosniff');
    }
    expect((await call(w.url, '/.well-known/jwks.json')).headers.get('cache-control')).toBe('public, max-age=300');
  });

  it('public routes need no token', async () => {
    for (const path of PUBLIC_ROUTES) {
      const r = await call(w.url, path);
      expect(r.status, path).toBe(200);
    }
  });

  it.each(ADMIN_ROUTES)('%s %s: 401 without a token or with a bad one, 403 with an ingest token, allowed with the admin token', async (method, path) => {
    const none = await call(w.url, path, { method });
    expect(isApiError(none, 401, 'unauthorized')).toBe(true);
    expect(none.headers.get('www-authenticate')).toMatch(/^Bearer/);

    const bad = await call(w.url, path, { method, token: 'not-a-real-token-0123456789' });
    expect(isApiError(bad, 401, 'unauthorized')).toBe(true);

    const basic = await call(w.url, path, { method, headers: { authorization: `Basic ${Buffer.from(`x:${w.cfg.adminToken}`).toString('base64')}` } });
    expect(isApiError(basic, 401)).toBe(true);

    const ingest = await call(w.url, path, { method, token: w.cfg.ingestToken });
    expect(isApiError(ingest, 403, 'forbidden')).toBe(true);

    const ssf = await call(w.url, path, { method, token: ssfToken });
    expect(isApiError(ssf, 403, 'forbidden')).toBe(true);

    const metrics = await call(w.url, path, { method, token: metricsToken });
    if (path === '/metrics') expect(metrics.status).toBe(200);
    else expect(isApiError(metrics, 403, 'forbidden')).toBe(true);

    const admin = await call(w.url, path, { method, token: w.cfg.adminToken });
    expect([401, 403]).not.toContain(admin.status);
    expect(admin.status).toBeLessThan(500);
  });

  it('the scheme is case-insensitive ("bearer")', async () => {
    const r = await call(w.url, '/v1/users', { headers: { authorization: `bearer ${w.cfg.adminToken}` } });
    expect(r.status).toBe(200);
  });

  it('POST /v1/events takes the ingest token and the admin token, nothing else', async () => {
    const body = JSON.stringify({ type: 'access', user: 'auth-probe@example.com', time: new Date().toISOString(), outcome: 'denied', app: 'payroll' });
    const headers = { 'content-type': 'application/x-ndjson' };
    expect(isApiError(await call(w.url, '/v1/events', { method: 'POST', body, headers }), 401, 'unauthorized')).toBe(true);
    expect(isApiError(await call(w.url, '/v1/events', { method: 'POST', body, headers, token: 'wrong-token-0123456789abcdef' }), 401)).toBe(true);
    const ingest = await call(w.url, '/v1/events', { method: 'POST', body, headers, token: w.cfg.ingestToken });
    expect(ingest.status).toBe(202);
    expect(ingest.json).toMatchObject({ accepted: 1, rejected: 0 });
    const admin = await call(w.url, '/v1/events', { method: 'POST', body, headers, token: w.cfg.adminToken });
    expect(admin.status).toBe(202);
    expect(admin.json).toMatchObject({ accepted: 1, rejected: 0 });
    expect(isApiError(await call(w.url, '/v1/events', { method: 'POST', body, headers, token: ssfToken }), 403, 'forbidden')).toBe(true);
    expect(isApiError(await call(w.url, '/v1/events', { method: 'POST', body, headers, token: metricsToken }), 403, 'forbidden')).toBe(true);
  });

  it('a metrics token reads /metrics (Prometheus text) and opens nothing else: no SSF stream API, no console data', async () => {
    const m = await call(w.url, '/metrics', { token: metricsToken });
    expect(m.status).toBe(200);
    expect(m.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(m.text).toContain('riskstream_');
    expect(isApiError(await call(w.url, '/ssf/streams', { token: metricsToken }), 403, 'forbidden')).toBe(true);
    expect(
      isApiError(
        await call(w.url, '/ssf/streams', { method: 'POST', token: metricsToken, body: '{}', headers: { 'content-type': 'application/json' } }),
        403,
        'forbidden',
      ),
    ).toBe(true);
    expect(isApiError(await call(w.url, '/v1/users/alice%40example.com/risk/reset', { method: 'POST', token: metricsToken }), 403, 'forbidden')).toBe(true);
    expect(isApiError(await call(w.url, '/v1/nothing-here', { token: metricsToken }), 404, 'not_found')).toBe(true);
  });

  it('unknown routes: 401 without a token, 404 JSON with one', async () => {
    expect(isApiError(await call(w.url, '/v1/nothing-here'), 401)).toBe(true);
    expect(isApiError(await call(w.url, '/v1/nothing-here', { token: w.cfg.adminToken }), 404, 'not_found')).toBe(true);
    expect(isApiError(await call(w.url, '/v1/nothing-here', { token: w.cfg.ingestToken }), 404, 'not_found')).toBe(true);
    expect(isApiError(await call(w.url, '/v1/nothing-here', { token: ssfToken }), 404, 'not_found')).toBe(true);
    const wrong = await call(w.url, '/v1/nothing-here', { token: 'wrong-token-0123456789abcdef' });
    expect(isApiError(wrong, 401, 'unauthorized')).toBe(true);
    // As on a real route: a token was sent, it is wrong (found by a black-box review: it said none was sent).
    expect(wrong.json.message).toBe((await call(w.url, '/v1/users', { token: 'wrong-token-0123456789abcdef' })).json.message);
    expect(wrong.json.message).toBe('invalid token');
    expect((await call(w.url, '/v1/users', { method: 'PUT', token: 'wrong-token-0123456789abcdef' })).json.message).toBe('invalid token');
    expect((await call(w.url, '/v1/nothing-here')).json.message).toBe('a bearer token is required');
  });

  it('a route asked with a method it does not answer: 405 method_not_allowed with Allow (after the token check); an unknown path stays 404', async () => {
    const put = await call(w.url, '/v1/users', { method: 'PUT', token: w.cfg.adminToken });
    expect(isApiError(put, 405, 'method_not_allowed')).toBe(true);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
    expect(isApiError(await call(w.url, '/v1/users', { method: 'PUT' }), 401)).toBe(true);
    const risk = await call(w.url, '/v1/users/alice%40example.com/risk', { method: 'DELETE', token: w.cfg.adminToken });
    expect(isApiError(risk, 405, 'method_not_allowed')).toBe(true);
    expect(risk.headers.get('allow')).toBe('GET, HEAD');
    const reset = await call(w.url, '/v1/users/alice%40example.com/risk/reset', { method: 'GET', token: w.cfg.adminToken });
    expect(reset.headers.get('allow')).toBe('POST');
    expect((await call(w.url, '/v1/sessions/s-1', { method: 'PATCH', token: w.cfg.adminToken })).headers.get('allow')).toBe('DELETE, GET, HEAD');
    expect(isApiError(await call(w.url, '/v1/users/alice%40example.com/nothing', { method: 'PUT', token: w.cfg.adminToken }), 404, 'not_found')).toBe(true);
    // A route anyone may read, asked with another method: 405 without a token as with one.
    for (const path of ['/healthz', '/readyz']) {
      const post = await call(w.url, path, { method: 'POST' });
      expect(isApiError(post, 405, 'method_not_allowed'), path).toBe(true);
      expect(post.headers.get('allow')).toBe('GET, HEAD');
    }
  });

  it('what the router and the HTTP parser refuse is in the API’s error shape', async () => {
    // /.well-known/ never asks for a token: an unknown path there is simply not found.
    expect(isApiError(await call(w.url, '/.well-known/nothing'), 404, 'not_found')).toBe(true);
    const put = await call(w.url, '/.well-known/jwks.json', { method: 'PUT' });
    expect(isApiError(put, 405, 'method_not_allowed')).toBe(true);
    expect(put.headers.get('allow')).toBe('GET, HEAD');
    // A repeated query parameter: 400, never an array reaching a route (it was a 500 on /ssf/streams).
    for (const [path, token] of [
      ['/ssf/streams?stream_id=a&stream_id=b', ssfToken],
      ['/ssf/status?stream_id=a&stream_id=a', ssfToken],
      ['/v1/users?level=high&level=low', w.cfg.adminToken],
      ['/v1/audit?limit=1&limit=2', w.cfg.adminToken],
    ] as const) {
      expect(isApiError(await call(w.url, path, { token }), 400, 'bad_request'), path).toBe(true);
    }
    expect(isApiError(await call(w.url, '/ssf/streams?stream_id=x&stream_id=y', { method: 'DELETE', token: ssfToken }), 400, 'bad_request')).toBe(true);
    // A request line beyond node's header limit.
    expect(isApiError(await call(w.url, `/v1/users/${'a'.repeat(70_000)}/risk`, { token: w.cfg.adminToken }), 431, 'header_too_large')).toBe(true);
    // A body of a type no route reads.
    const xml = await call(w.url, '/ssf/streams', { method: 'POST', token: ssfToken, body: '<stream/>', headers: { 'content-type': 'application/xml' } });
    expect(isApiError(xml, 415, 'unsupported_media_type')).toBe(true);
    // JSON sent as text/plain (fetch's default for a string body) or with no type is read as JSON, never
    // as a body without its fields (it was a 400 "stream_id is required"): here the stream is unknown.
    const text = await call(w.url, '/ssf/status', {
      method: 'POST',
      token: ssfToken,
      body: '{"stream_id":"x","status":"enabled"}',
      headers: { 'content-type': 'text/plain' },
    });
    expect(isApiError(text, 404, 'not_found')).toBe(true);
  });

  it('a body trickled slower than http.request_timeout gets 408 and the connection is closed', async () => {
    const { socket, got, closed } = rawConnection(w.url);
    socket.write(
      `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${w.cfg.ingestToken}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 100000\r\n\r\n{"type":`,
    );
    const poke = setInterval(() => socket.writable && socket.write(' '), 200); // a byte now and then, never the whole body
    await closed;
    clearInterval(poke);
    expect(got()).toMatch(/^HTTP\/1\.1 408 /);
    expect(got()).toContain('"error":"request_timeout"');
  }, 20_000);

  it('a malformed request gets a JSON 400 and the connection is closed, though the client keeps its side open', async () => {
    const { socket, got, ended, closed } = rawConnection(w.url);
    socket.write('BLAH\r\n\r\n'); // and never end()
    await ended;
    // The server's side is gone (destroyed), not only half-closed: writing to it fails.
    const poke = setInterval(() => socket.write('x'), 100);
    try {
      await Promise.race([closed, new Promise((_, reject) => setTimeout(() => reject(new Error('the server kept the connection')), 3000))]);
    } finally {
      clearInterval(poke);
      socket.destroy();
    }
    const text = got();
    expect(text).toMatch(/^HTTP\/1\.1 400 /);
    expect(JSON.parse(text.slice(text.indexOf('\r\n\r\n') + 4))).toMatchObject({ error: 'bad_request' });
  });

  it('tokens never appear in answers', async () => {
    for (const path of ['/metrics', '/v1/audit', '/.well-known/ssf-configuration', '/readyz']) {
      const r = await call(w.url, path, { token: w.cfg.adminToken });
      expect(r.text).not.toContain(w.cfg.adminToken);
      expect(r.text).not.toContain(w.cfg.ingestToken);
      expect(r.text).not.toContain(ssfToken);
      expect(r.text).not.toContain(metricsToken);
    }
  });
});

describe('errors never echo a token', () => {
  // A JWT-shaped value (three base64url parts): fingerprinted like everywhere.
  const jwt = `${Buffer.from('{"alg":"ES256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"alice@example.com","exp":1999999999}').toString('base64url')}.${'Q'.repeat(86)}`;

  it.each([
    ['a user', (t: string) => `/v1/users/${encodeURIComponent(t)}/risk`, 'GET'],
    ['a session id', (t: string) => `/v1/sessions/${encodeURIComponent(t)}`, 'DELETE'],
    ['an SSF stream id', (t: string) => `/ssf/streams?stream_id=${encodeURIComponent(t)}`, 'GET'],
    ['an unknown route', (t: string) => `/v1/nothing/${encodeURIComponent(t)}`, 'GET'],
    // A quote before a token in a path: the token is found URL-decoded, the body must stay JSON.
    ['an unknown route with a quote', (t: string) => `/v1/sessions/x%22/${encodeURIComponent(t)}`, 'GET'],
  ])("%s holding one of the worker's own tokens or a JWT: the 4xx body takes it out", async (_what, path, method) => {
    for (const secret of [w.cfg.ingestToken, ssfToken, metricsToken, w.cfg.adminToken, jwt]) {
      const r = await call(w.url, path(secret), { method, token: w.cfg.adminToken });
      expect(r.status, path(secret)).toBeGreaterThanOrEqual(400);
      const body = JSON.stringify(r.json);
      expect(body).not.toContain(secret);
      // Still JSON (a scrubbed value may be URL-decoded: `%22` is a quote).
      expect(r.json).toMatchObject({ error: expect.any(String), message: expect.any(String) });
      // A JWT as a session id is named by its fingerprint, as sessions store it (`jwt-sha256:…`).
      expect(body).toMatch(secret === jwt ? /\[redacted jwt sha256:[0-9a-f]{64}\]|jwt-sha256:[0-9a-f]{64}/ : /\[redacted token\]/);
    }
  });
});
