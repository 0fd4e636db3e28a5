/**
 * Black-box runs of the engine for the crash, lease and rebalance tests (issue 16): a prefix, a
 * real SSF receiver, a config and worker child processes; input is XADDed to the contract
 * streams, results are read through the admin API (`/v1/users/{user}/risk`, `/events`,
 * `/metrics`) and the receiver — never through the engine's own keys.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import { pipeline, type RedisClient as Redis } from '../../src/redis/client.js';
import { afterAll } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from './redis.js';
import { eventOf, startReceiver, type TestReceiver } from './receiver.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from './worker.js';
import { ENGINE_BEHAVIORS, type Workload, type WorkloadEvent } from './engine-workload.js';
import { changesOf, checkSetSequences, explainSets, type SeenSet, type SetTally } from './set-sequences.js';

export const RX = 'rx';

/** One isolated run: its prefix, receiver, config and the workers started on it. */
export interface EngineRun {
  name: string;
  prefix: string;
  receiver: TestReceiver;
  cfg: TestConfig;
  workers: WorkerProcess[];
  /** Serves the transmitter's JWKS (copied from the first worker) for as long as the run lives, whichever worker is up. */
  jwks?: Server;
  /** The JWKS it serves. */
  jwksBody?: string;
  /** Workers stopped with SIGSTOP (not asked through the API). */
  paused: Set<WorkerProcess>;
}

/** A user's outcome, without processing-time fields. */
export interface UserOutcome {
  level: string;
  version: number;
  /** Hits in history order: `behavior|level|occurred_at|event ids`. */
  hits: string[];
  /** Level changes in history order: `v<version> previous→current @occurred_at [behaviors]`. */
  changes: string[];
  /** Active sessions (GET /v1/users/{user}/sessions): `id login_at expires_at refreshed_at device`, by id. */
  sessions: string[];
}

export type Outcomes = Record<string, UserOutcome>;

/** A new run with the given `engine:` settings (and the workload's behaviors). */
export async function newEngineRun(
  name: string,
  engine: Record<string, unknown>,
  extra: Record<string, unknown> = {},
  cluster?: readonly string[],
): Promise<EngineRun> {
  const prefix = testPrefix(`eng-${name}`);
  const receiver = await startReceiver();
  const cfg = await writeTestConfig(
    prefix,
    {
      receivers: [{ name: RX, kind: 'ssf', endpoint: `${receiver.url}/events`, audience: 'https://rx.test', subject_format: 'email' }],
      delivery: { backoff_base: '100ms', backoff_max: '1s', concurrency: 16 },
      engine,
      ...extra,
      ...(cluster ? { redis: { ...(extra.redis as object | undefined), cluster, prefix } } : {}),
    },
    ENGINE_BEHAVIORS,
  );
  return { name, prefix, receiver, cfg, workers: [], paused: new Set() };
}

/**
 * Starts a worker. `id` sets RISKSTREAM_WORKER_ID (and RISKSTREAM_CONSUMER, today's name for
 * it); without `id` the worker picks its default identity.
 */
export async function startEngineWorker(run: EngineRun, id?: string): Promise<WorkerProcess> {
  const w = await spawnWorker(run.cfg.dir, id ? { RISKSTREAM_WORKER_ID: id, RISKSTREAM_CONSUMER: id } : {});
  run.workers.push(w);
  if (!run.jwks) {
    const body = await (await fetch(`${w.url}/.well-known/jwks.json`)).text();
    const server = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(body);
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    run.jwks = server;
    run.jwksBody = body;
    run.receiver.setJwks(`http://127.0.0.1:${(server.address() as AddressInfo).port}/jwks.json`);
  }
  return w;
}

/** Stops a worker (SIGKILL: no drain) and forgets it. */
export async function killWorker(run: EngineRun, w: WorkerProcess, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
  await w.stop(signal);
  run.workers = run.workers.filter((x) => x !== w);
}

