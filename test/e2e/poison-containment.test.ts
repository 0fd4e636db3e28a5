/**
 * Poison containment (src/engine/poison-guard.ts), black box: real worker processes started with a
 * failpoint (src/engine/failpoints.ts) at one event — its partition's apply throws each time, or
 * the process exits each time (a crash loop; the worker restarted with its id, as systemd would).
 * After 3 attempts at the committed position the partition is applied one item at a time; the
 * event, failing or crashing 3 tries alone, is dead-lettered with its reason code and its fields,
 * and every other event is applied exactly once: each user's level, version and risk events equal
 * a control run's without the poison (so when its commit cannot be built). Two crashes on it
 * alone dead-letter nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { engineBehind } from '../helpers/engine.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, userRisk, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const redis = redisClient();
const PARTITIONS = 64;
const BASE = Date.now() - 120_000;
const POISON = 'evt-poison';
/** The poison's user; a user of its partition; a user of another. */
const keys0 = new Keys('x', PARTITIONS);
const U = 'poisoned@example.com';
const V = pick((u) => keys0.partitionOf(u) === keys0.partitionOf(U));
const W = pick((u) => keys0.partitionOf(u) !== keys0.partitionOf(U));

function pick(ok: (u: string) => boolean): string {
  for (let i = 0; ; i++) if (ok(`peer-${i}@example.com`) && `peer-${i}@example.com` !== U) return `peer-${i}@example.com`;
}

/** The input: [entry id, event]; the poison (a critical detection of U) among them unless left out. */
function input(poison: boolean): Array<[string, Record<string, unknown>]> {
  const ev = (i: number, user: string, severity: string, type = 'endpoint'): [string, Record<string, unknown>] => [
    `${BASE + i}-0`,
    { type, id: `evt-${i}`, user, time: BASE + i - 500, severity, detection: 'malware', vendor: 'x', profile: 'p', action: 'block', device: { id: 'd' } },
  ];
  const rows = [ev(1, U, 'low'), ev(2, V, 'high', 'dlp'), ev(3, W, 'critical'), ev(4, V, 'high', 'dlp'), ev(5, U, 'high', 'dlp')];
  const poisonRow: [string, Record<string, unknown>] = [`${BASE + 10}-0`, { ...ev(10, U, 'critical')[1], id: POISON }];
  const after = [ev(11, V, 'critical'), ev(12, U, 'high', 'dlp'), ev(13, W, 'high', 'dlp'), ev(14, U, 'high', 'dlp')];
  return [...rows, ...(poison ? [poisonRow] : []), ...after];
}

interface Run {
  prefix: string;
  keys: Keys;
  cfg: TestConfig;
  worker?: WorkerProcess;
}
const runs: Run[] = [];

async function newRun(name: string, poison: boolean): Promise<Run> {
  const prefix = testPrefix(name);
  const run: Run = { prefix, keys: new Keys(prefix, PARTITIONS), cfg: await writeTestConfig(prefix, { engine: { router_thread: false } }) };
  runs.push(run);
  for (const [id, e] of input(poison)) await redis.xadd(`${prefix}:activity`, id, 'event', JSON.stringify(e));
  return run;
}

const start = async (run: Run, failpoints?: string): Promise<WorkerProcess> =>
  (run.worker = await spawnWorker(run.cfg.dir, { RISKSTREAM_WORKER_ID: 'w-poison', ...(failpoints ? { RISKSTREAM_FAILPOINTS: failpoints } : {}) }));

/** Every user's risk (level, version, behaviors) and risk events (their kind and data, in order). */
async function outcome(run: Run): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const user of [U, V, W]) {
    const events = await redis.xrange(run.keys.userEvents(user), '-', '+');
    // A level change's id is derived from the prefix too: the rest is compared.
    const data = events.map(([, f]) => ({ kind: f[1], ...(JSON.parse(f[3]!) as object), id: undefined }));
    out[user] = { risk: await userRisk(run.worker!.url, run.cfg.adminToken, user), events: data };
  }
  return out;
}

async function deadLetters(run: Run): Promise<Array<Record<string, string>>> {
  return (await redis.xrange(`${run.prefix}:dead-letter`, '-', '+')).map(([, f]) =>
    Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i]!, f[2 * i + 1]!])),
  );
}

/** The input routed (its group's lag and pending 0) and every routed entry applied and committed. */
async function settled(run: Run): Promise<void> {
  await waitFor(
    async () => {
      const groups = (await redis.xinfo('GROUPS', `${run.prefix}:activity`)) as unknown[][];
      const g = groups.map((row) => Object.fromEntries(Array.from({ length: row.length / 2 }, (_, i) => [row[2 * i], row[2 * i + 1]])))[0];
      if (!g || g.lag !== 0 || g.pending !== 0) return undefined;
      return (await engineBehind(redis, run.keys)) === null || undefined;
    },
    { what: 'every entry routed and applied', timeout: 30_000 },
  );
}

