/**
 * `http.redis_timeout` on the API alone (its own redis-server): a request slower than the timeout
 * while Redis answers PING (an owner applying a reset, a large page) is not cut off; one waiting
 * on a stalled Redis (`SIGSTOP`) gets 503 `unavailable` with `Retry-After` and its
 * `req.redisDeadline` aborted, within the timeout plus the 1 s PING; after `SIGCONT` it answers again.
 */
import pino from 'pino';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { TokenSet } from '../../src/api/auth.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import type { Config } from '../../src/config/load.js';
import { pingProblem, PING_TIMEOUT_MS } from '../../src/runtime/readiness.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { call } from './helpers.js';

const ADMIN = 'deadline-admin-token-0123456789abcdef';
const TIMEOUT_MS = 600;
let server: PrivateRedis;
let app: FastifyInstance;
let url: string;
const aborted: unknown[] = [];

beforeAll(async () => {
  server = await startPrivateRedis();
  const redis = server.client;
  const config = {
    raw: riskstreamSchema.parse({ redis: { prefix: 'deadline' }, http: { redis_timeout: `${TIMEOUT_MS}ms` } }),
    prefix: 'deadline',
  } as unknown as Config;
  app = await buildServer(
    {
      config: () => config,
      tokens: new TokenSet([ADMIN], []),
      logger: pino({ level: 'silent' }),
      redisUp: () => redis.status === 'ready',
      redisProblem: () => pingProblem(redis, PING_TIMEOUT_MS),
    },
    [
      (a) => {
        a.get('/v1/read', async (req) => {
          req.redisDeadline?.addEventListener('abort', () => aborted.push(req.redisDeadline?.reason));
          return { value: await redis.get('deadline:key') };
        });
        // Slower than the timeout, Redis answering all along.
        a.get('/v1/slow', async () => {
          await new Promise((r) => setTimeout(r, TIMEOUT_MS * 2.5));
          return { value: await redis.get('deadline:key') };
        });
      },
    ],
  );
  url = await app.listen({ port: 0, host: '127.0.0.1' });
  await redis.set('deadline:key', 'v');
}, 20_000);

afterAll(async () => {
  await server?.stop();
  await app?.close();
});

it('cuts off only a request waiting on a Redis that does not answer PING: 503 unavailable, Retry-After, then answers again', async () => {
  const slow = await call(url, '/v1/slow', { token: ADMIN });
  expect(slow).toMatchObject({ status: 200, json: { value: 'v' } });

  server.stall();
  const t0 = Date.now();
  const r = await call(url, '/v1/read', { token: ADMIN });
  const ms = Date.now() - t0;
  expect(r).toMatchObject({ status: 503, json: { error: 'unavailable', message: expect.stringMatching(/Redis is not answering/) } });
  expect(r.headers.get('retry-after')).toBe('5');
  expect(ms).toBeGreaterThanOrEqual(TIMEOUT_MS);
  expect(ms).toBeLessThan(TIMEOUT_MS + PING_TIMEOUT_MS + 1500);
  expect(aborted).toEqual([expect.objectContaining({ code: 'UNAVAILABLE' })]);

  server.resume();
  expect(await call(url, '/v1/read', { token: ADMIN })).toMatchObject({ status: 200, json: { value: 'v' } });
}, 20_000);
