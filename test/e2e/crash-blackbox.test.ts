/**
 * Issue 16, an outside tester's check (black box: the contract streams, `riskstream worker`
 * processes, the admin API, a loopback SSF receiver). A seeded workload, its times relative to
 * each run's start and fed on one schedule in every run, whose hits
 * - partly arrive already expired (`expires_after` counts from event time, CONTRACT §3: recorded,
 *   no level),
 * - partly raise levels for hours,
 * - and for some users expire WHILE the run goes on (high → medium: a high hit with 2 chunk
 *   intervals of life left when it arrives, beside a medium one), some of them then reset by an
 *   admin half an interval after their expiry,
 * fed while ONE worker meets the faults the other engine tests leave out — paused (SIGSTOP) past
 * its lease and woken, paused while a new process with its identity takes over, then woken (it
 * must be fenced), killed -9 during a configuration reload (SIGHUP), right after it listens
 * (leases re-acquired) and right after the receiver got a SET (delivery not yet marked done; the
 * receiver also answers 503 now and then) — and TWO workers under the default identity: the router
 * paused past its lease (the expiry sweep held back by the input it left unrouted), each killed
 * within 30 ms of a chunk (while routing), one killed during a reload. Each must give, per user,
 * the fault-free run's level, version, FULL risk-event history (every field but processing times
 * and row ids, `expired_on_arrival` included), risk view, sessions and place in the
 * users-by-level listing, and SETs in per-user order ending on the same levels.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { waitFor } from '../helpers/redis.js';
import { prng } from '../helpers/prng.js';
import { HOUR, MIN } from '../helpers/clock.js';
import { engineWorkload, ENGINE_BEHAVIORS, padded, SENTINEL_APP, type Workload, type WorkloadEvent } from '../helpers/engine-workload.js';
import {
  chunks,
  doubledIds,
  feed,
  fileRuns,
  killWorker,
  liveWorker,
  metric,
  newEngineRun,
  pauseWorker,
  settle,
  startEngineWorker,
  summary,
  type EngineRun,
  type Outcomes,
} from '../helpers/engine-run.js';
import type { WorkerProcess } from '../helpers/worker.js';

const ENGINE = { partitions: 32, commit_interval: '50ms', commit_entries: 5000, lease_ttl: '2s', heartbeat: '500ms', read_count: 1000 };
const LEASE_MS = 2000;
const FENCED = 'riskstream_engine_fenced_total';
/** The input arrives in CHUNKS chunks, one every INTERVAL ms from the run's start (the same schedule in every run). */
const CHUNKS = 14;
const INTERVAL = 1000;
/** How far the first half of each base user's events is moved back: their hits arrive expired. */
const SHIFT = 26 * HOUR;
/** endpoint_detection's life: the expiring users' high hits are this old, less 2 intervals, when they arrive. */
const EDR_LIFE = 14 * HOUR;
/**
 * Expiries between 10 h and 24 h: the recent half's events (8 h to 3 h old) make hits with life
 * left for hours, the shifted half's (≥ 29 h old) hits that expired hours before: only the
 * expiring users' high hits expire near the run's wall-clock time, between two chunks.
 */
const BEHAVIORS = {
  ...ENGINE_BEHAVIORS,
  impossible_travel: { ...(ENGINE_BEHAVIORS.impossible_travel as object), expires_after: '20h' },
  brute_force: { ...(ENGINE_BEHAVIORS.brute_force as object), expires_after: '10h' },
  dlp_detection: { ...(ENGINE_BEHAVIORS.dlp_detection as object), expires_after: '12h' },
  endpoint_detection: { ...(ENGINE_BEHAVIORS.endpoint_detection as object), expires_after: `${EDR_LIFE / HOUR}h` },
  session_hijack: { ...(ENGINE_BEHAVIORS.session_hijack as object), expires_after: '11h' },
};

/** The workload with the first half of each user's events (not the sentinel) `SHIFT` earlier, in event-time order again. */
function withOldHalf(wl: Workload): Workload {
  const total = new Map<string, number>();
  for (const e of wl.events) total.set(e.event.user, (total.get(e.event.user) ?? 0) + 1);
  const seen = new Map<string, number>();
  const moved = wl.events.map((e, i) => {
    const k = seen.get(e.event.user) ?? 0;
    seen.set(e.event.user, k + 1);
    const t = typeof e.event.time === 'number' ? e.event.time : Date.parse(e.event.time);
    const at = k < Math.floor(total.get(e.event.user)! / 2) ? t - SHIFT : t;
    const time = typeof e.event.time === 'number' ? at : new Date(at).toISOString();
    return { e: { stream: e.stream, event: { ...e.event, time } }, at, i };
  });
  moved.sort((a, b) => a.at - b.at || a.i - b.i);
  return { ...wl, events: moved.map((m) => m.e) };
}