/**
 * XADDs events to the run's contract streams (`<prefix>:login` / `<prefix>:activity`), in order, as
 * one `event` JSON field. Throws when an XADD failed (a pipeline reports errors per command).
 * `acked`: each XADD waits for the previous one's reply — the order a producer keeps across a
 * cluster failover, where ioredis retries each command that met a closed connection on its own
 * (through a random node and its redirections), so XADDs sent together can land out of order.
 */
export async function feed(redis: Redis, run: EngineRun, events: readonly WorkloadEvent[], { acked = false } = {}): Promise<void> {
  if (acked) {
    for (const e of events) await redis.xadd(`${run.prefix}:${e.stream}`, '*', 'event', JSON.stringify(e.event));
    return;
  }
  for (let i = 0; i < events.length; i += 500) {
    const p = pipeline(redis);
    for (const e of events.slice(i, i + 500)) p.xadd(`${run.prefix}:${e.stream}`, '*', 'event', JSON.stringify(e.event));
    const failed = (await p.exec())?.find(([err]) => err);
    if (failed) throw new Error(`${run.name}: XADD failed: ${failed[0]!.message}`);
  }
}

/** `n` chunks of nearly equal size, in order. */
export function chunks<T>(xs: readonly T[], n: number): T[][] {
  const size = Math.ceil(xs.length / n);
  return Array.from({ length: n }, (_, i) => xs.slice(i * size, (i + 1) * size)).filter((c) => c.length > 0);
}

/** A live worker of the run (the newest). */
export function liveWorker(run: EngineRun): WorkerProcess {
  const w = [...run.workers].reverse().find((x) => x.child.exitCode === null && x.child.signalCode === null && !run.paused.has(x));
  if (!w) throw new Error(`${run.name}: no live worker`);
  return w;
}

async function api<T>(run: EngineRun, path: string, w: WorkerProcess = liveWorker(run)): Promise<{ status: number; body: T }> {
  const res = await fetch(`${w.url}${path}`, { headers: { authorization: `Bearer ${run.cfg.adminToken}` }, signal: AbortSignal.timeout(10_000) });
  const text = await res.text();
  return { status: res.status, body: (text.startsWith('{') || text.startsWith('[') ? JSON.parse(text) : text) as T };
}

/** Runs `fn` over `xs` with at most `n` at once. */
async function pool<T, R>(xs: readonly T[], n: number, fn: (x: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(xs.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(n, xs.length) }, async () => {
      while (next < xs.length) {
        const i = next++;
        out[i] = await fn(xs[i]!);
      }
    }),
  );
  return out;
}

interface ApiEvent {
  kind: string;
  id?: string;
  behavior?: string;
  level?: string;
  eventIds?: string[];
  version?: number;
  previous?: string;
  current?: string;
  behaviors?: string[];
  occurred_at?: string | null;
}

/** A user's risk events, oldest first (all pages). */
async function history(run: EngineRun, user: string, w?: WorkerProcess): Promise<ApiEvent[]> {
  const out: ApiEvent[] = [];
  let cursor: string | null = null;
  do {
    const q: string = `/v1/users/${encodeURIComponent(user)}/events?limit=1000${cursor ? `&cursor=${cursor}` : ''}`;
    const r = await api<{ events: ApiEvent[]; next_cursor: string | null }>(run, q, w);
    if (r.status === 404) return [];
    if (r.status !== 200) throw new Error(`${q}: ${r.status} ${JSON.stringify(r.body)}`);
    out.push(...r.body.events);
    cursor = r.body.next_cursor;
  } while (cursor);
  return out.reverse();
}

/**
 * Waits until every user's sentinel hit is in their history (all their events applied and
 * committed). Users already complete are not asked again.
 */
