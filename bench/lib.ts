/** Shared benchmark plumbing: Redis, config directories, the worker child process, receivers, output. */
import { fork, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFileSync, copyFileSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { isCluster, pipeline, type RedisClient } from '../src/redis/client.js';
import { purgePrefix } from '../src/redis/purge.js';
import { generateKeyFiles } from '../src/ssf/keys.js';
import type { BenchEvent } from './data.js';

export const ROOT = resolve(import.meta.dirname, '..');
export const REDIS_URL = process.env.REDIS_URL ?? 'redis://127.0.0.1:6379';

/** Diagnostics only: extra node/V8 flags for the worker child (BENCH_WORKER_FLAGS="--max-semi-space-size=64"). */
export function workerFlags(): string[] {
  return (process.env.BENCH_WORKER_FLAGS ?? '').split(' ').filter(Boolean);
}

/** The worker child's flags for a CPU profile written to `dir`. */
export function profileFlags(dir: string): string[] {
  return ['--cpu-prof', `--cpu-prof-dir=${dir}`, '--cpu-prof-interval=500'];
}

/** A random key prefix for one benchmark (its keys are deleted afterwards). */
export function newPrefix(name: string): string {
  return `bench-${name}-${randomBytes(4).toString('hex')}`;
}

export function redisClient(): Redis {
  return new Redis(REDIS_URL, { maxRetriesPerRequest: null });
}

/** Prefixes in use, purged on exit even after an error or Ctrl-C. */
const live = new Set<string>();
export async function withPrefix<T>(name: string, fn: (prefix: string, redis: Redis) => Promise<T>): Promise<T> {
  const prefix = newPrefix(name);
  const redis = redisClient();
  live.add(prefix);
  try {
    return await fn(prefix, redis);
  } finally {
    await purgePrefix(redis, prefix).catch(() => undefined);
    live.delete(prefix);
    redis.disconnect();
  }
}
process.once('SIGINT', () => {
  const r = redisClient();
  void Promise.all([...live].map((p) => purgePrefix(r, p))).finally(() => process.exit(130));
});

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Stream names for a prefix (the worker's defaults). */
export function streamsOf(prefix: string): { login: string; activity: string; group: string } {
  return { login: `${prefix}:login`, activity: `${prefix}:activity`, group: 'riskstream' };
}

/** XADDs events (field `event` = JSON) to the login / activity streams, pipelined in chunks (on a cluster, per node). */
export async function preload(
  redis: RedisClient,
  prefix: string,
  events: readonly BenchEvent[],
  chunk = 1000,
): Promise<{ ms: number; firstId: string; lastId: string }> {
  const s = streamsOf(prefix);
  const t0 = performance.now();
  let firstId = '';
  let lastId = '';
  for (let i = 0; i < events.length; i += chunk) {
    const p = pipeline(redis);
    const end = Math.min(events.length, i + chunk);
    for (let j = i; j < end; j++) p.xadd(events[j]!.login ? s.login : s.activity, '*', 'event', events[j]!.json);
    const res = (await p.exec()) ?? [];
    for (const [err] of res) if (err) throw err;
    if (i === 0) firstId = res[0]![1] as string;
    lastId = res[res.length - 1]![1] as string;
  }
  return { ms: performance.now() - t0, firstId, lastId };
}

/** A temp config directory: riskstream.yaml, the shipped behaviors.yaml, fresh signing keys. */
export interface BenchConfig {
  dir: string;
  remove(): void;
}

export async function writeBenchConfig(prefix: string, main: Record<string, unknown> = {}, opts: { rsa?: boolean } = {}): Promise<BenchConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-bench-'));
  await generateKeyFiles('ES256', join(dir, 'keys'), 'signing');
  if (opts.rsa) await generateKeyFiles('RS256', join(dir, 'keys'), 'rs');
  // Shipped defaults everywhere, except what a benchmark must set (prefix, port, receivers).
  const cfg = {
    redis: { url: REDIS_URL, prefix },
    signing: { key_file: 'keys/signing.pem', alg: 'ES256', ...(opts.rsa ? { keys: [{ key_file: 'keys/rs.pem', alg: 'RS256' }] } : {}) },
    issuer: 'https://riskstream.bench',
    http: { port: 0, host: '127.0.0.1' },
    // Diagnostics: BENCH_ENGINE='{"router_thread":false}' (engine settings other than the defaults).
    ...(process.env.BENCH_ENGINE ? { engine: JSON.parse(process.env.BENCH_ENGINE) as Record<string, unknown> } : {}),
    ...(process.env.BENCH_SESSIONS ? { sessions: JSON.parse(process.env.BENCH_SESSIONS) as Record<string, unknown> } : {}),
    ...main,
  };
  writeFileSync(join(dir, 'riskstream.yaml'), stringify(cfg));
  copyFileSync(join(ROOT, 'config/behaviors.yaml'), join(dir, 'behaviors.yaml'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** What the worker child reports per batch. */
export interface ChildBatch {
  at: number;
  /** Monotonic µs (the clock of --cpu-prof timestamps). */
  hr: number;
  read: number;
  applied: number;
  hits: number;
  changes: number;
  ms: number;
}

/**
 * The worker (`startWorker`, shipped defaults) in its own Node process, as deployed: the load
 * generator, receiver and measurements stay out of its event loop. Batch reports and memory
 * figures come back over IPC.
 */
export class WorkerChild {
  private readonly listeners: Array<(b: ChildBatch) => void> = [];
  private readonly waiting = new Map<string, (v: unknown) => void>();
  private out = '';
  read = 0;
  batches = 0;
  firstHr: number | undefined;
  lastHr = 0;
  hits = 0;
  changes = 0;
  url = '';
  readonly exited: Promise<number | null>;

  private constructor(readonly child: ChildProcess) {
    // BENCH_WORKER_OUT=<file>: the worker's stdout appended there too (e.g. with BENCH_WORKER_FLAGS=--trace-gc).
    const copyTo = process.env.BENCH_WORKER_OUT;
    child.stdout!.on('data', (d: Buffer) => {
      if (copyTo) appendFileSync(copyTo, d);
      this.out = (this.out + d.toString()).slice(-20_000);
    });
    child.stderr!.on('data', (d: Buffer) => (this.out = (this.out + d.toString()).slice(-20_000)));
    child.on('message', (m: { t: string; [k: string]: unknown }) => {
      if (m.t === 'batch') {
        const b = m as unknown as ChildBatch;
        this.read += b.read;
        this.firstHr ??= b.hr - b.ms * 1000;
        this.lastHr = b.hr;
        this.batches++;
        this.hits += b.hits;
        this.changes += b.changes;
        for (const l of this.listeners) l(b);
      } else this.waiting.get(m.t)?.(m);
    });
    this.exited = new Promise((r) => child.once('exit', (code) => r(code)));
  }

  static async start(configDir: string, opts: { execArgv?: string[]; env?: Record<string, string> } = {}): Promise<WorkerChild> {
    const child = fork(join(ROOT, 'bench/worker-child.ts'), [configDir], {
      cwd: ROOT,
      execArgv: ['--import', 'tsx', ...(opts.execArgv ?? [])],
      env: { ...process.env, ...opts.env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const w = new WorkerChild(child);
    const ready = (await Promise.race([w.request('ready', false), w.exited.then((c) => ({ exit: c }))])) as { url?: string; exit?: number | null };
    if (!ready.url) throw new Error(`worker child exited (${ready.exit}): ${w.out}`);
    w.url = ready.url;
    return w;
  }

  output(): string {
    return this.out;
  }

  onBatch(l: (b: ChildBatch) => void): void {
    this.listeners.push(l);
  }

  private request(t: string, send = true): Promise<unknown> {
    return new Promise((r) => {
      this.waiting.set(t, (v) => {
        this.waiting.delete(t);
        r(v);
      });
      if (send) this.child.send({ t });
    });
  }

  /** Waits until the worker has read (and committed, acked, relayed) `n` entries in total. */
  async waitRead(n: number, timeoutMs = 120_000): Promise<number> {
    if (this.read >= n) return Date.now();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`worker read ${this.read} of ${n} entries in ${timeoutMs} ms\n${this.out.slice(-3000)}`)), timeoutMs);
      this.listeners.push((b) => {
        if (this.read >= n) {
          clearTimeout(t);
          resolve(b.at);
        }
      });
    });
  }

  /** RSS and heap after a full GC (the child runs with --expose-gc). */
  async memory(): Promise<{ rss: number; heapUsed: number; external: number }> {
    return (await this.request('memory')) as { rss: number; heapUsed: number; external: number };
  }

  /** CPU seconds (user + system) the worker process used so far. */
  async cpu(): Promise<number> {
    const c = (await this.request('cpu')) as { user: number; system: number };
    return (c.user + c.system) / 1e6;
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null) return;
    this.child.send({ t: 'stop' });
    const t = setTimeout(() => this.child.kill('SIGKILL'), 30_000);
    await this.exited;
    clearTimeout(t);
  }
}

/** One SET as the counting receiver saw it. */
export interface Receipt {
  at: number;
  /** Monotonic µs (comparable with --cpu-prof timestamps). */
  hr: number;
  path: string;
  user: string;
  token: string;
}

/**
 * A push receiver that answers 202 and counts, without verifying signatures (the verifying
 * LocalReceiver would spend this 2-core machine's CPU on ECDSA/RSA verification). It decodes the
 * claims to know whose SET it is; `verify` checks a sample against the worker's JWKS afterwards.
 */
export class CountingReceiver {
  readonly receipts: Receipt[] = [];
  private readonly server: Server;
  private readonly waiters: Array<{ n: number; resolve: () => void }> = [];
  private readonly perPath = new Map<string, number>();
  url = '';

  constructor(private readonly keep = true) {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const at = Date.now();
        const token = Buffer.concat(chunks).toString('utf8').trim();
        let user = '';
        try {
          const claims = JSON.parse(Buffer.from(token.split('.')[1] ?? '', 'base64url').toString()) as { sub_id?: { email?: string } };
          user = claims.sub_id?.email ?? '';
        } catch {
          /* counted anyway */
        }
        const path = req.url ?? '/';
        const seen = (this.perPath.get(path) ?? 0) + 1;
        this.perPath.set(path, seen);
        this.receipts.push({ at, hr: Number(process.hrtime.bigint() / 1000n), path, user, token: this.keep || seen <= 5 ? token : '' });
        res.writeHead(202).end();
        for (const w of this.waiters) if (this.receipts.length >= w.n) w.resolve();
      });
    });
  }

  async listen(): Promise<string> {
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', () => r()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this.url;
  }

  waitCount(n: number, timeoutMs = 120_000): Promise<void> {
    if (this.receipts.length >= n) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`receiver got ${this.receipts.length} of ${n} SETs in ${timeoutMs} ms`)), timeoutMs);
      this.waiters.push({ n, resolve: () => (clearTimeout(t), resolve()) });
    });
  }

  /** Verifies the first `perPath` received SETs of each path against the worker's JWKS (honesty check: real signed SETs). */
  async verify(jwksUrl: string, perPath = 2): Promise<number> {
    const { createRemoteJWKSet, jwtVerify } = await import('jose');
    const jwks = createRemoteJWKSet(new URL(jwksUrl));
    let ok = 0;
    const sample = [...this.perPath.keys()].flatMap((path) => this.receipts.filter((x) => x.token && x.path === path).slice(0, perPath));
    for (const r of sample) {
      await jwtVerify(r.token, jwks, { typ: 'secevent+jwt' });
      ok++;
    }
    return ok;
  }

  close(): Promise<void> {
    return new Promise((r) => {
      this.server.closeAllConnections?.();
      this.server.close(() => r());
    });
  }
}

