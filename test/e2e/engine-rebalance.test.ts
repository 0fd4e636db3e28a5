/**
 * Issue 16, rebalance: one worker, input arriving continuously; a second and a third join
 * mid-stream, then the first is stopped (SIGTERM). Every entry is applied exactly once (the result
 * equals a fault-free run) and the live workers own all partitions between them.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { engineWorkload, padded } from '../helpers/engine-workload.js';
import {
  balanced,
  differences,
  doubledIds,
  feedInBackground,
  fileRuns,
  newEngineRun,
  ownership,
  stoppedReference,
  settle,
  startEngineWorker,
  summary,
  type Reference,
} from '../helpers/engine-run.js';

const PARTITIONS = 64;
const ENGINE = { partitions: PARTITIONS, commit_interval: '50ms', commit_entries: 5000, lease_ttl: '2s', heartbeat: '500ms', read_count: 2000 };
// Each event followed by 10 access events (changing nothing): workers are busy when killed or moved.
const wl = padded(engineWorkload({ users: 200, seed: 18 }), 10);
const { runs, redis } = fileRuns();
let ref: Reference;

describe('engine rebalance (issue 16)', () => {
  it('fault-free reference', async () => {
    const r = await stoppedReference(redis, wl, ENGINE, 'rebalance-ref');
    runs.push(r.run);
    ref = r;
    expect(r.problems).toEqual([]);
  }, 60_000);

  it('workers joining and one leaving mid-stream: every entry applied exactly once, all partitions owned', async () => {
    expect(ref).toBeDefined();
    const run = await newEngineRun('rebalance', ENGINE);
    runs.push(run);
    const rb1 = await startEngineWorker(run, 'rb1');
    const input = feedInBackground(redis, run, wl.events, 12, 800);
    const at = (n: number): Promise<unknown> => waitFor(() => input.fed() >= n, { timeout: 30_000, interval: 20, what: `chunk ${n} fed` });

    await at(2);
    const rb2 = await startEngineWorker(run, 'rb2');
    const two = await balanced(run, [rb1, rb2], PARTITIONS, 'rb1 + rb2');
    await at(5);
    const rb3 = await startEngineWorker(run, 'rb3');
    const three = await balanced(run, [rb1, rb2, rb3], PARTITIONS, 'rb1 + rb2 + rb3');
    await at(8);
    const stoppedAt = input.fed();
    const code = await rb1.stop('SIGTERM');
    run.workers = run.workers.filter((w) => w !== rb1);
    expect(code, 'rb1 drains and exits 0 on SIGTERM').toBe(0);
    const left = await balanced(run, [rb2, rb3], PARTITIONS, 'rb2 + rb3 after rb1 left');
    await input.done;
    console.log(
      `rebalance: owned ${JSON.stringify(two)} with 2 workers, ${JSON.stringify(three)} with 3, ${JSON.stringify(left)} after rb1 stopped (chunk ${stoppedAt})`,
    );

    const got = await settle(redis, run, wl);
    console.log(`rebalance: ${summary(got.outcomes)}`);
    expect(got.problems).toEqual([]);
    expect(differences(ref.outcomes, got.outcomes)).toEqual([]);
    expect(doubledIds(got.outcomes)).toEqual([]);
    expect(got.finalLevels).toEqual(ref.finalLevels);
    // No crash, so the feed and the audit log hold each level change once (one relay per partition at a time).
    const repeated = (ids: string[]): string[] => ids.filter((id, i) => ids.indexOf(id) !== i);
    const audited = (await redis.xrange(`${run.prefix}:audit`, '-', '+')).filter(([, f]) => f.includes('risk.level_changed'));
    const auditIds = audited.map(([, f]) => (JSON.parse(f[f.indexOf('details') + 1]!) as { change_id: string }).change_id);
    expect(auditIds.length).toBeGreaterThan(0);
    expect(repeated(auditIds)).toEqual([]);
    const fed = (await redis.xrange(`${run.prefix}:risk-events`, '-', '+')).filter(([, f]) => f[f.indexOf('kind') + 1] === 'change');
    expect(repeated(fed.map(([, f]) => f[f.indexOf('data') + 1]!))).toEqual([]);
    const final = await ownership(run, [rb2, rb3]);
    expect(final.reduce((a, b) => a + b, 0)).toBe(PARTITIONS);
  }, 90_000);
});