export async function waitApplied(run: EngineRun, wl: Workload, timeout = 60_000): Promise<void> {
  const left = new Set(wl.users);
  await waitFor(
    async () => {
      const todo = [...left];
      const done = await pool(todo, 16, async (u) => {
        const r = await api<{ events: ApiEvent[] }>(run, `/v1/users/${encodeURIComponent(u)}/events?limit=5`);
        return r.status === 200 && r.body.events.some((e) => e.kind !== 'change' && e.eventIds?.includes(wl.sentinels.get(u)!));
      });
      todo.forEach((u, i) => done[i] && left.delete(u));
      return left.size === 0;
    },
    { timeout, interval: 250, what: `${run.name}: every user's sentinel applied (${left.size} left, e.g. ${[...left].slice(0, 3).join(', ')})` },
  );
}

/** Every user's (level, version) and risk-event history through the admin API. */
export async function outcomes(run: EngineRun, wl: Workload, w?: WorkerProcess): Promise<Outcomes> {
  const rows = await pool(wl.users, 16, async (u): Promise<[string, UserOutcome]> => {
    const risk = await api<{ level: string; version: number }>(run, `/v1/users/${encodeURIComponent(u)}/risk`, w);
    if (risk.status !== 200) return [u, { level: `HTTP ${risk.status}`, version: -1, hits: [], changes: [], sessions: [] }];
    const h = await history(run, u, w);
    const s = await api<{ sessions: Array<Record<string, unknown>> }>(run, `/v1/users/${encodeURIComponent(u)}/sessions`, w);
    return [
      u,
      {
        level: risk.body.level,
        version: risk.body.version,
        hits: h.filter((e) => e.kind !== 'change').map((e) => `${e.behavior}|${e.level}|${e.occurred_at}|${(e.eventIds ?? []).join(',')}`),
        changes: h
          .filter((e) => e.kind === 'change')
          .map((e) => `v${e.version} ${e.previous}→${e.current} @${e.occurred_at} [${(e.behaviors ?? []).join(',')}]`),
        sessions: (s.body.sessions ?? [])
          .map(
            (x) =>
              `${String(x.session_id)} ${String(x.login_at)} ${String(x.expires_at)} ${String(x.refreshed_at)} ${String((x.device as { id?: string } | undefined)?.id)}`,
          )
          .sort(),
      },
    ];
  });
  return Object.fromEntries(rows);
}

/** Change id (SET `txn`) → version, per user, from the run's histories. */
async function changeIds(run: EngineRun, wl: Workload): Promise<Map<string, { user: string; version: number; level: string }>> {
  const out = new Map<string, { user: string; version: number; level: string }>();
  const all = await pool(wl.users, 16, async (u) => [u, await history(run, u)] as const);
  for (const [u, h] of all)
    for (const e of h) if (e.kind === 'change' && e.id) out.set(e.id, { user: u, version: e.version!, level: String(e.current).toLowerCase() });
  return out;
}

/** One SET as received: user, jti, txn, level. */
interface Got {
  user: string;
  jti: string;
  txn: string;
  level: string;
}

function receivedSets(run: EngineRun): Got[] {
  return run.receiver.received.map((s) => {
    const claims = decodeJwt(s.token);
    const email = (claims.sub_id as { email?: string } | undefined)?.email ?? '?';
    return { user: email, jti: String(claims.jti), txn: String(claims.txn), level: String(eventOf({ claims }).body.current_level).toLowerCase() };
  });
}

/** Waits until the receiver got, for every user with a level change, the SET of their final version. */
export async function waitDelivered(run: EngineRun, got: Outcomes, wl: Workload, timeout = 60_000): Promise<void> {
  const ids = await changeIds(run, wl);
  await waitFor(
    () => {
      const last = new Map<string, number>();
      for (const s of receivedSets(run)) {
        const c = ids.get(s.txn);
        if (c) last.set(c.user, Math.max(last.get(c.user) ?? 0, c.version));
      }
      return Object.entries(got).every(([u, o]) => o.version === 0 || last.get(u) === o.version);
    },
    { timeout, interval: 200, what: `${run.name}: every final level delivered` },
  );
}

