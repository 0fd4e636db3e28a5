/**
 * "A restarted worker takes its partitions back at once" (README, operations.md § Worker
 * identity), black-box: two workers with the default identity (`<host>-<n>`, no explicit id) and
 * a long `engine.lease_ttl` (60 s); one is killed -9 and started again on the same host. It must
 * own its partitions again and every user's input must be applied long before the dead process's
 * leases could have expired — and the result is the fault-free run's.
 */
import { describe, expect, it } from 'vitest';
import { engineWorkload } from '../helpers/engine-workload.js';
import {
  balanced,
  chunks,
  fileRuns,
  feed,
  killWorker,
  newEngineRun,
  ownership,
  settle,
  startEngineWorker,
  stoppedReference,
  waitApplied,
  differences,
  type EngineRun,
  type Reference,
} from '../helpers/engine-run.js';
import type { WorkerProcess } from '../helpers/worker.js';

const LEASE_TTL_MS = 60_000;
const ENGINE = { partitions: 64, lease_ttl: `${LEASE_TTL_MS / 1000}s`, heartbeat: '1s' };
const NO_ID = { RISKSTREAM_WORKER_ID: '', RISKSTREAM_CONSUMER: '' };
const wl = engineWorkload({ users: 120, seed: 41, sessions: true });
const { runs, redis } = fileRuns();
let ref: Reference;

/** A worker with the default identity (the environment's explicit ids cleared). */
async function defaultWorker(run: EngineRun): Promise<WorkerProcess> {
  const prev = { id: process.env.RISKSTREAM_WORKER_ID, consumer: process.env.RISKSTREAM_CONSUMER };
  Object.assign(process.env, NO_ID);
  try {
    return await startEngineWorker(run);
  } finally {
    process.env.RISKSTREAM_WORKER_ID = prev.id ?? '';
    process.env.RISKSTREAM_CONSUMER = prev.consumer ?? '';
  }
}

describe('a worker restarted on the same host (default identity) takes its partitions back at once', () => {
  it('fault-free reference', async () => {
    const r = await stoppedReference(redis, wl, ENGINE, 'restart-ref');
    runs.push(r.run);
    expect(r.problems).toEqual([]);
    ref = r;
  }, 120_000);

  for (const victim of [0, 1]) {
    it(`worker ${victim + 1} of 2 killed -9 mid-stream and restarted: owns its share and applies all input well before lease_ttl`, async () => {
      expect(ref).toBeDefined();
      const run = await newEngineRun(`restart${victim}`, ENGINE);
      runs.push(run);
      const w = [await defaultWorker(run)];
      w.push(await defaultWorker(run));
      await balanced(run, w, 64, 'two workers');
      const [first, second] = chunks(wl.events, 2);
      await feed(redis, run, first!);
      await killWorker(run, w[victim]!);
      const killedAt = Date.now();
      await feed(redis, run, second!);
      w[victim] = await defaultWorker(run);
      const shares = await balanced(run, w, 64, 'the restarted worker and the survivor');
      await waitApplied(run, wl, LEASE_TTL_MS);
      const ms = Date.now() - killedAt;
      console.log(`restart${victim}: shares ${shares.join('+')}; every user's input applied ${ms} ms after the kill`);
      expect(ms).toBeLessThan(LEASE_TTL_MS);
      const settled = await settle(redis, run, wl);
      expect(await ownership(run, w)).toEqual(shares);
      expect(settled.problems).toEqual([]);
      expect(differences(ref.outcomes, settled.outcomes)).toEqual([]);
    }, 150_000);
  }
});
