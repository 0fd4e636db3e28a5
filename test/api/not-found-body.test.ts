import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { call, isApiError, startApiWorker, type ApiWorker } from './helpers.js';

const prefix = testPrefix('api-404-body');
const redis = redisClient();
let w: ApiWorker;

beforeAll(async () => {
  w = await startApiWorker(prefix);
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** Bodies a caller without a token sends to a path no route answers with that method. */
const BODIES: Array<[string, string]> = [
  ['application/json', 'not json'],
  ['application/xml', '<x/>'],
  ['text/plain', '{"a":'],
];

describe('unknown routes: the token is checked before the body is read (found by a black-box review)', () => {
  it('401 without a token, whatever body comes, on an unknown path and on a known path asked with another method', async () => {
    // Was 400 "Body is not valid JSON…" / 415: the body was buffered and parsed before the token check.
    for (const path of ['/v1/nothing-here', '/ssf/nothing', '/nothing', '/v1/users'])
      for (const [type, body] of BODIES) {
        const r = await call(w.url, path, { method: 'POST', body, headers: { 'content-type': type } });
        expect(isApiError(r, 401, 'unauthorized'), `${path} ${type}`).toBe(true);
      }
  });

  it('with a token, and on public paths, the answer is still 404 / 405, never a body error', async () => {
    const r = await call(w.url, '/v1/nothing-here', {
      method: 'POST',
      token: w.cfg.adminToken,
      body: 'not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(isApiError(r, 404, 'not_found')).toBe(true);
    const users = await call(w.url, '/v1/users', { method: 'POST', token: w.cfg.adminToken, body: '<x/>', headers: { 'content-type': 'application/xml' } });
    expect(isApiError(users, 405, 'method_not_allowed')).toBe(true);
    expect(users.headers.get('allow')).toBe('GET, HEAD');
    const health = await call(w.url, '/healthz', { method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } });
    expect(isApiError(health, 405, 'method_not_allowed')).toBe(true);
    const wellKnown = await call(w.url, '/.well-known/nothing', { method: 'POST', body: 'not json', headers: { 'content-type': 'application/json' } });
    expect(isApiError(wellKnown, 404, 'not_found')).toBe(true);
  });
});