/**
 * Checks the receiver's SETs: all verified, each for a committed change of its user with that
 * change's level; per user the SETs are the user's level changes in order, less superseded ones
 * (test/helpers/set-sequences.ts: a resend — the same jti — is allowed and counted, another jti for
 * the same version is a doubled SET), ending on the user's final level. Returns the problems found
 * (empty when none), the last delivered level per user and the tally of the SETs.
 */
export async function checkSets(
  run: EngineRun,
  got: Outcomes,
  wl: Workload,
): Promise<{ problems: string[]; finalLevels: Record<string, string>; sets: SetTally }> {
  const ids = await changeIds(run, wl);
  const problems: string[] = [];
  // Verified here against the run's JWKS (the receiver may have got a SET before it knew the JWKS URL).
  const keys = createLocalJWKSet(JSON.parse(run.jwksBody ?? '{"keys":[]}') as JSONWebKeySet);
  const bad: string[] = [];
  for (const s of run.receiver.received) await jwtVerify(s.token, keys, { audience: 'https://rx.test' }).catch((e: unknown) => bad.push(String(e)));
  if (bad.length) problems.push(`${bad.length} SETs failed verification: ${bad[0]}`);
  const seen: SeenSet[] = [];
  for (const s of receivedSets(run)) {
    const c = ids.get(s.txn);
    if (!c) problems.push(`SET ${s.jti} for ${s.user}: txn ${s.txn} is no committed change`);
    else if (c.user !== s.user || c.level !== s.level) problems.push(`SET ${s.jti}: ${s.user} ${s.level}, the change says ${c.user} v${c.version} ${c.level}`);
    seen.push({ ...s, version: c?.user === s.user ? c.version : undefined });
  }
  const changes = Object.fromEntries(Object.entries(got).map(([u, o]) => [u, changesOf(o.changes)]));
  const sequences = checkSetSequences(seen, changes);
  problems.push(...sequences.problems);
  const finalLevels: Record<string, string> = {};
  const once = new Set<string>();
  for (const s of seen) if (!once.has(s.jti) && once.add(s.jti)) finalLevels[s.user] = s.level;
  return { problems, finalLevels, sets: sequences.tally };
}

/** The users whose outcome differs, each with both sides (readable in a failed assertion). */
export function differences(want: Outcomes, got: Outcomes, limit = 10): string[] {
  const out: string[] = [];
  for (const u of Object.keys({ ...want, ...got }).sort()) {
    const a = want[u];
    const b = got[u];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    if (!a || !b) {
      out.push(`${u}: ${a ? 'missing in the faulty run' : 'missing in the reference'}`);
      continue;
    }
    const parts: string[] = [];
    if (a.level !== b.level || a.version !== b.version) parts.push(`level/version ${a.level}/v${a.version} → ${b.level}/v${b.version}`);
    if (JSON.stringify(a.changes) !== JSON.stringify(b.changes)) parts.push(`changes ${JSON.stringify(a.changes)} → ${JSON.stringify(b.changes)}`);
    if (JSON.stringify(a.sessions) !== JSON.stringify(b.sessions)) parts.push(`sessions ${JSON.stringify(a.sessions)} → ${JSON.stringify(b.sessions)}`);
    if (JSON.stringify(a.hits) !== JSON.stringify(b.hits)) {
      const extra = b.hits.filter((h) => !a.hits.includes(h));
      const missing = a.hits.filter((h) => !b.hits.includes(h));
      parts.push(
        `hits ${a.hits.length} → ${b.hits.length}${missing.length ? `, missing ${JSON.stringify(missing)}` : ''}${extra.length ? `, extra ${JSON.stringify(extra)}` : ''}${!missing.length && !extra.length ? ' (same hits, other order or count)' : ''}`,
      );
    }
    out.push(`${u}: ${parts.join('; ')}`);
  }
  return out.length > limit ? [...out.slice(0, limit), `… and ${out.length - limit} more users`] : out;
}

