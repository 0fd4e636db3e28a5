/**
 * Issue 17, a master failover while a worker runs and input arrives: (a) CLUSTER FAILOVER on the
 * replica of the master holding the input stream and some partitions, (b) kill -9 of such a
 * master (its replica promoted, the node restarted as a replica). The worker goes on without a
 * restart (the same process) and the end result equals a fault-free one-node run of the same
 * events: nothing acked lost, nothing applied twice, SETs in per-user order.
 *
 * What Redis's asynchronous replication can lose: a master acks a write before its replica has
 * it. CLUSTER FAILOVER (a) is safe by protocol — the master stops its clients and the replica
 * takes over only once it has every write. A kill -9 (b) loses the writes acked in the last
 * moments before it (typically under a millisecond on one host, more over a slow link): input
 * XADDs the producer was told are stored, or an engine commit (state, positions, outbox) the
 * worker was told succeeded. Test (b) first makes the master's data durable on its replica (writes
 * paused with CLIENT PAUSE WRITE, then waiting until the replica's offset reaches the master's) so
 * that it tests riskstream's recovery, not Redis's replication window (which `WAIT` after a write
 * and `min-replicas-to-write` narrow, never close).
 */
import { describe, expect, it } from 'vitest';
import { clusterClient as workerClusterClient } from '../../src/runtime/connections.js';
import { CLUSTER_NODES, failover, keyCountsPerMaster, killMaster, mastersOf, nodeOfKey, requireCluster, withNode } from '../helpers/cluster.js';
import { waitFor } from '../helpers/redis.js';
import { engineWorkload, padded } from '../helpers/engine-workload.js';
import { clusterSuite } from '../helpers/cluster-reference.js';
import { feedInBackground, MATCHES, newEngineRun, startEngineWorker, versusReference } from '../helpers/engine-run.js';

const up = await requireCluster('cluster/failover');
const ENGINE = { partitions: 64, commit_interval: '50ms', commit_entries: 5000, lease_ttl: '2s', heartbeat: '500ms', read_count: 2000 };
const wl = padded(engineWorkload({ users: 120, seed: 23 }), 5);

/** A replication offset from INFO replication. */
async function offset(port: number, field: 'master_repl_offset' | 'slave_repl_offset'): Promise<number> {
  const info = await withNode(port, (n) => n.info('replication'));
  return Number(new RegExp(`^${field}:(\\d+)`, 'm').exec(info)?.[1] ?? -1);
}

/**
 * Makes everything the master at `port` acked durable on its replica before a kill -9: pauses
 * its writes (CLIENT PAUSE WRITE; paused commands are neither run nor acked, and go to the
 * promoted replica after the kill), then waits until the replica's offset reaches the master's.
 */
async function durableOnReplica(port: number): Promise<string> {
  const replica = (await mastersOf()).find((m) => m.port === port)!.replicas[0]!;
  await withNode(port, (n) => n.call('CLIENT', 'PAUSE', '10000', 'WRITE'));
  const want = await offset(port, 'master_repl_offset');
  await waitFor(async () => (await offset(replica, 'slave_repl_offset')) >= want, { timeout: 5_000, interval: 10, what: `${replica} at offset ${want}` });
  return `replica ${replica} at the master's offset ${want}`;
}

describe.skipIf(!up)('master failover under a running worker (issue 17)', () => {
  const suite = clusterSuite('failover-ref', wl, ENGINE, {
    // The feeder connects like a worker (src/runtime/connections.ts): retries long enough to
    // outlast an election (the test helper's ioredis defaults, 16 redirections 100 ms apart, give
    // up after a kill -9 with "Too many Cluster redirections"), and no auto-pipelining: ioredis
    // retries a cluster pipeline after MOVED only when all its errors are the same and its other
    // commands read-only, so XADDs batched across a failover would fail instead of following.
    cluster: () => workerClusterClient(CLUSTER_NODES, 'test-feeder'),
  });

  /**
   * One worker, input in 8 chunks; after chunk 3 `fail(port)` fails over the master holding the
   * run's login stream. The worker must go on (same pid) and the result equal the reference.
   */
  async function underFailover(name: string, fail: (port: number) => Promise<string>): Promise<void> {
    const run = await newEngineRun(name, ENGINE, {}, CLUSTER_NODES);
    suite.runs.push({ client: suite.cluster, run });
    const w = await startEngineWorker(run, `${name}-1`);
    const pid = w.child.pid;
    // Each XADD waits for the previous one's reply (see feed): the input order survives the failover.
    const input = feedInBackground(suite.cluster, run, wl.events, 8, 600, { acked: true });
    await waitFor(() => input.fed() >= 3, { timeout: 60_000, interval: 20, what: 'chunk 3 fed' });
    const port = await nodeOfKey(`${run.prefix}:login`);
    const keys = (await keyCountsPerMaster(run.prefix)).get(port) ?? 0;
    expect(keys, `master ${port} holds keys of the run`).toBeGreaterThan(0);
    const t0 = Date.now();
    const chunk = input.fed();
    const what = await fail(port);
    const tookMs = Date.now() - t0;
    const chunkAfter = input.fed();
    await input.done;
    const verdict = await versusReference(
      suite.cluster,
      run,
      wl,
      suite.ref,
      `${name}: master ${port} (${keys} keys) ${what} in ${tookMs} ms, chunks ${chunk} → ${chunkAfter} of 8 fed meanwhile`,
    );
    const log = w
      .output()
      .split('\n')
      .filter((l) => /redis|lease|error/i.test(l));
    const kinds = new Map<string, number>();
    for (const l of log) {
      const msg = /"msg":"([^"]*)"/.exec(l)?.[1] ?? l.slice(0, 80);
      kinds.set(msg, (kinds.get(msg) ?? 0) + 1);
    }
    const errors = log.filter((l) => /"level":(50|60)/.test(l)).map((l) => l.slice(0, 400));
    console.log(
      `${name}: worker log lines on redis/lease/errors: ${JSON.stringify(Object.fromEntries(kinds))}${errors.length ? `; errors:\n  ${errors.slice(0, 3).join('\n  ')}` : ''}`,
    );
    expect(w.child.exitCode, 'the worker is still running').toBeNull();
    expect(w.child.pid).toBe(pid);
    expect(run.workers).toEqual([w]);
    // Nothing failed for good (e.g. an audit write that met MOVED): errors are retried, not logged.
    expect(errors).toEqual([]);
    expect(verdict).toEqual(MATCHES);
  }

  it('CLUSTER FAILOVER mid-stream: the worker goes on, the result equals the reference', async () => {
    expect(suite.ref).toBeDefined();
    await underFailover('c-failover', async (port) => `failed over to ${await failover(port)}`);
  }, 150_000);

  it('kill -9 of a master mid-stream (its replica promoted): the worker goes on, nothing acked is lost', async () => {
    expect(suite.ref).toBeDefined();
    await underFailover('c-killmaster', async (port) => {
      const durable = await durableOnReplica(port);
      const promoted = await killMaster(port);
      return `killed -9 (${durable}); ${promoted} promoted, the old master rejoined as its replica`;
    });
  }, 150_000);
});