/** A run's input: the workload and its chunks, times relative to `t0` (when chunk 0 is fed). */
interface Plan {
  t0: number;
  wl: Workload;
  chunks: WorkloadEvent[][];
}

/**
 * The plan of a run starting now: 120 base users (3 h–34 h old events) and 24 expiring users,
 * each: a critical EDR detection (high) whose life ends 2 intervals after its chunk a, and a high
 * DLP detection (medium, for hours) in chunk a, a low EDR detection (no hit) in chunk a + 4 and
 * the sentinel in chunk a + 5: low → high → medium, the fall 2 intervals from any arrival.
 */
function plan(): Plan {
  const t0 = Date.now() + 200;
  const base = padded(withOldHalf(engineWorkload({ users: 120, seed: 1605, sessions: true, base: t0 - 8 * HOUR })), 4);
  const cs = chunks(base.events, CHUNKS);
  const users = [...base.users];
  const sentinels = new Map(base.sentinels);
  for (let i = 0; i < 24; i++) {
    const user = `x1605-${String(i).padStart(2, '0')}@example.com`;
    const a = i % (CHUNKS - 5);
    const at = (chunk: number): number => t0 + chunk * INTERVAL;
    const ev = (k: number, time: number, e: Record<string, unknown> & { type: string }): WorkloadEvent => ({
      stream: 'activity',
      event: { ...e, id: `x1605-${i}-${k}`, user, time: new Date(time).toISOString() },
    });
    const edr = { type: 'endpoint', device: { id: `dx-${i}` }, vendor: 'crowdstrike', detection: 'malware' };
    cs[a]!.push(ev(1, at(a) + 2 * INTERVAL - EDR_LIFE, { ...edr, severity: 'critical' }));
    cs[a]!.push(ev(2, at(a) - MIN, { type: 'dlp', profile: 'credit-cards', severity: 'high', action: 'block', app: 'drive' }));
    cs[a + 4]!.push(ev(3, at(a + 4) - MIN / 2, { ...edr, detection: 'pup', severity: 'low' }));
    const sentinel = ev(4, at(a + 5) - MIN / 6, { type: 'access', outcome: 'allowed', app: SENTINEL_APP });
    cs[a + 5]!.push(sentinel);
    users.push(user);
    sentinels.set(user, sentinel.event.id);
  }
  return { t0, chunks: cs, wl: { users, sentinels, events: cs.flat() } };
}

/**
 * The admin resets (POST /v1/users/{user}/risk/reset) go out half an interval after chunk 2, all
 * at once, for users whose events start in chunk 0 (known by then in every run: a user whose
 * first events wait unprocessed is unknown to the API, 404): the expiring users of chunk 0, whose
 * high expired half an interval before (→ medium → low), and four base users, low by then (their
 * detector windows are cleared).
 */
const RESET_AT = 2.5 * INTERVAL;
function resetUsers(p: Plan): string[] {
  const first = [...new Set(p.chunks[0]!.map((e) => e.event.user))];
  return [
    ...first.filter((u) => u.startsWith('x')),
    ...first
      .filter((u) => u.startsWith('u'))
      .sort()
      .slice(0, 4),
  ];
}

/**
 * Resets `users` through the admin API of a live worker, all at once (their answers logged). A request a killed worker
 * never answered is sent to another (a reset sent twice: the second finds the user low, and
 * changes nothing the comparison reads); one unanswered after a second counts as appended (the
 * API appends to the control stream before it waits for the owner).
 */
async function resets(run: EngineRun, users: string[]): Promise<void> {
  const answers = await Promise.all(
    users.map(async (user) => {
      for (let attempt = 0; ; attempt++) {
        const w = liveWorker(run);
        const sent = await fetch(`${w.url}/v1/users/${encodeURIComponent(user)}/risk/reset`, {
          method: 'POST',
          headers: { authorization: `Bearer ${run.cfg.adminToken}`, 'content-type': 'application/json' },
          body: JSON.stringify({ reason: 'black-box check' }),
          signal: AbortSignal.timeout(1000),
        }).then(
          (res) => String(res.status),
          (err: unknown) => ((err as Error).name === 'TimeoutError' ? 'no answer in 1 s' : undefined),
        );
        if (sent || attempt === 3) return `${user} ${sent ?? 'not sent'}`;
      }
    }),
  );
  console.log(`${run.name}: resets: ${answers.join(', ')}`);
}

