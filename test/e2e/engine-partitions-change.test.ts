/**
 * A restart with a changed `engine.partitions` on a prefix that holds data: users' state, risk
 * events and routed-but-unapplied input live under the old count's partitions, so a worker with
 * another count would look them up in the wrong partitions (users back to low, input left in
 * partition streams nobody reads). The worker must refuse to start (exit 1, naming the setting),
 * and a restart with the original count must find everything as the fault-free run left it.
 */
import { spawn } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Redis } from 'ioredis';
import { redisClient } from '../helpers/redis.js';
import { engineWorkload } from '../helpers/engine-workload.js';
import { differences, disposeRun, feed, killWorker, newEngineRun, outcomes, settle, startEngineWorker, type EngineRun } from '../helpers/engine-run.js';

const ENGINE = { partitions: 64, commit_interval: '50ms', lease_ttl: '2s', heartbeat: '500ms' };
const wl = engineWorkload({ users: 40, seed: 61 });
let redis: Redis;
let run: EngineRun | undefined;

beforeAll(() => {
  redis = redisClient();
});

afterAll(async () => {
  if (run) await disposeRun(redis, run);
  redis?.disconnect();
}, 60_000);

/** Runs `riskstream worker` until it exits (at most 45 s): its exit code and output. */
async function startAndWait(dir: string, env: Record<string, string>): Promise<{ code: number | null; out: string }> {
  const child = spawn(process.execPath, ['bin/riskstream.js', 'worker', '--config', dir], {
    env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  const timer = setTimeout(() => child.kill('SIGKILL'), 45_000);
  const code = await new Promise<number | null>((r) => child.once('exit', (c) => r(c)));
  clearTimeout(timer);
  return { code, out };
}

/** Rewrites the run's riskstream.yaml with another `engine.partitions`. */
function setPartitions(r: EngineRun, partitions: number): void {
  const file = join(r.cfg.dir, 'riskstream.yaml');
  const cfg = parse(readFileSync(file, 'utf8')) as { engine: Record<string, unknown> };
  cfg.engine.partitions = partitions;
  writeFileSync(file, stringify(cfg));
}

describe('engine.partitions changed on a prefix that holds data', () => {
  it('a worker with another count refuses to start; the original count finds everything', async () => {
    run = await newEngineRun('parts', ENGINE);
    const w = await startEngineWorker(run, 'p1');
    await feed(redis, run, wl.events);
    const want = (await settle(redis, run, wl)).outcomes;
    await killWorker(run, w); // kill -9: the restart below is a crash recovery
    setPartitions(run, 16);
    const refused = await startAndWait(run.cfg.dir, { RISKSTREAM_WORKER_ID: 'p1' });
    expect(refused.code, refused.out).toBe(1);
    expect(refused.out).toMatch(/engine\.partitions is 16, but the data under prefix \S+ was written with 64 partitions/);
    expect(refused.out).not.toMatch(/listening on/);
    setPartitions(run, 64);
    await startEngineWorker(run, 'p1');
    expect(differences(want, await outcomes(run, wl))).toEqual([]);
  }, 150_000);
});
