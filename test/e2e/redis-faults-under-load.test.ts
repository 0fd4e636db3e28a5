/**
 * Redis faults under a running worker while input keeps arriving (docs/operations.md "When Redis
 * loses its data", "Health and readiness"): stalled (SIGSTOP) past the engine's leases, and
 * `kill -9`ed and restarted with AOF `appendfsync always`. Each time `/readyz` answers 503 while
 * Redis is away and 200 once the worker works again, and the result equals a fault-free run of
 * the same input: the same levels, versions and risk-event history, SETs in per-user order ending
 * on the same levels. The worker and the feeder use a redis-server of the file's own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { engineWorkload, padded } from '../helpers/engine-workload.js';
import * as er from '../helpers/engine-run.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import type { WorkerProcess } from '../helpers/worker.js';

const ENGINE = { partitions: 16, commit_interval: '50ms', commit_entries: 5000, lease_ttl: '2s', heartbeat: '500ms', read_count: 2000 };
const wl = padded(engineWorkload({ users: 60, seed: 31, sessions: true }), 6);
const runs: er.EngineRun[] = [];
let server: PrivateRedis;
let ref: er.Reference;

beforeAll(async () => {
  server = await startPrivateRedis({ aof: true });
  // The workers this file spawns (they inherit the environment) use it; REDIS_URL wins over the config.
  process.env.REDIS_URL = server.url;
}, 30_000);

afterAll(async () => {
  server.resume();
  for (const run of runs) await er.disposeRun(server.client, run).catch(() => undefined);
  await server.stop();
}, 60_000);

const readyz = async (w: WorkerProcess): Promise<number> => (await fetch(`${w.url}/readyz`, { signal: AbortSignal.timeout(5000) })).status;

/** A run whose input arrives in 8 chunks; `fault` runs after the third. Returns `/readyz` during the fault. */
async function faultyRun(name: string, fault: (w: WorkerProcess) => Promise<number>): Promise<{ run: er.EngineRun; during: number }> {
  const run = await er.newEngineRun(name, ENGINE);
  runs.push(run);
  const w = await er.startEngineWorker(run, `${name}-1`);
  expect(await readyz(w)).toBe(200);
  const input = er.feedInBackground(server.client, run, wl.events, 8, 700);
  await waitFor(() => input.fed() >= 3, { timeout: 30_000, what: 'three chunks fed' });
  await new Promise((r) => setTimeout(r, 100)); // the worker is busy with them
  const during = await fault(w);
  await waitFor(async () => (await readyz(w)) === 200, { timeout: 20_000, what: `${name}: /readyz 200 again` });
  await input.done;
  return { run, during };
}

describe('Redis faults under load', () => {
  it('fault-free reference', async () => {
    const r = await er.stoppedReference(server.client, wl, ENGINE, 'rf-ref');
    runs.push(r.run);
    expect(r.problems).toEqual([]);
    ref = r;
  }, 90_000);

  it('Redis stalled past the leases: /readyz 503, then 200; the fault-free result', async () => {
    const { run, during } = await faultyRun('rf-stall', async (w) => {
      server.stall();
      await new Promise((r) => setTimeout(r, 1500));
      const status = await readyz(w);
      await new Promise((r) => setTimeout(r, 3000)); // 4.5 s: past lease_ttl (2 s)
      server.resume();
      return status;
    });
    expect(during).toBe(503);
    expect(await er.versusReference(server.client, run, wl, ref, 'redis stalled')).toEqual(er.MATCHES);
  }, 120_000);

  it('Redis kill -9 and restarted (AOF, appendfsync always): /readyz 503, then 200; the fault-free result', async () => {
    const { run, during } = await faultyRun('rf-kill', async (w) => {
      await server.kill();
      await new Promise((r) => setTimeout(r, 1500));
      const status = await readyz(w);
      await server.restart();
      return status;
    });
    expect(during).toBe(503);
    expect(await er.versusReference(server.client, run, wl, ref, 'redis killed')).toEqual(er.MATCHES);
  }, 120_000);
});
