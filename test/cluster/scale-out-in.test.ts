/**
 * Scaling the Redis Cluster out and back in under two running workers: an empty master is added
 * (`redis-cli --cluster add-node`), every slot holding a key of the run — input streams,
 * partitions `{p<n>}`, per-user keys `u:{<user>}`, the SET queue's `{<prefix>}`, the SSF and
 * engine records — is moved onto it the way `redis-cli --cluster reshard` moves a slot
 * (IMPORTING/MIGRATING, MIGRATE 10 keys at a time, SETSLOT NODE), then every slot it owns is moved
 * back to its old master and the node is removed (`redis-cli --cluster del-node`: FORGET on every
 * node, then SHUTDOWN) — while input arrives and SETs go to a loopback receiver. Wanted: the
 * workers' cluster clients find the new node and forget the removed one without a restart (same
 * pids, `/readyz` 200 at the end, no error logged), and the result equals a fault-free one-node run
 * (test/cluster/reshard.test.ts's verdict: per user (level, version), risk events and sessions the
 * same, every entry applied once, the SETs per test/helpers/set-sequences.ts). Logged, not
 * asserted: each phase's length, `/readyz` answers other than 200 while it ran, the longest gap
 * between SETs, the warnings by message.
 *
 * Opt-in (it adds and removes nodes of the cluster it runs on): RISKSTREAM_RESHARD_TEST=1, on a
 * cluster of its own (RISKSTREAM_CLUSTER_PORTS=7100 bash scripts/ensure-redis-cluster.sh, and the
 * same variable for vitest; `--stop` after). The extra node runs on the base port + 6 (and its
 * bus port + 10000), stopped after the file.
 */
import { describe, expect, it } from 'vitest';
import { clusterClient as workerClusterClient } from '../../src/runtime/connections.js';
import { CLUSTER_NODES, CLUSTER_PORTS, requireCluster, waitHealthy, withNode } from '../helpers/cluster.js';
import { keysInSlot, migrateSlot } from '../helpers/cluster-reshard.js';
import { addMaster, removeNode, restoreCluster, slotsWithKeys, startExtraNode } from '../helpers/cluster-scale.js';
import { waitFor } from '../helpers/redis.js';
import { engineWorkload, padded } from '../helpers/engine-workload.js';
import { clusterSuite } from '../helpers/cluster-reference.js';
import { feedInBackground, MATCHES, newEngineRun, startEngineWorker, versusReference } from '../helpers/engine-run.js';
import type { WorkerProcess } from '../helpers/worker.js';

const up = process.env.RISKSTREAM_RESHARD_TEST === '1' && (await requireCluster('cluster/scale-out-in'));
const EXTRA = CLUSTER_PORTS[0]! + 6;
const ENGINE = { partitions: 16, commit_interval: '50ms', commit_entries: 5000, lease_ttl: '2s', heartbeat: '500ms', read_count: 2000 };
const wl = padded(engineWorkload({ users: 120, seed: 31 }), 5);

/** Polls each worker's `/readyz` every 250 ms until stopped: the answers other than 200, counted by worker, status and codes. */
function watchReadiness(workers: WorkerProcess[]): { stop: () => Promise<Map<string, number>> } {
  const seen = new Map<string, number>();
  let stopped = false;
  const loop = (async () => {
    while (!stopped) {
      await Promise.all(
        workers.map(async (w, i) => {
          const r = await fetch(`${w.url}/readyz`, { signal: AbortSignal.timeout(3000) }).catch((e: Error) => ({ status: e.name, json: () => ({}) }));
          if (r.status === 200) return;
          const body = (await Promise.resolve(r.json()).catch(() => ({}))) as { codes?: Record<string, string> };
          const k = `w${i + 1} ${r.status} ${JSON.stringify(body.codes ?? {})}`;
          seen.set(k, (seen.get(k) ?? 0) + 1);
        }),
      );
      await new Promise((r) => setTimeout(r, 250));
    }
  })();
  return {
    stop: async () => {
      stopped = true;
      await loop;
      return seen;
    },
  };
}

/** The keys of `slot` on the node at `port` (up to 5), their count 500 ms later, and the node's view of itself. */
async function describeKeys(port: number, slot: number): Promise<string> {
  return withNode(port, async (n) => {
    const keys = (await n.cluster('GETKEYSINSLOT', slot, 5)) as string[];
    const me = ((await n.cluster('NODES')) as string).split('\n').find((l) => l.includes('myself'));
    await new Promise((r) => setTimeout(r, 500));
    return `${keys.join(', ')}; ${String(await n.cluster('COUNTKEYSINSLOT', slot))} 500 ms later; it says: ${me}`;
  });
}

/** A worker's log lines at `levels` (pino numbers), as `msg: message` (the message cut). */
function logged(w: WorkerProcess, levels: RegExp): string[] {
  return w
    .output()
    .split('\n')
    .filter((l) => levels.test(/"level":(\d+)/.exec(l)?.[1] ?? ''))
    .map((l) => `${/"msg":"([^"]*)"/.exec(l)?.[1]}: ${/"(?:message|error)":"([^"]{0,90})/.exec(l)?.[1]}`);
}

