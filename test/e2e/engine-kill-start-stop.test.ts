/**
 * Kill -9 while the worker starts and while it drains (README: "kill -9 at any moment"): one worker
 * identity, input arriving in chunks; the worker is killed -9 at a random moment of its start
 * (before or after it listens: claiming its leases, loading positions, the first reads) and at a
 * random moment of its graceful drain (SIGTERM, then SIGKILL 0–300 ms later: mid final commit,
 * lease release), again and again. The result must be the fault-free run's: per user the same
 * (level, version), risk-event history and sessions; SETs in per-user order ending on the same levels.
 */
import { spawn } from 'node:child_process';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { engineWorkload, padded } from '../helpers/engine-workload.js';
import {
  differences,
  doubledIds,
  feedInBackground,
  fileRuns,
  killWorker,
  newEngineRun,
  settle,
  startEngineWorker,
  stoppedReference,
  summary,
  type EngineRun,
  type Reference,
} from '../helpers/engine-run.js';

const ENGINE = { partitions: 64, lease_ttl: '2s', heartbeat: '500ms' };
const wl = padded(engineWorkload({ users: 150, seed: 44, sessions: true }), 4);
const { runs, redis } = fileRuns();
let ref: Reference;

/** Spawns `riskstream worker` with id `id` and kills it -9 after `ms` (whatever it is doing by then); resolves once it is gone. */
async function killedWhileStarting(run: EngineRun, id: string, ms: number): Promise<string> {
  const child = spawn(process.execPath, [join(resolve(import.meta.dirname, '../..'), 'bin/riskstream.js'), 'worker', '--config', run.cfg.dir], {
    env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1', RISKSTREAM_WORKER_ID: id, RISKSTREAM_CONSUMER: id },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const gone = new Promise<void>((r) => child.once('exit', () => r()));
  await new Promise((r) => setTimeout(r, ms));
  child.kill('SIGKILL');
  await gone;
  return `killed ${ms} ms into its start (${/listening on/.test(out) ? 'listening' : 'not listening yet'})`;
}

describe('kill -9 during start and during the drain: the fault-free result', () => {
  it('fault-free reference', async () => {
    const r = await stoppedReference(redis, wl, ENGINE, 'startstop-ref');
    runs.push(r.run);
    expect(r.problems).toEqual([]);
    ref = r;
  }, 120_000);

  it('killed -9 at random moments of its starts and of its drains while chunks arrive: identical outcome', async () => {
    expect(ref).toBeDefined();
    const run = await newEngineRun('startstop', ENGINE);
    runs.push(run);
    const input = feedInBackground(redis, run, wl.events, 8, 1500);
    const log: string[] = [];
    for (let i = 0; i < 4; i++) {
      const w = await startEngineWorker(run, 's1');
      // Let it work on the next chunk, then stop it and kill it in the middle of the drain.
      const seen = input.fed();
      const t0 = Date.now();
      while (input.fed() === seen && Date.now() - t0 < 5000) await new Promise((r) => setTimeout(r, 20));
      await new Promise((r) => setTimeout(r, Math.floor(Math.random() * 300)));
      w.child.kill('SIGTERM');
      const ms = Math.floor(Math.random() * 300);
      await new Promise((r) => setTimeout(r, ms));
      await killWorker(run, w);
      log.push(`drain killed after ${ms} ms`);
      log.push(await killedWhileStarting(run, 's1', 1500 + Math.floor(Math.random() * 8000)));
    }
    await startEngineWorker(run, 's1');
    await input.done;
    console.log(`startstop: ${log.join('; ')}`);
    const got = await settle(redis, run, wl, { timeout: 90_000 });
    console.log(`startstop: ${summary(got.outcomes)}; ${run.receiver.received.length} SETs`);
    expect(got.problems).toEqual([]);
    expect(differences(ref.outcomes, got.outcomes)).toEqual([]);
    expect(doubledIds(got.outcomes)).toEqual([]);
    expect(got.finalLevels).toEqual(ref.finalLevels);
  }, 240_000);
});