let control: unknown;

beforeAll(async () => {
  const run = await newRun('poison-control', false);
  await start(run);
  await settled(run);
  control = await outcome(run);
  await run.worker!.stop();
}, 120_000);

afterAll(async () => {
  for (const r of runs) {
    await r.worker?.stop('SIGKILL');
    await cleanup(redis, r.prefix);
    r.cfg.remove();
  }
  redis.disconnect();
});

/**
 * The poison dead-lettered (its reason, source and the event as routed), counted as poisoned by its
 * code; every other event applied as in the control run; `/readyz` ready.
 */
async function expectContained(run: Run, w: WorkerProcess, reason: string, code: string): Promise<void> {
  const dead = await waitFor(async () => ((await deadLetters(run)).length ? deadLetters(run) : undefined), { what: 'the dead letter', timeout: 30_000 });
  await settled(run);
  expect(await outcome(run)).toEqual(control);
  const metrics = await (await fetch(`${w.url}/metrics`, { headers: { authorization: `Bearer ${run.cfg.adminToken}` } })).text();
  expect(metrics).toMatch(new RegExp(`riskstream_events_poisoned_total\\{stream="${run.prefix}:activity",code="${code}"\\} 1`));
  expect((await fetch(`${w.url}/readyz`)).status).toBe(200);
  expect(dead).toHaveLength(1);
  expect(dead[0]!.reason).toBe(reason);
  expect(dead[0]!.source_stream).toBe(`${run.prefix}:activity`);
  expect(dead[0]!.source_id).toBe(`${BASE + 10}-0`);
  expect(JSON.parse(dead[0]!['orig.event']!)).toMatchObject({ id: POISON, user: U, severity: 'critical' });
}

describe('an event whose partition step fails every time', () => {
  it.each([
    ['its apply throws', 'apply'],
    ['its commit cannot be built', 'commit'],
  ])(
    '%s: it is dead-lettered (step_failed: INTERNAL) after 3 tries alone; every other event is applied once',
    async (_, site) => {
      const run = await newRun(`poison-${site}`, true);
      const w = await start(run, `${site}:${POISON}=throw`);
      await expectContained(run, w, 'step_failed: INTERNAL', 'INTERNAL');
    },
    120_000,
  );
});

describe('an event that crashes the worker every time', () => {
  /** Restarts the worker (failpoint set) after each crash while `more()`; the number of crashes. */
  async function crashLoop(run: Run, more: () => Promise<boolean>): Promise<number> {
    let crashes = 0;
    while (await more()) {
      let code: number | null;
      try {
        const w = await start(run, `apply:${POISON}=exit`);
        code = w.child.exitCode ?? (await new Promise<number | null>((r) => w.child.once('exit', r)));
      } catch (err) {
        // Crashed before it listened.
        code = /worker exited 86/.test((err as Error).message) ? 86 : null;
      }
      expect(code).toBe(86);
      if (++crashes > 8) throw new Error('still crashing');
    }
    return crashes;
  }

  it('is dead-lettered (processing_crashed) after 3 crashes on it alone; the rest as without it, readiness back', async () => {
    const run = await newRun('poison-crash', true);
    const pos = run.keys.partitionPos(run.keys.partitionOf(U));
    // Crashes until an owner passes it over: 3 at the position, then 3 tries alone.
    const crashes = await crashLoop(run, async () => !(await redis.hget(pos, 'tries'))?.endsWith('|3'));
    expect(crashes).toBe(5); // 2 at the position (the 3rd start isolates), 3 alone
    const w = await start(run, `apply:${POISON}=exit`);
    await expectContained(run, w, 'processing_crashed', 'PROCESSING_CRASHED');
  }, 240_000);

  it('two crashes on it alone dead-letter nothing: it is applied once it no longer crashes', async () => {
    const run = await newRun('poison-crash-twice', true);
    const pos = run.keys.partitionPos(run.keys.partitionOf(U));
    await crashLoop(run, async () => !(await redis.hget(pos, 'tries'))?.endsWith('|2'));
    await start(run);
    await settled(run);
    expect(await deadLetters(run)).toEqual([]);
    // Applied: U's critical detection raised it to high, as in a run that never crashed.
    expect((await userRisk(run.worker!.url, run.cfg.adminToken, U)).level).toBe('high');
  }, 240_000);
});
