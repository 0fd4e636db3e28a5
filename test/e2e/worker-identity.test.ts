/**
 * A claimed worker identity (`<host>-<n>`, no explicit id) stays claimed while its worker runs:
 * a second worker started on the same host and prefix later than the claim's ttl gets its own
 * identity, and the two share the partitions instead of taking each other's leases. A worker whose
 * explicit id a newer process takes over stops processing and says so on `/readyz`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const prefix = testPrefix('worker-identity');
const keys = new Keys(prefix);
const redis = redisClient();
const workers: WorkerProcess[] = [];
let cfg: TestConfig;

/** Without RISKSTREAM_WORKER_ID / RISKSTREAM_CONSUMER: each worker claims an identity. */
const NO_ID = { RISKSTREAM_WORKER_ID: '', RISKSTREAM_CONSUMER: '' };

beforeAll(async () => {
  cfg = await writeTestConfig(prefix); // engine.lease_ttl 2s: a claim not renewed expires within 2 s
});

afterAll(async () => {
  for (const w of workers) await w.stop();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

async function owned(w: WorkerProcess): Promise<number> {
  const text = await (await fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${cfg.adminToken}` } })).text();
  return Number(/^riskstream_engine_partitions_owned (\d+)$/m.exec(text)?.[1]);
}

describe('claimed worker identity', () => {
  it('is kept while the worker runs: a worker started after the claim ttl gets another id; the two split the partitions', async () => {
    workers.push(await spawnWorker(cfg.dir, NO_ID));
    const claims = async (): Promise<string[]> => (await redis.keys(`${keys.engineWorkerId('*')}`)).sort();
    const first = await waitFor(async () => ((await claims()).length === 1 ? claims() : undefined), { what: 'the first claim' });
    // Well past the claim's ttl (2 s): still held.
    const t0 = Date.now();
    await waitFor(() => Date.now() - t0 > 3000, { interval: 200, what: '3 s' });
    expect(await claims()).toEqual(first);
    workers.push(await spawnWorker(cfg.dir, NO_ID));
    await waitFor(async () => (await claims()).length === 2, { what: 'a second, distinct claim' });
    expect(await redis.zcard(keys.engineMembers)).toBe(2);
    const split = await waitFor(
      async () => {
        const o = await Promise.all(workers.map(owned));
        return o.every((n) => n > 0) && o[0]! + o[1]! === 64 ? o : undefined;
      },
      { what: 'the partitions split between the two workers' },
    );
    expect(split).toHaveLength(2);
  }, 40_000);

  it('taken over by a newer process with the same explicit id: the older stops processing and /readyz says why (503); the newer is ready and owns everything', async () => {
    const id = { RISKSTREAM_WORKER_ID: 'twin', RISKSTREAM_CONSUMER: '' };
    type Body = { checks: Record<string, boolean>; reasons?: Record<string, string>; codes?: Record<string, string> };
    const ready = async (w: WorkerProcess): Promise<{ status: number; body: Body }> => {
      const r = await fetch(`${w.url}/readyz`);
      return { status: r.status, body: (await r.json()) as Body };
    };
    for (const w of workers.splice(0)) await w.stop();
    const older = await spawnWorker(cfg.dir, id);
    workers.push(older);
    await waitFor(async () => (await ready(older)).status === 200, { what: 'the first twin ready' });
    const newer = await spawnWorker(cfg.dir, id);
    workers.push(newer);
    const halted = await waitFor(
      async () => {
        const r = await ready(older);
        return r.status === 503 ? r : undefined;
      },
      { what: 'the older twin not ready' },
    );
    expect(halted.body.checks.consumer_group).toBe(false);
    expect(halted.body.reasons?.consumer_group).toMatch(/superseded|taken/);
    expect(halted.body.reasons?.consumer_group).toContain('twin');
    expect(halted.body.codes?.consumer_group).toBe('stopped');
    expect(await owned(older)).toBe(0);
    await waitFor(async () => (await ready(newer)).status === 200 && (await owned(newer)) === 64, { what: 'the newer twin ready, owning all' });
    expect(older.output()).toMatch(/stopped processing/);
  }, 60_000);
});
