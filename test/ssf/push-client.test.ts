import { createServer as createHttpServer, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { parseRetryAfter, pushSet } from '../../src/ssf/push-client.js';
import { parseRateLimitReset } from '../../src/ssf/push-response.js';
import { startReceiver, type Answer } from './helpers.js';

// A syntactically valid compact JWS is enough: the test receiver only decodes it.
const SET = 'eyJhbGciOiJFUzI1NiJ9.eyJqdGkiOiJ4In0.c2ln';

const closers: Array<() => Promise<void>> = [];
afterAll(async () => {
  for (const c of closers) await c();
});

async function answerWith(a: Answer | 'hang') {
  const rx = await startReceiver(() => a);
  closers.push(rx.close);
  return rx;
}

describe('parseRetryAfter', () => {
  const now = Date.parse('2026-11-23T08:00:00Z');
  it('reads delta-seconds and HTTP dates', () => {
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 08:00:05 GMT', now)).toBe(5000);
    expect(parseRetryAfter('Mon, 23 Nov 2026 07:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter('soon', now)).toBeUndefined();
    expect(parseRetryAfter(null, now)).toBeUndefined();
  });
});

describe('pushSet (RFC 8935)', () => {
  it('POSTs the compact SET with the RFC 8935 headers and Authorization', async () => {
    const rx = await answerWith({ status: 202 });
    const out = await pushSet({ endpoint: rx.url, set: SET, authorization: 'Bearer s3cret-token', timeoutMs: 2000 });
    expect(out).toEqual({ kind: 'delivered', status: 202 });
    const req = rx.requests[0]!;
    expect(req.body).toBe(SET);
    expect(req.headers['content-type']).toBe('application/secevent+jwt');
    expect(req.headers.accept).toBe('application/json');
    expect(req.headers.authorization).toBe('Bearer s3cret-token');
    expect(JSON.stringify(out)).not.toContain('s3cret');
  });

  it.each<[string, Answer, unknown]>([
    ['204 is delivered', { status: 204 }, { kind: 'delivered', status: 204 }],
    [
      '400 invalid_request is permanent',
      { status: 400, body: { err: 'invalid_request', description: 'bad' } },
      { kind: 'permanent', status: 400, err: 'invalid_request', description: 'bad' },
    ],
    [
      '400 authentication_failed is permanent',
      { status: 400, body: { err: 'authentication_failed' } },
      { kind: 'permanent', status: 400, err: 'authentication_failed' },
    ],
    [
      "400 authentication_failed that blames the signature (Okta's, while it holds an older JWKS) is a key problem",
      { status: 400, body: { err: 'authentication_failed', description: 'Could not verify message signature.' } },
      { kind: 'invalid_key', status: 400, err: 'authentication_failed', description: 'Could not verify message signature.' },
    ],
    [
      '400 authentication_failed for something else stays permanent',
      { status: 400, body: { err: 'authentication_failed', description: 'issuer not registered' } },
      { kind: 'permanent', status: 400, err: 'authentication_failed', description: 'issuer not registered' },
    ],
    ['400 without a body is permanent, no code made up', { status: 400 }, { kind: 'permanent', status: 400 }],
    [
      '400 invalid_key is its own kind',
      { status: 400, body: { err: 'invalid_key', description: 'kid?' } },
      { kind: 'invalid_key', status: 400, err: 'invalid_key', description: 'kid?' },
    ],
    ['401 is unauthorized', { status: 401 }, { kind: 'unauthorized', status: 401 }],
    [
      '401 keeps what the receiver said',
      { status: 401, body: { err: 'authentication_failed', description: 'nope' } },
      { kind: 'unauthorized', status: 401, err: 'authentication_failed', description: 'nope' },
    ],
    ['403 is unauthorized', { status: 403, body: { err: 'access_denied' } }, { kind: 'unauthorized', status: 403, err: 'access_denied' }],
    ['404 is permanent', { status: 404 }, { kind: 'permanent', status: 404 }],
    ['400 with an HTML body: no code', { status: 400, body: '<html>bad</html>' }, { kind: 'permanent', status: 400 }],
    ['302 is not followed', { status: 302, headers: { location: 'http://127.0.0.1:1/' } }, { kind: 'permanent', status: 302 }],
    ['429 with Retry-After seconds', { status: 429, headers: { 'retry-after': '7' } }, { kind: 'rate_limited', status: 429, retryAfterMs: 7000 }],
    ['429 without Retry-After', { status: 429 }, { kind: 'rate_limited', status: 429 }],
    ['503 is retryable', { status: 503 }, { kind: 'retryable', status: 503, reason: 'http', message: 'HTTP 503' }],
    [
      '503 with Retry-After seconds',
      { status: 503, headers: { 'retry-after': '5' } },
      { kind: 'retryable', status: 503, reason: 'http', message: 'HTTP 503', retryAfterMs: 5000 },
    ],
    // A 408 is the receiver's timeout: retried as a 5xx is, and its Retry-After honoured too (contract §4).
    ['408 is retryable', { status: 408 }, { kind: 'retryable', status: 408, reason: 'http', message: 'HTTP 408' }],
    [
      '408 with Retry-After seconds',
      { status: 408, headers: { 'retry-after': '4' } },
      { kind: 'retryable', status: 408, reason: 'http', message: 'HTTP 408', retryAfterMs: 4000 },
    ],
  ])('%s', async (_name, answer, expected) => {
    const rx = await answerWith(answer);
    expect(await pushSet({ endpoint: rx.url, set: SET, timeoutMs: 2000 })).toEqual(expected);
  });

  it('429 with an HTTP-date Retry-After', async () => {
    const now = Date.now();
    const rx = await answerWith({ status: 429, headers: { 'retry-after': new Date(now + 10_000).toUTCString() } });
    const out = await pushSet({ endpoint: rx.url, set: SET, timeoutMs: 2000, now: () => now });
    expect(out.kind).toBe('rate_limited');
    expect((out as { retryAfterMs: number }).retryAfterMs).toBeGreaterThan(8_000);
  });

  it('429 from Okta: its X-Rate-Limit-Reset (epoch seconds) is the wait when Retry-After is absent; Retry-After wins when both come', async () => {
    const now = 1_795_420_800_000;
    const reset = String(now / 1000 + 42);
    const okta = await answerWith({ status: 429, headers: { 'x-rate-limit-limit': '600', 'x-rate-limit-remaining': '0', 'x-rate-limit-reset': reset } });
    expect(await pushSet({ endpoint: okta.url, set: SET, timeoutMs: 2000, now: () => now })).toEqual({
      kind: 'rate_limited',
      status: 429,
      retryAfterMs: 42_000,
    });
    const both = await answerWith({ status: 429, headers: { 'retry-after': '3', 'x-rate-limit-reset': reset } });
    expect(await pushSet({ endpoint: both.url, set: SET, timeoutMs: 2000, now: () => now })).toEqual({ kind: 'rate_limited', status: 429, retryAfterMs: 3000 });
  });

  it.each([
    ['a reset already past', String(1_795_420_800 - 5), 0],
    ['not epoch seconds (a delta)', '30', undefined],
    ['not a number', 'soon', undefined],
  ])('parseRateLimitReset: %s', (_name, value, ms) => {
    expect(parseRateLimitReset(value, 1_795_420_800_000)).toBe(ms);
  });

  it('an Authorization value HTTP cannot carry (CR/LF, a control or non-ASCII character) is a permanent failure, nothing sent, never a throw', async () => {
    const rx = await answerWith({ status: 202 });
    for (const authorization of ['Bearer x\r\nX-Injected: 1', 'Bearer \u0100', 'Bearer x\u0000']) {
      const out = await pushSet({ endpoint: rx.url, set: SET, authorization, timeoutMs: 2000 });
      expect(out).toMatchObject({ kind: 'permanent', err: 'invalid_request' });
      expect(JSON.stringify(out)).not.toContain('Injected');
    }
    expect(rx.requests).toHaveLength(0);
  });

  it('a receiver that does not answer in time is retryable (timeout)', async () => {
    const rx = await answerWith('hang');
    const t0 = Date.now();
    expect(await pushSet({ endpoint: rx.url, set: SET, timeoutMs: 150 })).toMatchObject({ kind: 'retryable', reason: 'timeout' });
    expect(Date.now() - t0).toBeLessThan(2000);
  });

  it('a refused connection is retryable (network)', async () => {
    const srv = createServer();
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    await new Promise((r) => srv.close(r));
    expect(await pushSet({ endpoint: `http://127.0.0.1:${port}/`, set: SET, timeoutMs: 1000 })).toMatchObject({ kind: 'retryable', reason: 'network' });
  });

  it('a push left unanswered after it went out in full is marked sent (the receiver may hold it); one refused, or answered, is not', async () => {
    const hung = await answerWith('hang');
    expect(await pushSet({ endpoint: hung.url, set: SET, timeoutMs: 150 })).toMatchObject({ kind: 'retryable', reason: 'timeout', sent: true });
    const srv = createServer();
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    await new Promise((r) => srv.close(r));
    expect(await pushSet({ endpoint: `http://127.0.0.1:${port}/`, set: SET, timeoutMs: 1000 })).not.toHaveProperty('sent');
    const failing = await answerWith({ status: 503 });
    expect(await pushSet({ endpoint: failing.url, set: SET, timeoutMs: 1000 })).not.toHaveProperty('sent');
  });

  it("a receiver's error text is cut to 256 characters with control characters replaced", async () => {
    const description = `\u001b]0;owned\u0007<script>x</script>\r\n${'A'.repeat(5000)}`;
    const rx = await answerWith({ status: 400, body: { err: `invalid_request\u001b[2J${'e'.repeat(200)}`, description } });
    const out = (await pushSet({ endpoint: rx.url, set: SET, timeoutMs: 2000 })) as { kind: string; err: string; description: string };
    expect(out.kind).toBe('permanent');
    expect(out.description.length).toBeLessThanOrEqual(256);
    expect(out.err.length).toBeLessThanOrEqual(64);
    // eslint-disable-next-line no-control-regex -- the point: no raw control bytes
    for (const text of [out.description, out.err]) expect(text).not.toMatch(/[\u0000-\u001f\u007f-\u009f]/);
    expect(out.description.startsWith(' ]0;owned <script>x</script> AAA')).toBe(true);
  });

  it('a receiver echoing the credential it was sent (or the SET) does not get it recorded', async () => {
    const authorization = 'Bearer rcvsecret-Zq8x7Lm2Pp9Wk3Tt';
    for (const status of [400, 401, 503]) {
      const rx = await answerWith({ status, body: { err: `bad ${authorization}`, description: `credential not accepted: ${authorization}; token ${SET}` } });
      const out = (await pushSet({ endpoint: rx.url, set: SET, authorization, timeoutMs: 2000 })) as Record<string, unknown>;
      const text = JSON.stringify(out);
      expect(text).not.toContain('rcvsecret-Zq8x7Lm2Pp9Wk3Tt');
      expect(text).not.toContain(SET);
      if (status !== 503) expect(out.description).toMatch(/^credential not accepted: \[redacted/);
    }
  });
  it('a receiver echoing a credential its endpoint URL carries (user:password@, a query value such as ?code=) does not get it recorded', async () => {
    const rx = await answerWith({
      status: 401,
      body: { err: 'unauthorized', description: 'rejected /e?code=fnkey-lowercase-0123456789 for user rx-user:rx-pass-0123456789' },
    });
    const endpoint = rx.url.replace('://', '://rx-user:rx-pass-0123456789@') + '?code=fnkey-lowercase-0123456789';
    const out = (await pushSet({ endpoint, set: SET, timeoutMs: 2000 })) as Record<string, unknown>;
    expect(out).toMatchObject({ kind: 'unauthorized', status: 401 });
    const text = JSON.stringify(out);
    expect(text).not.toContain('fnkey-lowercase-0123456789');
    expect(text).not.toContain('rx-pass-0123456789');
    expect(out.description).toContain('[redacted token]');
  });

  it('a receiver echoing its request target: the query credential as the URL spells it (percent-encoded) is not recorded either', async () => {
    // Express-style "Cannot POST <original url>": the query as sent, %2B for a '+' in the key.
    const rx = await answerWith({ status: 401, body: { err: 'unauthorized', description: 'Cannot POST /e?code=fn%2Bkey%2Flower-0123456789' } });
    const out = (await pushSet({ endpoint: `${rx.url}?code=fn%2Bkey%2Flower-0123456789`, set: SET, timeoutMs: 2000 })) as Record<string, unknown>;
    expect(out).toMatchObject({ kind: 'unauthorized', status: 401 });
    expect(JSON.stringify(out)).not.toMatch(/key%2Flower-0123456789/i);
    expect(out.description).toContain('[redacted token]');
  });

  it.each([202, 429, 503])('a %i answer whose body never ends: the connection is closed, not read forever', async (status) => {
    // A receiver (a self-registered stream is anyone with an ssf token) that answers and then
    // streams its body without end would otherwise hold a socket and a core per SET for good.
    let closed = false;
    let sent = 0;
    const srv = createHttpServer((req, res: ServerResponse) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'text/plain', 'retry-after': '1' });
      const chunk = Buffer.alloc(16 * 1024, 'y');
      const pump = (): void => {
        while (!res.destroyed && sent < 1024 ** 3) {
          sent += chunk.length;
          if (!res.write(chunk)) return void res.once('drain', pump);
        }
      };
      res.once('close', () => (closed = true));
      pump();
    });
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    closers.push(() => new Promise((r) => (srv.closeAllConnections(), srv.close(() => r()))));
    const out = await pushSet({ endpoint: `http://127.0.0.1:${port}/`, set: SET, timeoutMs: 1000 });
    expect(out).toMatchObject({ status });
    await waitUntil(() => closed, 5000);
    expect(closed).toBe(true);
    expect(sent).toBeLessThan(64 * 1024 ** 2);
  });

  it('a 202 answer whose body trickles on: the connection is closed once the timeout has passed', async () => {
    let closed = false;
    const srv = createHttpServer((req, res: ServerResponse) => {
      req.resume();
      res.writeHead(202, { 'content-type': 'text/plain' });
      const tick = setInterval(() => res.write('y'), 50);
      res.once('close', () => ((closed = true), clearInterval(tick)));
    });
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    closers.push(() => new Promise((r) => (srv.closeAllConnections(), srv.close(() => r()))));
    expect(await pushSet({ endpoint: `http://127.0.0.1:${port}/`, set: SET, timeoutMs: 500 })).toEqual({ kind: 'delivered', status: 202 });
    await waitUntil(() => closed, 5000);
    expect(closed).toBe(true);
  });
});

describe('pushSet: an error answer whose body does not arrive in time', () => {
  it.each<[number, string]>([
    [400, 'permanent'],
    [404, 'permanent'],
    [401, 'unauthorized'],
    [403, 'unauthorized'],
  ])('%i with a body that trickles past the timeout is classified by its status (%s), not retried as a timeout', async (status, kind) => {
    // RFC 8935 §2.3 / CONTRACT §4: a 400 means the SET will never be accepted; the status line has
    // arrived, so a slow body must not turn the answer into "no answer" (retried to the horizon).
    const srv = createHttpServer((req, res: ServerResponse) => {
      req.resume();
      res.writeHead(status, { 'content-type': 'application/json' });
      res.write('{"err":"invalid_request","description":"');
      const tick = setInterval(() => res.write('x'), 50);
      res.once('close', () => clearInterval(tick));
    });
    const port = await new Promise<number>((r) => srv.listen(0, '127.0.0.1', () => r((srv.address() as { port: number }).port)));
    closers.push(() => new Promise((r) => (srv.closeAllConnections(), srv.close(() => r()))));
    const t0 = Date.now();
    expect(await pushSet({ endpoint: `http://127.0.0.1:${port}/`, set: SET, timeoutMs: 500 })).toEqual({ kind, status });
    expect(Date.now() - t0).toBeLessThan(3000);
  });
});

async function waitUntil(done: () => boolean, ms: number): Promise<void> {
  const until = Date.now() + ms;
  while (!done() && Date.now() < until) await new Promise((r) => setTimeout(r, 25));
}
