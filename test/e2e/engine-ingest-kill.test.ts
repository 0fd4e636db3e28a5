/**
 * POST /v1/events while workers are killed -9 (CONTRACT §5; README: "202 means it is in the input
 * streams"): two workers, the input posted in NDJSON chunks to one of them while the other — the
 * router, owner of half the partitions, or both — is killed and restarted, over and over. Every
 * event a 202 accepted must be applied, once: per user the same (level, version), risk-event
 * history and sessions as a fault-free run fed the same bodies through the same API, and SETs in
 * per-user order ending on the same levels.
 */
import { describe, expect, it } from 'vitest';
import { engineWorkload, type WorkloadEvent } from '../helpers/engine-workload.js';
import {
  chunks,
  differences,
  doubledIds,
  fileRuns,
  killWorker,
  liveWorker,
  newEngineRun,
  settle,
  startEngineWorker,
  summary,
  type EngineRun,
  type Outcomes,
} from '../helpers/engine-run.js';
import type { WorkerProcess } from '../helpers/worker.js';

const ENGINE = { partitions: 64, lease_ttl: '2s', heartbeat: '500ms' };
const wl = engineWorkload({ users: 150, seed: 43, sessions: true });
const { runs, redis } = fileRuns();
let ref: { outcomes: Outcomes; finalLevels: Record<string, string> } | undefined;

/** POSTs one NDJSON chunk; its status (a 202 must have accepted every record). */
async function post(run: EngineRun, w: WorkerProcess, events: readonly WorkloadEvent[]): Promise<number> {
  const res = await fetch(`${w.url}/v1/events`, {
    method: 'POST',
    headers: { authorization: `Bearer ${run.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
    body: events.map((e) => JSON.stringify(e.event)).join('\n'),
    signal: AbortSignal.timeout(30_000),
  });
  const body = (await res.json()) as { accepted?: number; rejected?: number };
  if (res.status === 202 && (body.accepted !== events.length || body.rejected)) throw new Error(`202 but ${JSON.stringify(body)}`);
  return res.status;
}

/** Posts chunk `i` to `target(i)`, retrying 429/503 answers, then runs `after(i)`. */
async function postAll(run: EngineRun, target: (i: number) => WorkerProcess, parts: WorkloadEvent[][], after: (i: number) => Promise<void>): Promise<void> {
  for (let i = 0; i < parts.length; i++) {
    for (let tries = 0; ; tries++) {
      const status = await post(run, target(i), parts[i]!);
      if (status === 202) break;
      if ((status !== 429 && status !== 503) || tries > 100) throw new Error(`POST /v1/events: ${status}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    await after(i);
  }
}

describe('POST /v1/events while workers are killed -9: what a 202 accepted is applied, once', () => {
  it('fault-free reference: one worker, the same bodies', async () => {
    const run = await newEngineRun('ingest-ref', ENGINE);
    runs.push(run);
    await startEngineWorker(run, 'ref-1');
    await postAll(
      run,
      () => liveWorker(run),
      chunks(wl.events, 12),
      async () => undefined,
    );
    const got = await settle(redis, run, wl);
    console.log(`ingest-ref: ${wl.events.length} events, ${wl.users.length} users: ${summary(got.outcomes)}; ${run.receiver.received.length} SETs`);
    expect(got.problems).toEqual([]);
    ref = got;
    await Promise.all(run.workers.map((w) => killWorker(run, w, 'SIGTERM')));
  }, 120_000);

  it('posted to one worker while the other is killed -9 and restarted (and then the roles swap): identical outcome', async () => {
    expect(ref).toBeDefined();
    const run = await newEngineRun('ingest-kill', ENGINE);
    runs.push(run);
    const w: Record<'a' | 'b', WorkerProcess> = { a: await startEngineWorker(run, 'ia'), b: await startEngineWorker(run, 'ib') };
    // Chunks 0-5 go to b while a is killed after every other one; chunks 6-11 to a while b is.
    const victimAt = (i: number): 'a' | 'b' => (i < 6 ? 'a' : 'b');
    const log: string[] = [];
    await postAll(
      run,
      (i) => w[victimAt(i) === 'a' ? 'b' : 'a'],
      chunks(wl.events, 12),
      async (i) => {
        if (i % 2 !== 0 || i >= 11) return;
        const victim = victimAt(i);
        const ms = Math.floor(Math.random() * 300);
        await new Promise((r) => setTimeout(r, ms));
        await killWorker(run, w[victim]);
        log.push(`${victim} killed ${ms} ms after chunk ${i}`);
        w[victim] = await startEngineWorker(run, victim === 'a' ? 'ia' : 'ib');
      },
    );
    console.log(`ingest-kill: ${log.join('; ')}`);
    const got = await settle(redis, run, wl);
    console.log(`ingest-kill: ${summary(got.outcomes)}; ${run.receiver.received.length} SETs`);
    expect(got.problems).toEqual([]);
    expect(differences(ref!.outcomes, got.outcomes)).toEqual([]);
    expect(doubledIds(got.outcomes)).toEqual([]);
    expect(got.finalLevels).toEqual(ref!.finalLevels);
  }, 180_000);
});