describe.skipIf(!up)('a master added and removed under running workers', () => {
  const suite = clusterSuite('scale-ref', wl, ENGINE, {
    cluster: () => workerClusterClient(CLUSTER_NODES, 'test-feeder'),
    // A test that failed half-way can leave the cluster mid-move: purging may then fail (logged).
    tolerant: true,
    after: () => restoreCluster(EXTRA),
    afterMs: 180_000,
  });

  it("the run's slots moved to a new master and back, the master removed: the result equals the reference", async () => {
    expect(suite.ref).toBeDefined();
    const run = await newEngineRun('scale', ENGINE, {}, CLUSTER_NODES);
    suite.runs.push({ client: suite.cluster, run });
    const workers = [await startEngineWorker(run, 'scale-1'), await startEngineWorker(run, 'scale-2')];
    const pids = workers.map((w) => w.child.pid);
    // Input in 30 chunks, 1 s apart: it keeps arriving through both phases.
    const input = feedInBackground(suite.cluster, run, wl.events, 30, 1000, { acked: true });
    await waitFor(() => input.fed() >= 3, { timeout: 60_000, interval: 20, what: 'chunk 3 fed' });
    const ready = watchReadiness(workers);
    const log: string[] = [];
    const leaked: string[] = [];

    // Out: a new master, every slot with a key of the run moved onto it.
    let t = Date.now();
    await startExtraNode(EXTRA);
    await addMaster(EXTRA);
    log.push(`added ${EXTRA} in ${Date.now() - t} ms (chunk ${input.fed()})`);
    t = Date.now();
    const owners = await slotsWithKeys();
    let keys = 0;
    for (const [slot, from] of owners) {
      const m = await migrateSlot(slot, { to: EXTRA, batch: 10, pauseMs: 10 });
      keys += m.moved;
      const left = await keysInSlot(from, slot);
      if (left) leaked.push(`slot ${slot}: ${left} keys left on ${from}: ${await describeKeys(from, slot)}`);
    }
    log.push(`${owners.size} slots (${keys} keys) moved to ${EXTRA} in ${Date.now() - t} ms (chunk ${input.fed()})`);

    // In: every slot of the new master moved back to its old owner, the node removed.
    t = Date.now();
    keys = 0;
    for (const [slot, to] of owners) {
      const m = await migrateSlot(slot, { to, batch: 10, pauseMs: 10 });
      keys += m.moved;
      // Its last slot gone, Redis 7 makes the emptied master a replica of the master that took it
      // (cluster-allow-replica-migration, default yes): its keys are then that master's.
      if (!/^role:master\r?$/m.test(await withNode(EXTRA, (n) => n.info('replication')))) continue;
      const left = await keysInSlot(EXTRA, slot);
      if (left) leaked.push(`slot ${slot}: ${left} keys left on ${EXTRA}: ${await describeKeys(EXTRA, slot)}`);
    }
    const role = /^role:(\w+)/m.exec(await withNode(EXTRA, (n) => n.info('replication')))?.[1];
    log.push(`${owners.size} slots (${keys} keys) moved back in ${Date.now() - t} ms (chunk ${input.fed()}), ${EXTRA} then a ${role}`);
    t = Date.now();
    await removeNode(EXTRA);
    log.push(`${EXTRA} removed in ${Date.now() - t} ms (chunk ${input.fed()})`);
    await waitHealthy();

    await input.done;
    const verdict = await versusReference(suite.cluster, run, wl, suite.ref, `scale: ${log.join('; ')}`);
    const notReady = await ready.stop();
    const times = run.receiver.received.map((s) => s.at);
    const gap = Math.max(...times.slice(1).map((x, i) => x - times[i]!));
    const errors = workers.flatMap((w) => logged(w, /^(50|60)$/));
    const byMsg = new Map<string, number>();
    for (const w of workers.flatMap((x) => logged(x, /^40$/))) byMsg.set(w.split(':')[0]!, (byMsg.get(w.split(':')[0]!) ?? 0) + 1);
    console.log(
      `scale: ${errors.length} errors, warnings: ${[...byMsg].map(([m, n]) => `${m} ×${n}`).join('; ') || 'none'}; /readyz not 200: ${
        [...notReady].map(([k, n]) => `${k} ×${n}`).join('; ') || 'never'
      }; longest gap between SETs ${gap} ms`,
    );
    for (const [i, w] of workers.entries())
      if (w.child.exitCode !== null || w.child.signalCode !== null)
        console.log(`w${i + 1} exited (${w.child.exitCode ?? w.child.signalCode}); its last output:\n${w.output().split('\n').slice(-40).join('\n')}`);
    const readyz = await Promise.all(workers.map(async (w) => (await fetch(`${w.url}/readyz`).catch(() => ({ status: 'down' }))).status));
    expect({ exit: workers.map((w) => w.child.exitCode), pids: workers.map((w) => w.child.pid), errors, leaked, verdict, readyz }).toEqual({
      exit: [null, null],
      pids,
      errors: [],
      leaked: [],
      verdict: MATCHES,
      readyz: [200, 200],
    });
  }, 300_000);
});