/**
 * Event ids that trigger a hit on their own (DLP, EDR, sentinel: one id per hit) and appear in
 * more than one hit of a user's history — a doubled application.
 */
export function doubledIds(got: Outcomes): string[] {
  const out: string[] = [];
  for (const [u, o] of Object.entries(got)) {
    const seen = new Map<string, number>();
    for (const h of o.hits) {
      const [behavior, , , ids] = h.split('|');
      if (!['dlp_detection', 'endpoint_detection', 'sentinel'].includes(behavior!)) continue;
      for (const id of ids!.split(',')) seen.set(id, (seen.get(id) ?? 0) + 1);
    }
    for (const [id, n] of seen) if (n > 1) out.push(`${u}: ${id} ×${n}`);
    if (new Set(o.hits).size !== o.hits.length) out.push(`${u}: a hit repeated`);
  }
  return out;
}

/** SIGSTOP (pause) or SIGCONT (resume) a worker; a paused worker is not asked through the API. */
export function pauseWorker(run: EngineRun, w: WorkerProcess, pause: boolean): void {
  w.child.kill(pause ? 'SIGSTOP' : 'SIGCONT');
  if (pause) run.paused.add(w);
  else run.paused.delete(w);
}

/** Sum of a metric's samples (all label sets) on a worker's `/metrics`; undefined when absent. */
export async function metric(run: EngineRun, w: WorkerProcess, name: string): Promise<number | undefined> {
  const r = await api<string>(run, '/metrics', w);
  if (r.status !== 200) throw new Error(`/metrics: ${r.status}`);
  let sum: number | undefined;
  for (const line of String(r.body).split('\n')) {
    const m = new RegExp(`^${name}(?:\\{[^}]*\\})?\\s+(\\S+)`).exec(line);
    if (m) sum = (sum ?? 0) + Number(m[1]);
  }
  return sum;
}

/** Each live worker's owned partitions. */
export async function ownership(run: EngineRun, workers: WorkerProcess[]): Promise<number[]> {
  return Promise.all(workers.map(async (w) => (await metric(run, w, 'riskstream_engine_partitions_owned')) ?? Number.NaN));
}