/** Feeds a plan's chunk j at t0 + j × INTERVAL, and the resets at t0 + RESET_AT, in the background; `fed()` counts chunks fed. */
function feedPlan(run: EngineRun, p: Plan): { done: Promise<void>; fed: () => number } {
  let count = 0;
  const done = (async () => {
    for (const [j, c] of p.chunks.entries()) {
      await new Promise((r) => setTimeout(r, Math.max(0, p.t0 + j * INTERVAL - Date.now())));
      await feed(redis, run, c);
      count++;
      if (j * INTERVAL < RESET_AT && RESET_AT < (j + 1) * INTERVAL) {
        await new Promise((r) => setTimeout(r, Math.max(0, p.t0 + RESET_AT - Date.now())));
        await resets(run, resetUsers(p));
      }
    }
  })();
  return { done, fed: () => count };
}

const { runs, redis } = fileRuns();

async function newRun(name: string): Promise<EngineRun> {
  const run = await newEngineRun(name, ENGINE);
  writeFileSync(join(run.cfg.dir, 'behaviors.yaml'), stringify(BEHAVIORS));
  runs.push(run);
  return run;
}

/** Field names that tell when riskstream processed something (or name a row), not what happened. */
const PROCESSING = new Set(['id', 'processed_at', 'changed_at']);

function withoutProcessing(x: unknown, kind?: string): unknown {
  if (Array.isArray(x)) return x.map((v) => withoutProcessing(v));
  if (x === null || typeof x !== 'object') return x;
  const o = x as Record<string, unknown>;
  const k = kind ?? (typeof o.kind === 'string' ? o.kind : undefined);
  return Object.fromEntries(
    Object.entries(o)
      // A change's `time` is its processing time (its `occurred_at` is the event time); a reset
      // occurs when its request arrived (a few ms apart in two runs: its place among the events is compared).
      .filter(([key]) => !PROCESSING.has(key) && !(k === 'change' && (key === 'time' || (key === 'occurred_at' && o.initiatingEntity === 'admin'))))
      .map(([key, v]) => [key, withoutProcessing(v)]),
  );
}

/** JSON with every timestamp (ISO-8601 or epoch ms) written as its offset from `t0`: runs at other times compare. */
function relative(json: string, t0: number): string {
  return json
    .replace(/\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d+)?Z/g, (iso) => `T${Date.parse(iso) - t0}`)
    .replace(/\b1[6-9]\d{11}\b/g, (ms) => `"T${Number(ms) - t0}"`);
}

async function get(run: EngineRun, path: string): Promise<unknown> {
  const w = liveWorker(run);
  const res = await fetch(`${w.url}${path}`, { headers: { authorization: `Bearer ${run.cfg.adminToken}` }, signal: AbortSignal.timeout(10_000) });
  if (res.status !== 200) return `HTTP ${res.status}`;
  return res.json();
}

