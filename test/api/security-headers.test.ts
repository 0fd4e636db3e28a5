/**
 * Every answer of the worker's HTTP server — API JSON (data, errors, 401/404/405), health, metrics,
 * `.well-known`, the console's redirect and 404s, even the HTTP parser's own refusals — carries the
 * headers a security product's answers should: no type sniffing, no referrer, no framing, and a
 * Content-Security-Policy that lets nothing load or run should one be opened as a document
 * (`default-src 'none'; frame-ancestors 'none'; sandbox`). Only X-Content-Type-Options was sent
 * on the API's answers (found by a review of the console: an API answer opened in a tab could be
 * framed, and had no policy of its own). The console's page keeps its own strict CSP, adds
 * Cross-Origin-Opener-Policy; no answer sets a cookie or allows another origin (bearer tokens
 * only: nothing a cross-site request could ride on).
 */
import { connect } from 'node:net';
import { describe, expect, it } from 'vitest';
import { apiWorkerFor, call } from './helpers.js';

const SSF = 'ssf-token-security-headers-0123456789';
const h = apiWorkerFor('api-security-headers', { http: { ssf_tokens: [SSF] } });

/** What every non-console-page answer must carry. */
function expectLockedDown(headers: Headers, what: string): void {
  expect(headers.get('x-content-type-options'), what).toBe('nosniff');
  expect(headers.get('referrer-policy'), what).toBe('no-referrer');
  expect(headers.get('x-frame-options'), what).toBe('DENY');
  const csp = headers.get('content-security-policy') ?? '';
  expect(csp, what).toContain("default-src 'none'");
  expect(csp, what).toContain("frame-ancestors 'none'");
  expect(csp, what).toMatch(/(^|; )sandbox(;|$)/);
  expect(headers.get('set-cookie'), what).toBeNull();
  expect(headers.get('access-control-allow-origin'), what).toBeNull();
}

describe('security headers', () => {
  it('on every API answer: data, errors, health, metrics, .well-known, ingest, the console redirect and 404', async () => {
    const w = h.worker();
    const admin = w.cfg.adminToken;
    const cases: Array<[string, string, string | undefined, string | undefined, number]> = [
      ['GET', '/v1/users', admin, undefined, 200],
      ['GET', '/v1/sessions', admin, undefined, 200],
      ['GET', '/v1/audit', admin, undefined, 200],
      ['GET', '/v1/users/%3Cscript%3E/risk', admin, undefined, 404],
      ['GET', '/v1/users', undefined, undefined, 401],
      ['GET', '/v1/users', w.cfg.ingestToken, undefined, 403],
      ['DELETE', '/v1/users', admin, undefined, 405],
      ['GET', '/v1/nope%3Cscript%3E', admin, undefined, 404],
      ['POST', '/v1/events', w.cfg.ingestToken, '{"type":"login","user":"a@b.c","time":1}', 202],
      ['GET', '/ssf/streams', SSF, undefined, 200],
      ['GET', '/healthz', undefined, undefined, 200],
      ['GET', '/metrics', admin, undefined, 200],
      ['GET', '/.well-known/jwks.json', undefined, undefined, 200],
      ['GET', '/.well-known/ssf-configuration', undefined, undefined, 200],
      ['GET', '/console/nope', undefined, undefined, 404],
    ];
    for (const [method, path, token, body, status] of cases) {
      const what = `${method} ${path}`;
      const r = await call(w.url, path, { method, token, ...(body ? { body, headers: { 'content-type': 'application/json' } } : {}) });
      expect(r.status, what).toBe(status);
      expectLockedDown(r.headers, what);
      // JSON as JSON (never rendered as a page); personal data never cached.
      if (path !== '/metrics') expect(r.headers.get('content-type'), what).toMatch(/^application\/([a-z-]+\+)?json/);
      if (!path.startsWith('/.well-known/')) expect(r.headers.get('cache-control'), what).toBe('no-store');
    }
    const redirect = await fetch(`${w.url}/console`, { redirect: 'manual' });
    expect(redirect.status).toBe(302);
    expectLockedDown(redirect.headers, 'GET /console');
  });

  it("keeps the console page's own strict policy, with Cross-Origin-Opener-Policy", async () => {
    const r = await fetch(`${h.worker().url}/console/`);
    expect(r.status).toBe(200);
    const csp = r.headers.get('content-security-policy') ?? '';
    for (const d of ["default-src 'none'", "script-src 'self'", "style-src 'self'", "base-uri 'none'", "frame-ancestors 'none'"]) expect(csp).toContain(d);
    expect(csp).not.toMatch(/unsafe-|\*|https?:/);
    expect(csp).not.toMatch(/sandbox/);
    expect(r.headers.get('x-frame-options')).toBe('DENY');
    expect(r.headers.get('x-content-type-options')).toBe('nosniff');
    expect(r.headers.get('referrer-policy')).toBe('no-referrer');
    expect(r.headers.get('cross-origin-opener-policy')).toBe('same-origin');
    expect(r.headers.get('set-cookie')).toBeNull();
  });

  it("on the HTTP parser's own refusal (a malformed request)", async () => {
    const { port } = new URL(h.worker().url);
    const raw = await new Promise<string>((resolve, reject) => {
      let out = '';
      const s = connect(Number(port), '127.0.0.1', () => s.write('NOT HTTP AT ALL\r\n\r\n'));
      s.on('data', (d) => (out += d.toString()));
      s.on('end', () => resolve(out));
      s.on('error', reject);
    });
    const [head] = raw.split('\r\n\r\n');
    const lines = head!.split('\r\n');
    expect(lines[0]).toMatch(/^HTTP\/1\.1 400 /);
    const headers = new Headers(lines.slice(1).map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()] as [string, string]));
    expect(headers.get('content-type')).toMatch(/^application\/json/);
    expectLockedDown(headers, 'parser refusal');
  });
});
