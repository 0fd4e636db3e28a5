/**
 * `/.well-known/ssf-configuration/<path>` (public) reads the client's path in linear time: a run
 * of `/`s (found by a black-box review: 15 000 of them cost 200 ms of the event loop per request,
 * with no token) is answered at once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { call, isApiError, startApiWorker, type ApiWorker } from './helpers.js';
import { trimTrailingSlashes } from '../../src/text.js';

const prefix = testPrefix('api-wk-path');
const redis = redisClient();
let w: ApiWorker;

beforeAll(async () => {
  w = await startApiWorker(prefix, { issuer: 'https://riskstream.example.com/t1' });
});

afterAll(async () => {
  await w?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('SSF metadata under the issuer path', () => {
  it('a path of many slashes is refused at once (404), without a token', async () => {
    const t = performance.now();
    for (let i = 0; i < 5; i++) {
      const r = await call(w.url, `/.well-known/ssf-configuration/${'/'.repeat(15_000)}x`);
      expect(isApiError(r, 404, 'not_found')).toBe(true);
    }
    expect(performance.now() - t).toBeLessThan(300);
  });

  it('the issuer path, with or without trailing slashes, still answers', async () => {
    for (const path of ['/.well-known/ssf-configuration/t1', '/.well-known/ssf-configuration/t1/', '/.well-known/ssf-configuration/t1///']) {
      const r = await call(w.url, path);
      expect(r.status, path).toBe(200);
      expect(r.json.issuer).toBe('https://riskstream.example.com/t1');
      expect(r.json.jwks_uri).toBe('https://riskstream.example.com/t1/.well-known/jwks.json');
    }
  });

  it('trimTrailingSlashes: linear, and as the pattern it replaces', () => {
    for (const s of ['', '/', '///', 'a', 'a/', 'a//', '/a/b/', 'https://h/p//', 'x/y']) expect(trimTrailingSlashes(s), s).toBe(s.replace(/\/+$/, ''));
    const t = performance.now();
    expect(trimTrailingSlashes(`${'/'.repeat(1_000_000)}x`)).toHaveLength(1_000_001);
    expect(performance.now() - t).toBeLessThan(100);
  });
});
