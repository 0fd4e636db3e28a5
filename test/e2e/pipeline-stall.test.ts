/**
 * `/readyz` and the stall gauges tell the truth about the pipeline as a whole (audit finding): a
 * worker that is not the router counted its idle owner steps as progress, so with the router lease
 * unobtainable (its key turned into a stream by a stray XADD) every worker answered ready while
 * input waited and no user was scored. Two real workers on real Redis: each must answer 503 with
 * `codes.pipeline` naming the stalled stage — the router (its lease key of the wrong type), then a
 * partition (its lease held by a token no worker renews, without a TTL) — and recover on their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { Keys } from '../../src/keys.js';
import { ROUTER_RESOURCE } from '../../src/engine/router.js';
import { partitionResource } from '../../src/engine/lease-keys.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('pipeline-stall');
const PARTITIONS = 8;
const keys = new Keys(prefix, PARTITIONS);
const login = `${prefix}:login`;
let cfg: TestConfig;
const workers: WorkerHandle[] = [];

interface ReadyBody {
  status: string;
  checks: Record<string, boolean>;
  codes?: Record<string, string>;
  stalled?: { router?: { streams: string[]; lag: number; pending: number }; partitions?: { partitions: number[] } };
}

beforeAll(async () => {
  // stall_after above the lease ttl (2 s) plus a rebalance (heartbeat 500 ms), as the docs advise.
  cfg = await writeTestConfig(prefix, { ingest: { stall_after: '3s' }, engine: { partitions: PARTITIONS } });
  // The stray XADD: the router lease key is a stream, so no worker can take the router.
  await redis.xadd(keys.engineLease(ROUTER_RESOURCE), '*', 'oops', '1');
  for (const n of [1, 2]) {
    workers.push(await startWorker({ configPath: cfg.dir, logger: createLogger('silent'), port: 0, host: '127.0.0.1', consumer: `${prefix}-${n}` }));
  }
});
afterAll(async () => {
  for (const w of workers) await w.close();
  cfg?.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

const dlp = (user: string): string =>
  JSON.stringify({ type: 'dlp', user, time: new Date().toISOString(), profile: 'pii', severity: 'critical', action: 'block' });
const ready = async (w: WorkerHandle): Promise<{ status: number; body: ReadyBody }> => {
  const r = await fetch(`${w.url}/readyz`);
  return { status: r.status, body: (await r.json()) as ReadyBody };
};
const level = async (user: string): Promise<string | undefined> => {
  const r = await fetch(`${workers[0]!.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });
  return r.status === 200 ? ((await r.json()) as { level: string }).level : undefined;
};
const metric = async (w: WorkerHandle, line: string): Promise<number | undefined> => {
  const text = await (await fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${cfg.adminToken}` } })).text();
  const row = text.split('\n').find((l) => l.startsWith(`${line} `));
  return row === undefined ? undefined : Number(row.slice(line.length + 1));
};
/** Waits (generously) until every worker answers `/readyz` with `status`, and returns their bodies. */
const allReady = (status: number, what: string): Promise<ReadyBody[]> =>
  waitFor(
    async () => {
      const rs = await Promise.all(workers.map(ready));
      return rs.every((r) => r.status === status) ? rs.map((r) => r.body) : undefined;
    },
    { timeout: 30_000, interval: 200, what },
  );

describe('a stalled pipeline is not ready, on every worker', () => {
  it('the router lease unobtainable while input waits: 503 router_stalled on both workers, gauge 1; recovers once the lease can be taken', async () => {
    await redis.xadd(login, '*', 'event', dlp('waits@example.com'));
    const bodies = await allReady(503, 'both workers 503');
    for (const b of bodies) {
      expect(b.status).toBe('not_ready');
      expect(b.checks.pipeline).toBe(false);
      expect(b.codes?.pipeline).toBe('router_stalled');
      expect(b.stalled?.router?.streams).toContain(login);
    }
    for (const w of workers) expect(await metric(w, 'riskstream_pipeline_stalled{stage="router"}')).toBe(1);
    expect(await level('waits@example.com')).toBeUndefined();

    await redis.del(keys.engineLease(ROUTER_RESOURCE));
    await waitFor(async () => (await level('waits@example.com')) === 'medium' || undefined, { timeout: 30_000, what: 'the waiting user scored' });
    const after = await allReady(200, 'both workers ready again');
    for (const b of after) expect(b.codes?.pipeline).toBeUndefined();
    for (const w of workers) {
      await waitFor(async () => (await metric(w, 'riskstream_pipeline_stalled{stage="router"}')) === 0 || undefined, { what: 'gauge back to 0' });
      expect(await metric(w, 'riskstream_pipeline_stalls_total{stage="router"}')).toBe(1);
    }
  }, 90_000);

  it("a partition's lease held by a token nobody renews (no TTL) while routed entries wait: 503 partitions_stalled naming it; recovers once freed", async () => {
    const user = 'orphan@example.com';
    const p = keys.partitionOf(user);
    // A ghost owner: overwritten under the worker that held it (its renew is refused), and never expiring.
    await redis.set(keys.engineLease(partitionResource(p)), 'ghost-worker#999999');
    await redis.xadd(login, '*', 'event', dlp(user));
    const bodies = await allReady(503, 'both workers 503');
    for (const b of bodies) {
      expect(b.codes?.pipeline).toBe('partitions_stalled');
      expect(b.stalled?.partitions?.partitions).toEqual([p]);
      expect(b.stalled?.router).toBeUndefined(); // the router routed it: not its stall
    }
    for (const w of workers) expect(await metric(w, 'riskstream_pipeline_stalled_partitions')).toBe(1);
    expect(await level(user)).toBeUndefined();

    await redis.del(keys.engineLease(partitionResource(p)));
    await waitFor(async () => (await level(user)) === 'medium' || undefined, { timeout: 30_000, what: 'the partition applied' });
    await allReady(200, 'both workers ready again');
    for (const w of workers) {
      await waitFor(async () => (await metric(w, 'riskstream_pipeline_stalled_partitions')) === 0 || undefined, { what: 'gauge back to 0' });
    }
  }, 90_000);
});