/** Waits until the workers own every partition between them, each at least one. */
export async function balanced(run: EngineRun, workers: WorkerProcess[], partitions: number, what: string): Promise<number[]> {
  let last: number[] = [];
  await waitFor(
    async () => {
      last = await ownership(run, workers);
      return last.every((n) => n > 0) && last.reduce((a, b) => a + b, 0) === partitions;
    },
    { timeout: 15_000, interval: 100, what: `${what}: riskstream_engine_partitions_owned summing to ${partitions}, each > 0` },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last: ${last.map((n) => (Number.isNaN(n) ? 'metric absent' : n)).join(', ')}`);
  });
  return last;
}

/** A short summary of outcomes: users per final (level, version) and hit/change totals. */
export function summary(o: Outcomes): string {
  const by: Record<string, number> = {};
  let hits = 0;
  let changes = 0;
  for (const x of Object.values(o)) {
    by[`${x.level}/v${x.version}`] = (by[`${x.level}/v${x.version}`] ?? 0) + 1;
    hits += x.hits.length;
    changes += x.changes.length;
  }
  return `${JSON.stringify(by)}; ${hits} hits, ${changes} changes`;
}

/** Stops every worker (SIGKILL), the receiver and the JWKS server; purges the prefix. */
export async function disposeRun(redis: Redis, run: EngineRun): Promise<void> {
  for (const w of run.workers) {
    if (run.paused.has(w)) w.child.kill('SIGCONT');
    await w.stop('SIGKILL');
  }
  run.workers = [];
  await run.receiver.close();
  await new Promise<void>((r) => (run.jwks ? run.jwks.close(() => r()) : r()));
  await cleanup(redis, run.prefix);
  run.cfg.remove();
}

/** What a fault-free run of a workload produced. */
export interface Reference {
  run: EngineRun;
  outcomes: Outcomes;
  finalLevels: Record<string, string>;
  /** Its SETs' tally ({@link checkSets}). */
  sets?: SetTally;
}

/**
 * The fault-free reference: one worker, everything fed at once, waited until applied and every
 * final level delivered. Checks the receiver (problems fail the calling test via `problems`).
 */
export async function referenceRun(
  redis: Redis,
  wl: Workload,
  engine: Record<string, unknown>,
  name = 'ref',
  cluster?: readonly string[],
): Promise<Reference & { problems: string[] }> {
  const run = await newEngineRun(name, engine, {}, cluster);
  await startEngineWorker(run, `${name}-1`);
  await feed(redis, run, wl.events);
  const got = await settle(redis, run, wl, { stableMs: 500 });
  return { run, ...got };
}

/**
 * {@link referenceRun} for tests that compare faulty runs with it: logs a summary, then stops its
 * worker (SIGTERM) so it does not compete with the faulty runs for the machine.
 */
export async function stoppedReference(redis: Redis, wl: Workload, engine: Record<string, unknown>, name: string): Promise<Reference & { problems: string[] }> {
  const r = await referenceRun(redis, wl, engine, name);
  console.log(`${name}: ${wl.events.length} events, ${wl.users.length} users: ${summary(r.outcomes)}; ${r.run.receiver.received.length} SETs`);
  await Promise.all(r.run.workers.map((w) => killWorker(r.run, w, 'SIGTERM')));
  return r;
}

/** How a faulty run compares with the reference: every list empty ({@link MATCHES}) when it matches. */
export interface Verdict {
  /** What {@link checkSets} found wrong with the SETs. */
  problems: string[];
  /** {@link differences} of the outcomes. */
  differences: string[];
  /** {@link doubledIds}. */
  doubled: string[];
  /** Users whose last SET's level differs: `user: reference → faulty`. */
  finalLevels: string[];
}

/** The verdict of a run that matches its reference. */
export const MATCHES: Verdict = { problems: [], differences: [], doubled: [], finalLevels: [] };

/** Settles a faulty run ({@link settle}), logs a summary under `what`, and compares it with `ref`. */
export async function versusReference(redis: Redis, run: EngineRun, wl: Workload, ref: Reference, what: string): Promise<Verdict> {
  const t0 = Date.now();
  const got = await settle(redis, run, wl);
  console.log(`${what}: ${summary(got.outcomes)}; ${run.receiver.received.length} SETs; settled in ${Date.now() - t0} ms`);
  // The SETs' count explained (resends are at-least-once; a level superseded in one run may be delivered in the other).
  if (ref.sets) console.log(`${run.name}: ${explainSets(ref.sets, got.sets)}`);
  const users = Object.keys({ ...ref.finalLevels, ...got.finalLevels }).sort();
  return {
    problems: got.problems,
    differences: differences(ref.outcomes, got.outcomes),
    doubled: doubledIds(got.outcomes),
    finalLevels: users.filter((u) => ref.finalLevels[u] !== got.finalLevels[u]).map((u) => `${u}: ${ref.finalLevels[u]} → ${got.finalLevels[u]}`),
  };
}

/**
 * True when every consumer group on the run's contract streams (whatever reads them) has read
 * everything and has nothing pending.
 */
async function contractStreamsDrained(redis: Redis, run: EngineRun): Promise<boolean> {
  for (const s of ['login', 'activity']) {
    const key = `${run.prefix}:${s}`;
    if ((await redis.exists(key)) === 0) continue;
    const groups = ((await redis.xinfo('GROUPS', key)) as unknown[][]).map((row) =>
      Object.fromEntries(Array.from({ length: row.length / 2 }, (_, i) => [row[2 * i], row[2 * i + 1]])),
    );
    for (const g of groups) if (Number(g.pending) !== 0 || (g.lag !== null && Number(g.lag) !== 0)) return false;
  }
  return true;
}

/**
 * Waits until a run is applied (every sentinel), its contract streams drained, and its outcomes
 * stable for `stableMs` (an engine that reorders could apply a sentinel before earlier events);
 * then until every final level was delivered. Returns the outcomes and the receiver check.
 */
export async function settle(
  redis: Redis,
  run: EngineRun,
  wl: Workload,
  { timeout = 60_000, stableMs = 1500 } = {},
): Promise<{ outcomes: Outcomes; problems: string[]; finalLevels: Record<string, string>; sets: SetTally }> {
  const until = Date.now() + timeout;
  await waitApplied(run, wl, timeout);
  await waitFor(() => contractStreamsDrained(redis, run), {
    timeout: Math.max(1000, until - Date.now()),
    interval: 100,
    what: `${run.name}: contract streams drained`,
  });
  let got = await outcomes(run, wl);
  for (;;) {
    await new Promise((r) => setTimeout(r, stableMs));
    const again = await outcomes(run, wl);
    if (JSON.stringify(again) === JSON.stringify(got)) break;
    if (Date.now() > until) throw new Error(`${run.name}: outcomes still changing: ${differences(got, again, 3).join('; ')}`);
    got = again;
  }
  const applied = Date.now();
  await waitDelivered(run, got, wl, Math.max(5000, until - Date.now()));
  const ms = Date.now() - applied;
  if (ms > 5000)
    console.log(
      `${run.name}: the last SETs arrived ${ms} ms after everything was applied (a delivery job a kill left active waits for BullMQ's stalled-job check)`,
    );
  return { outcomes: got, ...(await checkSets(run, got, wl)) };
}

/**
 * Waits for the next chunk of input (if more is coming: `fed` counts chunks), then kills the worker
 * (-9) a random 0–200 ms later — while it reads, applies or commits that chunk. Returns what
 * happened, for the log.
 */
export async function killSoonAfterAChunk(run: EngineRun, w: WorkerProcess, fed: () => number): Promise<string> {
  const seen = fed();
  await waitFor(() => fed() > seen, { timeout: 20_000, interval: 5, what: 'the next chunk' }).catch(() => undefined);
  const ms = Math.floor(Math.random() * 200);
  await new Promise((r) => setTimeout(r, ms));
  await killWorker(run, w);
  return `killed ${ms} ms after chunk ${fed()}`;
}

/**
 * Feeds the events in `n` chunks, one every `everyMs`, in the background (input keeps arriving
 * whatever happens to the workers; `opts.acked`: see {@link feed}). `done` resolves after the last chunk; `fed()` counts chunks.
 */
export function feedInBackground(
  redis: Redis,
  run: EngineRun,
  events: readonly WorkloadEvent[],
  n: number,
  everyMs: number,
  opts: { acked?: boolean } = {},
): { done: Promise<void>; fed: () => number } {
  let count = 0;
  const done = (async () => {
    for (const c of chunks(events, n)) {
      await feed(redis, run, c, opts);
      count++;
      await new Promise((r) => setTimeout(r, everyMs));
    }
  })();
  return { done, fed: () => count };
}

/** A test file's engine runs and its Redis client: every run is disposed ({@link disposeRun}) and the client closed after the file. */
export function fileRuns(): { runs: EngineRun[]; redis: Redis } {
  const out = { runs: [] as EngineRun[], redis: redisClient() };
  afterAll(async () => {
    for (const run of out.runs) await disposeRun(out.redis, run);
    out.redis.disconnect();
  }, 60_000);
  return out;
}
