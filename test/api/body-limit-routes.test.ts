/**
 * `http.body_limit` (16 MiB by default, for shippers' batches) is `POST /v1/events`'s: the other
 * routes, whose bodies are a few fields of JSON parsed whole — the SSF management calls of an `ssf`
 * token among them —, keep the API's own 5 MiB (src/api/server.ts API_BODY_LIMIT).
 */
import { describe, expect, it } from 'vitest';
import { apiWorkerFor, call } from './helpers.js';

const ssfToken = 'ssf-token-body-limit-routes-0123456789';
const api = apiWorkerFor('api-body-routes', { http: { ssf_tokens: [ssfToken] } });

/** A JSON object body of about `mib` MiB (one long string field). */
const big = (field: string, mib: number): string => JSON.stringify({ [field]: 'x'.repeat(mib * 1024 * 1024) });

describe('body limits at the default http.body_limit (16 MiB)', () => {
  it('a 6 MiB body to an SSF management call or an admin call → 413 payload_too_large, before it is parsed', async () => {
    const headers = { 'content-type': 'application/json' };
    const ssf = await call(api.worker().url, '/ssf/streams', { method: 'POST', token: ssfToken, body: big('description', 6), headers });
    expect([ssf.status, ssf.json?.error]).toEqual([413, 'payload_too_large']);
    const reset = await call(api.worker().url, '/v1/users/x%40example.com/risk/reset', {
      method: 'POST',
      token: api.worker().cfg.adminToken,
      body: big('reason', 6),
      headers,
    });
    expect([reset.status, reset.json?.error]).toEqual([413, 'payload_too_large']);
  });

  it('POST /v1/events still takes a body up to http.body_limit (6 MiB: read, its one oversized record refused)', async () => {
    const r = await call(api.worker().url, '/v1/events', {
      method: 'POST',
      token: api.worker().cfg.ingestToken,
      body: big('note', 6),
      headers: { 'content-type': 'application/json' },
    });
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 0, rejected: 1 });
  });
});
