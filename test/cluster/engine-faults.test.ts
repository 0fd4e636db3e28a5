/**
 * Issue 17, worker faults on a Redis Cluster: the crash, two-worker and rebalance tests of issue 16
 * (test/e2e/engine-crash, engine-rebalance) run on the local 3-master cluster while the input
 * arrives in chunks, each compared with one fault-free run of the same events on one Redis node:
 * per user the same (level, version) and risk-event history, nothing applied twice, SETs in
 * per-user order ending on the same levels.
 */
import { describe, expect, it } from 'vitest';
import { CLUSTER_NODES, clusterClient, requireCluster } from '../helpers/cluster.js';
import { waitFor } from '../helpers/redis.js';
import { engineWorkload, padded } from '../helpers/engine-workload.js';
import { clusterSuite } from '../helpers/cluster-reference.js';
import {
  balanced,
  feedInBackground,
  killSoonAfterAChunk,
  MATCHES,
  newEngineRun,
  ownership,
  startEngineWorker,
  versusReference,
} from '../helpers/engine-run.js';
import type { WorkerProcess } from '../helpers/worker.js';

const up = await requireCluster('cluster/engine-faults');
const PARTITIONS = 64;
const ENGINE = { partitions: PARTITIONS, commit_interval: '50ms', commit_entries: 5000, lease_ttl: '2s', heartbeat: '500ms', read_count: 2000 };
// Each event followed by 5 access events (changing nothing): workers are busy when killed or moved.
const wl = padded(engineWorkload({ users: 120, seed: 21 }), 5);
// A chunk every 1.5 s: a worker (re)starts from source in 1-2 s (~10 s on a loaded 2-core
// machine), so the kills fall while input arrives (the log says after which chunk).
const CHUNK_MS = 1500;

describe.skipIf(!up)('engine faults on a Redis Cluster (issue 17): the one-node fault-free result', () => {
  const suite = clusterSuite('faults-ref', wl, ENGINE, { cluster: () => clusterClient() });

  it('crash: one worker killed -9 twice while chunks arrive, restarted under the same id', async () => {
    expect(suite.ref).toBeDefined();
    const t0 = Date.now();
    const run = await newEngineRun('c-crash', ENGINE, {}, CLUSTER_NODES);
    suite.runs.push({ client: suite.cluster, run });
    let w = await startEngineWorker(run, 'cc1');
    const input = feedInBackground(suite.cluster, run, wl.events, 8, CHUNK_MS);
    const log: string[] = [];
    for (let i = 0; i < 2; i++) {
      log.push(await killSoonAfterAChunk(run, w, input.fed));
      w = await startEngineWorker(run, 'cc1');
    }
    await input.done;
    console.log(`cluster crash: ${log.join('; ')}`);
    expect(await versusReference(suite.cluster, run, wl, suite.ref, `cluster crash (input fed after ${Date.now() - t0} ms)`)).toEqual(MATCHES);
  }, 150_000);

  it('two workers, each killed -9 once mid-stream and restarted', async () => {
    expect(suite.ref).toBeDefined();
    const t0 = Date.now();
    const run = await newEngineRun('c-pair', ENGINE, {}, CLUSTER_NODES);
    suite.runs.push({ client: suite.cluster, run });
    const workers: Record<string, WorkerProcess> = {};
    [workers.cw1, workers.cw2] = await Promise.all([startEngineWorker(run, 'cw1'), startEngineWorker(run, 'cw2')]);
    const input = feedInBackground(suite.cluster, run, wl.events, 6, CHUNK_MS);
    const log: string[] = [];
    for (const victim of ['cw1', 'cw2']) {
      log.push(`${victim} ${await killSoonAfterAChunk(run, workers[victim]!, input.fed)}`);
      workers[victim] = await startEngineWorker(run, victim);
    }
    await input.done;
    console.log(`cluster pair: ${log.join('; ')}`);
    expect(await versusReference(suite.cluster, run, wl, suite.ref, `cluster pair (input fed after ${Date.now() - t0} ms)`)).toEqual(MATCHES);
  }, 150_000);

  it('rebalance: a second worker joins mid-stream, the first is stopped (SIGTERM): every entry once, the survivor owns all', async () => {
    expect(suite.ref).toBeDefined();
    const t0 = Date.now();
    const run = await newEngineRun('c-rebalance', ENGINE, {}, CLUSTER_NODES);
    suite.runs.push({ client: suite.cluster, run });
    const rb1 = await startEngineWorker(run, 'crb1');
    const input = feedInBackground(suite.cluster, run, wl.events, 8, CHUNK_MS);
    const at = (n: number): Promise<unknown> => waitFor(() => input.fed() >= n, { timeout: 30_000, interval: 20, what: `chunk ${n} fed` });
    await at(2);
    const rb2 = await startEngineWorker(run, 'crb2');
    const two = await balanced(run, [rb1, rb2], PARTITIONS, 'crb1 + crb2');
    await at(5);
    const stoppedAt = input.fed();
    const code = await rb1.stop('SIGTERM');
    run.workers = run.workers.filter((w) => w !== rb1);
    expect(code, 'crb1 drains and exits 0 on SIGTERM').toBe(0);
    await waitFor(async () => (await ownership(run, [rb2]))[0] === PARTITIONS, {
      timeout: 15_000,
      interval: 100,
      what: `crb2 owning all ${PARTITIONS} partitions after crb1 stopped`,
    });
    await input.done;
    console.log(`cluster rebalance: owned ${JSON.stringify(two)} with 2 workers; crb1 stopped after chunk ${stoppedAt}`);
    expect(await versusReference(suite.cluster, run, wl, suite.ref, `cluster rebalance (input fed after ${Date.now() - t0} ms)`)).toEqual(MATCHES);
    expect(await ownership(run, [rb2])).toEqual([PARTITIONS]);
  }, 150_000);
});
