/**
 * Issue 16, lease fencing: worker 1 is paused (SIGSTOP) while it holds applied but uncommitted
 * work (commit_interval 3 s); worker 2 takes its partitions over once the lease expires (1 s) and
 * goes on; when worker 1 wakes, its commit must be refused (fenced), and the end result equals a
 * fault-free run: nothing lost, nothing applied twice.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { engineWorkload, padded, type Workload } from '../helpers/engine-workload.js';
import {
  balanced,
  differences,
  doubledIds,
  feed,
  fileRuns,
  metric,
  newEngineRun,
  pauseWorker,
  stoppedReference,
  settle,
  startEngineWorker,
  summary,
  type Reference,
} from '../helpers/engine-run.js';
import type { WorkerProcess } from '../helpers/worker.js';

const PARTITIONS = 64;
// The owner also commits whenever a step finds it caught up (a read returned fewer than
// read_count entries in every partition): read_count 1 and a backlog keep applied work in memory
// until commit_interval (3 s) — the window in which worker 1 is paused.
const ENGINE = { partitions: PARTITIONS, lease_ttl: '1s', heartbeat: '250ms', commit_interval: '3s', commit_entries: 100_000, read_count: 1 };
// ~20 access events (changing nothing) after each event: a backlog the owner works through.
const fed: Workload = padded(engineWorkload({ users: 160, seed: 17 }), 20);
// Two phases: before the pause, and while worker 1 sleeps (each user's sentinel is in phase 2).
const half = Math.floor(fed.events.length / 2);
const phase1 = fed.events.slice(0, half);
const phase2 = fed.events.slice(half);
const { runs, redis } = fileRuns();
let ref: Reference;

const OWNED = 'riskstream_engine_partitions_owned';
const FENCED = 'riskstream_engine_fenced_total';
const COMMITS = 'riskstream_engine_commits_total';

describe('engine lease fencing (issue 16)', () => {
  it('fault-free reference', async () => {
    const r = await stoppedReference(redis, fed, ENGINE, 'lease-ref');
    runs.push(r.run);
    ref = r;
    expect(r.problems).toEqual([]);
  }, 60_000);

  it('a paused owner loses its partitions to the other worker; on waking its commit is refused; the result equals the fault-free run', async () => {
    expect(ref).toBeDefined();
    const run = await newEngineRun('lease', ENGINE);
    runs.push(run);
    const [w1, w2] = (await Promise.all([startEngineWorker(run, 'lw1'), startEngineWorker(run, 'lw2')])) as [WorkerProcess, WorkerProcess];
    const owned = async (w: WorkerProcess): Promise<number> => (await metric(run, w, OWNED)) ?? NaN;
    // Both own a share, together all partitions.
    await balanced(run, [w1, w2], PARTITIONS, 'lw1 + lw2');
    const owned1 = await owned(w1);

    // Phase 1 is being applied (a backlog: read_count 1) and waits in memory for its commit (commit_interval 3 s).
    const commits0 = await metric(run, w1, COMMITS);
    await feed(redis, run, phase1);
    await new Promise((r) => setTimeout(r, 150));
    const commitsBefore = `${commits0} → ${await metric(run, w1, COMMITS)}`;
    pauseWorker(run, w1, true);
    const pausedAt = Date.now();

    // lw2 takes every partition once lw1's leases expire.
    await waitFor(async () => (await owned(w2)) === PARTITIONS, { timeout: 10_000, interval: 100, what: `lw2 owning all ${PARTITIONS} partitions` });
    const takeover = Date.now() - pausedAt;
    await feed(redis, run, phase2);
    // Asleep longer than commit_interval: on waking, lw1's commit of what it applied before is due at once.
    await new Promise((r) => setTimeout(r, Math.max(500, pausedAt + 4000 - Date.now())));

    pauseWorker(run, w1, false);
    // Its commit of the work applied before the pause must be refused by the fence (counted), and
    // never land: checked as a soft assertion so the outcome below is compared either way.
    const fenced = await waitFor(
      async () => {
        const n = await metric(run, w1, FENCED);
        return n !== undefined && n >= 1 ? n : undefined;
      },
      { timeout: 5_000, interval: 100 },
    ).catch(() => undefined);
    const lost = w1
      .output()
      .split('\n')
      .filter((l) => l.includes('lease lost')).length;
    console.log(
      `lease: lw1 owned ${owned1} partitions, commits ${commitsBefore} from before phase 1 to the pause; lw2 owned all ${takeover} ms after it; ` +
        `after waking lw1 has ${FENCED} ${fenced ?? (await metric(run, w1, FENCED))}, ${COMMITS} ${await metric(run, w1, COMMITS)}, ${lost} 'lease lost' log lines`,
    );
    // Either its commit was attempted and refused by the fence (counted), or its lease manager noticed
    // the lost leases first and the owner dropped the uncommitted work without a commit attempt
    // (it may own partitions again later, after a rebalance, from their committed positions): in both
    // cases nothing of the paused owner's uncommitted work landed (the outcome below is the proof).
    // (The fence alone is tested deterministically in test/engine/owner.test.ts.)
    expect(fenced !== undefined || lost >= 1, `lw1 after waking: fenced ${String(fenced)}, 'lease lost' ${lost}`).toBe(true);

    const got = await settle(redis, run, fed);
    console.log(`lease: ${summary(got.outcomes)}`);
    expect(got.problems).toEqual([]);
    expect(differences(ref.outcomes, got.outcomes)).toEqual([]);
    expect(doubledIds(got.outcomes)).toEqual([]);
    expect(got.finalLevels).toEqual(ref.finalLevels);
    // lw1 rejoined: the live workers own every partition exactly once between them.
    await waitFor(async () => (await owned(w1)) + (await owned(w2)) === PARTITIONS, {
      timeout: 10_000,
      interval: 100,
      what: `${OWNED} of lw1 + lw2 = ${PARTITIONS} after lw1 woke`,
    });
  }, 90_000);
});
