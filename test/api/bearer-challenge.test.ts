import { describe, expect, it } from 'vitest';
import { apiWorkerFor, call, isApiError } from './helpers.js';

/**
 * RFC 6750 §3 / §3.1 — the scheme the SSF metadata names (`authorization_schemes`:
 * `urn:ietf:rfc:6750`): a request that presented a token the server refuses gets a Bearer challenge
 * naming why — `invalid_token` (401: get a new token) or `insufficient_scope` (403: this token will
 * never do) —, a request without credentials a bare challenge. The challenge said only `Bearer`, and
 * a 403 carried none: a receiver's OAuth client could not tell an expired token (refresh it) from a
 * wrong one (stop), as the OpenID SSF conformance suite checks.
 */
const ssfToken = 'ssf-token-bearer-challenge-0123456789';
const api = apiWorkerFor('api-bearer', { http: { ssf_tokens: [ssfToken] } });

describe('Bearer challenges (RFC 6750 §3.1)', () => {
  it('no credentials: 401 with a bare Bearer challenge (no error code)', async () => {
    const r = await call(api.worker().url, '/ssf/streams');
    expect(isApiError(r, 401, 'unauthorized')).toBe(true);
    expect(r.headers.get('www-authenticate')).toBe('Bearer');
  });

  it('a token the worker does not hold: 401 with error="invalid_token", on a route and on an unknown path alike', async () => {
    for (const path of ['/ssf/streams', '/v1/users', '/no/such/route']) {
      const r = await call(api.worker().url, path, { token: 'not-a-token-of-this-worker-0123' });
      expect(isApiError(r, 401, 'unauthorized'), path).toBe(true);
      expect(r.headers.get('www-authenticate'), path).toBe('Bearer error="invalid_token"');
    }
  });

  it('a valid token without the scope: 403 with error="insufficient_scope" naming the scope needed', async () => {
    const ingest = await call(api.worker().url, '/ssf/streams', { token: api.worker().cfg.ingestToken });
    expect(isApiError(ingest, 403, 'forbidden')).toBe(true);
    expect(ingest.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="ssf"');
    const ssf = await call(api.worker().url, '/v1/users', { token: ssfToken });
    expect(isApiError(ssf, 403, 'forbidden')).toBe(true);
    expect(ssf.headers.get('www-authenticate')).toBe('Bearer error="insufficient_scope", scope="admin"');
  });

  it('a token that is allowed gets no challenge', async () => {
    const r = await call(api.worker().url, '/ssf/streams', { token: ssfToken });
    expect(r.status).toBe(200);
    expect(r.headers.get('www-authenticate')).toBeNull();
  });
});
