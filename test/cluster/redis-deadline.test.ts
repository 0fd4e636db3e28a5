/**
 * `http.redis_timeout` on a Redis Cluster: a request waiting on one stalled master (`SIGSTOP`, for
 * less than the cluster's node timeout: no failover) gets 503 `unavailable` after the timeout and
 * one PING round, whichever master the probe would have picked: every master is PINGed
 * (src/runtime/readiness.ts), not one at random. `SIGCONT` in every case; the cluster is left healthy.
 */
import type { Cluster } from 'ioredis';
import type { FastifyInstance } from 'fastify';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildServer } from '../../src/api/server.js';
import { TokenSet } from '../../src/api/auth.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import type { Config } from '../../src/config/load.js';
import { pingProblem, PING_TIMEOUT_MS } from '../../src/runtime/readiness.js';
import { clusterClient, nodeOfKey, requireCluster, waitHealthy, withNode } from '../helpers/cluster.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/redis-deadline');
const prefix = testPrefix('cluster-deadline');
const ADMIN = 'cluster-deadline-admin-0123456789abcdef';
const TIMEOUT_MS = 500;
const KEY = `${prefix}:key`;

describe.skipIf(!up)('http.redis_timeout on a Redis Cluster', () => {
  let cluster: Cluster;
  let app: FastifyInstance;
  let url: string;

  beforeAll(async () => {
    cluster = clusterClient();
    await cluster.set(KEY, 'v');
    const config = {
      raw: riskstreamSchema.parse({ redis: { prefix }, http: { redis_timeout: `${TIMEOUT_MS}ms` } }),
      prefix,
    } as unknown as Config;
    app = await buildServer(
      {
        config: () => config,
        tokens: new TokenSet([ADMIN], []),
        logger: pino({ level: 'silent' }),
        redisUp: () => cluster.status === 'ready',
        redisProblem: () => pingProblem(cluster, PING_TIMEOUT_MS),
      },
      [(a) => void a.get('/v1/read', async () => ({ value: await cluster.get(KEY) }))],
    );
    url = await app.listen({ port: 0, host: '127.0.0.1' });
  }, 20_000);

  afterAll(async () => {
    await app?.close();
    if (!cluster) return;
    await cluster.del(KEY).catch(() => undefined);
    cluster.disconnect();
  });

  it('a request waiting on a stalled master gets 503 after the timeout and one PING; every master is PINGed', async () => {
    expect(await pingProblem(cluster, PING_TIMEOUT_MS)).toBeUndefined();
    const port = await nodeOfKey(KEY, cluster);
    const pid = Number(/^process_id:(\d+)/m.exec(await withNode(port, (n) => n.info('server')))?.[1]);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid, 'SIGSTOP');
    try {
      const started = Date.now();
      const answer = fetch(`${url}/v1/read`, { headers: { authorization: `Bearer ${ADMIN}` } });
      // Six probes at once: a PING sent to one random master would miss the stalled one 2 times in 3.
      const problems = await Promise.all(Array.from({ length: 6 }, () => pingProblem(cluster, PING_TIMEOUT_MS)));
      expect(problems.filter((p) => p === undefined)).toEqual([]);
      for (const p of problems) expect(p).toContain(`:${port}`);
      const res = await answer;
      const took = Date.now() - started;
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { error: string }).error).toBe('unavailable');
      // One round: the timeout, then a PING that gets no PONG within 1 s (a second round would add
      // both again: ≥ 3 s); the margin is for a loaded machine's late timers.
      expect(took).toBeLessThan(2 * TIMEOUT_MS + 2 * PING_TIMEOUT_MS);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
    await waitHealthy(30_000);
    expect(await pingProblem(cluster, PING_TIMEOUT_MS)).toBeUndefined();
    expect(await cluster.get(KEY)).toBe('v');
  }, 40_000);
});