/** Per user: the risk view and every risk event (all pages), without processing times and row ids, times relative to t0. */
async function fullState(run: EngineRun, p: Plan): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  const users = [...p.wl.users];
  await Promise.all(
    Array.from({ length: 8 }, async () => {
      for (let u = users.shift(); u !== undefined; u = users.shift()) {
        const enc = encodeURIComponent(u);
        const risk = await get(run, `/v1/users/${enc}/risk`);
        const events: unknown[] = [];
        let cursor: string | null = null;
        do {
          const page = (await get(run, `/v1/users/${enc}/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)) as {
            events: unknown[];
            next_cursor: string | null;
          };
          events.push(...page.events);
          cursor = page.next_cursor;
        } while (cursor);
        out[u] = relative(JSON.stringify({ risk: withoutProcessing(risk), events: withoutProcessing(events) }), p.t0);
      }
    }),
  );
  // The users-by-level index (GET /v1/users, all pages): each user once, at their level.
  const listed: string[] = [];
  let cursor: string | null = null;
  do {
    const page = (await get(run, `/v1/users?limit=1000${cursor ? `&cursor=${cursor}` : ''}`)) as {
      users: Array<{ user: string; level: string }>;
      next_cursor: string | null;
    };
    listed.push(...page.users.map((x) => `${x.user} ${x.level}`));
    cursor = page.next_cursor;
  } while (cursor);
  out['GET /v1/users'] = JSON.stringify(listed.sort());
  return out;
}

/** The helper's outcomes (level, version, hits, sessions; changes only counted: fullState compares them), times relative to t0. */
function relativeOutcomes(o: Outcomes, t0: number): Record<string, string> {
  return Object.fromEntries(Object.entries(o).map(([u, x]) => [u, relative(JSON.stringify({ ...x, changes: x.changes.length }), t0)]));
}

function stateDifferences(want: Record<string, string>, got: Record<string, string>): string[] {
  const users = Object.keys({ ...want, ...got }).filter((u) => want[u] !== got[u]);
  return [...users.slice(0, 4).map((u) => `${u}:\n  want ${want[u]}\n  got  ${got[u]}`), ...(users.length > 4 ? [`… ${users.length} users`] : [])];
}

/** The receiver of every run: every 7th request answered 503 (retried with backoff); `onSet` is told of each. */
function flakyReceiver(run: EngineRun, onSet?: () => void): void {
  run.receiver.respond = (_set, n) => {
    onSet?.();
    return n % 7 === 0 ? { status: 503 } : { status: 202 };
  };
}

interface Result {
  outcomes: Record<string, string>;
  full: Record<string, string>;
  finalLevels: Record<string, string>;
}

/** Settles a run, reads it back and checks its SETs and doubled hits. */
async function result(run: EngineRun, p: Plan, what: string, log: string[] = []): Promise<Result> {
  const got = await settle(redis, run, p.wl);
  const full = await fullState(run, p);
  console.log(`${what}${log.length ? ` (${log.join(' ')})` : ''}: ${summary(got.outcomes)}; ${run.receiver.received.length} SETs`);
  expect(got.problems).toEqual([]);
  expect(doubledIds(got.outcomes)).toEqual([]);
  return { outcomes: relativeOutcomes(got.outcomes, p.t0), full, finalLevels: got.finalLevels };
}

function expectSame(want: Result, got: Result): void {
  expect(stateDifferences(want.outcomes, got.outcomes)).toEqual([]);
  expect(stateDifferences(want.full, got.full)).toEqual([]);
  expect(got.finalLevels).toEqual(want.finalLevels);
}

let ref: Result | undefined;

describe('black-box crash check (issue 16): faults at start, reload, delivery and pauses past the lease', () => {
  it('fault-free reference: expired-on-arrival, live and expiring hits; a receiver that answers 503 now and then', async () => {
    const run = await newRun('bbref');
    flakyReceiver(run);
    await startEngineWorker(run, 'bb-ref');
    const p = plan();
    await feedPlan(run, p).done;
    ref = await result(run, p, `bb ref: ${p.wl.events.length} events, ${p.wl.users.length} users`);
    // The workload exercises what the comparison depends on: late hits beside live ones, levels raised and expired while it ran.
    const events = p.wl.users.flatMap((u) => (JSON.parse(ref!.full[u]!) as { events: Array<{ kind: string; expired_on_arrival?: boolean }> }).events);
    expect(events.filter((e) => e.kind !== 'change' && e.expired_on_arrival).length, 'hits expired on arrival').toBeGreaterThan(20);
    expect(events.filter((e) => e.kind !== 'change' && e.expired_on_arrival === false).length, 'live hits').toBeGreaterThan(20);
    expect((JSON.parse(ref.full['GET /v1/users']!) as string[]).length, 'users listed by level').toBe(p.wl.users.length);
    const reset = p.wl.users.filter((u) => ref!.full[u]!.includes('"initiatingEntity":"admin"'));
    expect(reset.length, 'users whose reset changed their level').toBe(3);
    const fell = p.wl.users.filter((u) => /"previous":"high","current":"medium"/i.test(ref!.full[u]!));
    expect(fell.length, 'users whose high expired while the run went on').toBeGreaterThanOrEqual(20);
    await Promise.all(run.workers.map((w) => killWorker(run, w, 'SIGTERM')));
  }, 60_000);

  it('one identity paused past its lease, superseded while paused, killed -9 during a reload, after start and after a delivery: identical outcome', async () => {
    expect(ref).toBeDefined();
    const run = await newRun('bbfault');
    const rand = prng(16_05);
    const jitter = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.floor(rand() * ms)));
    let setArrived: (() => void) | undefined;
    flakyReceiver(run, () => {
      setArrived?.();
      setArrived = undefined;
    });
    const log: string[] = [];
    // Running before the input starts: the resets of chunk 2½ go through it.
    let w: WorkerProcess = await startEngineWorker(run, 'bb');
    const p = plan();
    const input = feedPlan(run, p);
    const at = (what: string): void => void log.push(`${what} (chunk ${input.fed()});`);

    // 1. Paused past its lease (alone: nobody takes over), woken: it must take its partitions again, not commit on stale leases.
    await waitFor(() => input.fed() >= 4, { timeout: 20_000, what: 'chunk 4' });
    await jitter(200);
    pauseWorker(run, w, true);
    await new Promise((r) => setTimeout(r, LEASE_MS + 1000));
    pauseWorker(run, w, false);
    at('paused past its lease');

    // 2. Paused again, and a new process with the same identity starts (a supervisor restarted it): the woken one must be fenced.
    await jitter(200);
    pauseWorker(run, w, true);
    const old = w;
    w = await startEngineWorker(run, 'bb');
    await jitter(500);
    pauseWorker(run, old, false);
    at('superseded while paused');

    // 3. The successor killed during a configuration reload (the same files: the outcome must not change).
    w.child.kill('SIGHUP');
    await jitter(150);
    await killWorker(run, w);
    at('killed during a reload');

    // 4. Killed right after it listens: while it (re)acquires its leases and starts its owners.
    w = await startEngineWorker(run, 'bb');
    await jitter(400);
    await killWorker(run, w);
    at('killed after start');

    // 5. Killed right after the receiver got a SET (before the worker heard the answer).
    w = await startEngineWorker(run, 'bb');
    await new Promise<void>((r) => (setArrived = r));
    await killWorker(run, w);
    at('killed after a SET arrived');
    w = await startEngineWorker(run, 'bb');
    await input.done;
    const got = await result(run, p, 'bb faults', log);
    // The woken process noticed the newer one with its identity (and stopped processing).
    const superseded = old.output().includes('superseded by a newer process');
    console.log(`bb faults: the woken one: ${FENCED} ${await metric(run, old, FENCED)}, superseded ${superseded}`);
    expect(superseded).toBe(true);
    expectSame(ref!, got);
    await killWorker(run, old);
  }, 120_000);

  it('two workers under the default identity: killed -9 while routing, the router paused past the lease while the other takes over, killed during a reload: identical outcome', async () => {
    expect(ref).toBeDefined();
    const run = await newRun('bbpair');
    flakyReceiver(run);
    const rand = prng(16_06);
    const jitter = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, Math.floor(rand() * ms)));
    const live: WorkerProcess[] = [await startEngineWorker(run), await startEngineWorker(run)];
    const p = plan();
    const input = feedPlan(run, p);
    const log: string[] = [];
    // The next chunk's XADDs (all in when the input is done: the fault then lands on the backlog's processing).
    const nextChunk = async (): Promise<void> => {
      const seen = input.fed();
      await waitFor(() => input.fed() > seen || input.fed() === CHUNKS, { timeout: 20_000, interval: 5, what: 'the next chunk' });
      log.push(`chunk ${input.fed()}:`);
    };
    // 1. The router (the worker routing the input) paused past its lease while chunks arrive, its reads
    //    held: the other takes the router and its partitions; then woken (what it held is routed by the other).
    await nextChunk();
    // Not before the users reset at 2½ are known (else their resets get 404, which the reference's do not).
    await waitFor(
      async () =>
        (await Promise.all(resetUsers(p).map(async (u) => (await get(run, `/v1/users/${encodeURIComponent(u)}/risk`)) !== 'HTTP 404'))).every(Boolean),
      {
        timeout: 10_000,
        what: 'the users to reset known',
      },
    );
    const routes = async (w: WorkerProcess): Promise<boolean> => (await metric(run, w, 'riskstream_engine_router_owned')) === 1;
    const router = (await waitFor(async () => ((await routes(live[0]!)) ? 1 : (await routes(live[1]!)) ? 2 : 0), { timeout: 10_000, what: 'a router' })) - 1;
    await jitter(100);
    pauseWorker(run, live[router]!, true);
    await new Promise((r) => setTimeout(r, LEASE_MS + 1500));
    pauseWorker(run, live[router]!, false);
    log.push(`w${router} (the router) paused past its lease;`);
    // 2. Each killed -9 within 30 ms of a chunk's XADDs (while routing it), restarted under the default identity.
    for (const i of [0, 1]) {
      await nextChunk();
      await jitter(30);
      await killWorker(run, live[i]!);
      live[i] = await startEngineWorker(run);
      log.push(`w${i} killed while routing;`);
    }
    // 3. One killed during a reload, restarted.
    await nextChunk();
    live[1]!.child.kill('SIGHUP');
    await jitter(150);
    await killWorker(run, live[1]!);
    live[1] = await startEngineWorker(run);
    log.push('w1 killed during a reload');
    await input.done;
    expectSame(ref!, await result(run, p, 'bb pair', log));
  }, 120_000);
});