/** CPU seconds (user + system) in an INFO cpu reply. */
export function cpuOf(info: string): number {
  const v = (k: string): number => Number(new RegExp(`${k}:([0-9.]+)`).exec(info)?.[1] ?? 0);
  return v('used_cpu_user') + v('used_cpu_sys');
}

/** CPU seconds (user + system) Redis has used since it started; on a cluster, summed over its masters. */
export async function redisCpu(redis: RedisClient): Promise<number> {
  const nodes = isCluster(redis) ? redis.nodes('master') : [redis];
  let s = 0;
  for (const n of nodes) s += cpuOf(await n.info('cpu'));
  return s;
}

/** Per-command calls and µs (INFO commandstats). */
export async function commandStats(redis: Redis): Promise<Map<string, { calls: number; usec: number }>> {
  const out = new Map<string, { calls: number; usec: number }>();
  for (const m of (await redis.info('commandstats')).matchAll(/cmdstat_([^:]+):calls=(\d+),usec=(\d+)/g))
    out.set(m[1]!, { calls: Number(m[2]), usec: Number(m[3]) });
  return out;
}

/** The commands that cost Redis most between two snapshots, per event (µs include Lua scripts' inner commands twice: in EVALSHA and in each command). */
export function topCommands(a: Map<string, { calls: number; usec: number }>, b: Map<string, { calls: number; usec: number }>, events: number, n = 8): string {
  const rows = [...b].map(([k, v]) => ({ k, calls: v.calls - (a.get(k)?.calls ?? 0), usec: v.usec - (a.get(k)?.usec ?? 0) })).filter((r) => r.calls > 0);
  return rows
    .sort((x, y) => y.usec - x.usec)
    .slice(0, n)
    .map((r) => `${r.k} ${round(r.calls / events, 2)}×/${round(r.usec / events, 1)}µs`)
    .join(', ');
}

// ── statistics and output ────────────────────────────────────────────────────

export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return NaN;
  const s = [...values].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))]!;
}

export function median(values: readonly number[]): number {
  return percentile(values, 50);
}

export function round(v: number, digits = 0): number {
  const f = 10 ** digits;
  return Math.round(v * f) / f;
}

export function fmt(v: unknown): string {
  if (typeof v === 'number') return Number.isInteger(v) ? v.toLocaleString('en-US') : v.toLocaleString('en-US', { maximumFractionDigits: 2 });
  return String(v);
}

/** Prints a benchmark's JSON line and its table. */
export function report(result: { bench: string }, rows: Array<[string, unknown, string?]>): void {
  console.log(JSON.stringify(result));
  const w = Math.max(...rows.map((r) => r[0].length));
  const v = Math.max(...rows.map((r) => fmt(r[1]).length));
  console.log(`  ┌ ${result.bench}`);
  for (const [k, val, note] of rows) console.log(`  │ ${k.padEnd(w)}  ${fmt(val).padStart(v)}${note ? `  ${note}` : ''}`);
  console.log('  └');
}
