/**
 * The frame of the cluster fault tests (test/cluster/failover, reshard, engine-faults,
 * scale-out-in): a one-node client, a cluster client, the fault-free reference run of the
 * workload on one Redis node (the file's first test), and every run disposed after the file.
 */
import type { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { redisClient } from './redis.js';
import { disposeRun, stoppedReference, type EngineRun, type Reference } from './engine-run.js';
import type { Workload } from './engine-workload.js';

/** A cluster fault test file's clients, runs and reference (set by its `beforeAll` and first test). */
export interface ClusterSuite {
  redis: Redis;
  cluster: Cluster;
  /** The fault-free one-node run: undefined until the reference test passed. */
  ref: Reference;
  /** Runs to dispose after the file, each with the client its keys are purged through. */
  runs: Array<{ client: Redis | Cluster; run: EngineRun }>;
}

/** Options of {@link clusterSuite}. */
export interface ClusterSuiteOptions {
  /** The cluster client (the feeder's). */
  cluster: () => Cluster;
  /** After the runs are disposed and the clients closed (a cluster restored, …). */
  after?: () => Promise<void>;
  /** A run that cannot be disposed is logged, not failed (a test that failed half-way can leave the cluster mid-move). */
  tolerant?: boolean;
  /** The `afterAll` timeout (ms). Default 60 000. */
  afterMs?: number;
}

/**
 * Inside a `describe`: opens the clients before its tests, disposes its runs and closes the clients
 * after them, and adds its first test, "one node: the fault-free reference" (run `name` of `wl`
 * under `engine`, stopped).
 */
export function clusterSuite(name: string, wl: Workload, engine: Record<string, unknown>, opts: ClusterSuiteOptions): ClusterSuite {
  const s = { runs: [] } as unknown as ClusterSuite;
  beforeAll(() => {
    s.redis = redisClient();
    s.cluster = opts.cluster();
  });
  afterAll(async () => {
    for (const { client, run } of s.runs) {
      const disposed = disposeRun(client, run);
      await (opts.tolerant ? disposed.catch((e: Error) => console.warn(`dispose ${run.name}: ${e.message}`)) : disposed);
    }
    s.redis?.disconnect();
    s.cluster?.disconnect();
    await opts.after?.();
  }, opts.afterMs ?? 60_000);

  it('one node: the fault-free reference', async () => {
    const r = await stoppedReference(s.redis, wl, engine, name);
    s.runs.push({ client: s.redis, run: r.run });
    expect(r.problems).toEqual([]);
    s.ref = r;
  }, 90_000);
  return s;
}
