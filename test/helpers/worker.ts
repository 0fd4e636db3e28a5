import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { generateKeyFiles } from '../../src/ssf/keys.js';
import { beforeAll, afterAll } from 'vitest';
import type { Redis } from 'ioredis';
import type { LocalReceiverOptions } from '../../src/ssf/local-receiver.js';
import { REDIS_URL, cleanup, redisClient, testPrefix, waitFor } from './redis.js';
import { startReceiver, type TestReceiver } from './receiver.js';
import { loadConfig } from '../../src/config/load.js';
import { Keys } from '../../src/keys.js';
import { createLogger, type Logger } from '../../src/obs/logger.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';

const ROOT = resolve(import.meta.dirname, '../..');

/** A config directory for a test: riskstream.yaml + behaviors.yaml + a fresh signing key. */
export interface TestConfig {
  dir: string;
  adminToken: string;
  ingestToken: string;
  remove(): void;
}

export async function writeTestConfig(prefix: string, main: Record<string, unknown> = {}, behaviors?: Record<string, unknown>): Promise<TestConfig> {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-test-'));
  await generateKeyFiles('ES256', join(dir, 'keys'), 'signing');
  const adminToken = `admin-${prefix}-0123456789abcdef`;
  const ingestToken = `ingest-${prefix}-0123456789abcdef`;
  const cfg = {
    redis: { url: REDIS_URL, prefix },
    signing: { key_file: 'keys/signing.pem', alg: 'ES256' },
    issuer: 'https://riskstream.test',
    streams: { block: '200ms', claim_idle: '2s' },
    state: { sweep_interval: '200ms' },
    delivery: { backoff_base: '100ms', backoff_max: '1s' },
    log_level: 'warn',
    ...main,
    // Short leases: a killed worker's partitions and router are taken over within ~2 s.
    engine: { lease_ttl: '2s', heartbeat: '500ms', ...((main.engine as object) ?? {}) },
    http: { port: 0, host: '127.0.0.1', admin_tokens: [adminToken], ingest_tokens: [ingestToken], ...((main.http as object) ?? {}) },
  };
  writeFileSync(join(dir, 'riskstream.yaml'), stringify(cfg));
  writeFileSync(
    join(dir, 'behaviors.yaml'),
    stringify(
      behaviors ?? {
        impossible_travel: { enabled: true, risk_level: 'high', expires_after: '24h', max_speed_kmh: 1000, min_distance_km: 500 },
        dlp_detection: { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' },
        endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      },
    ),
  );
  return { dir, adminToken, ingestToken, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A worker running as a real child process. */
export interface WorkerProcess {
  child: ChildProcess;
  url: string;
  output: () => string;
  /** Sends a signal and waits for the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Spawns `riskstream worker` from source (tsx), with `args` after `--config`, and waits until it serves /healthz. */
export async function spawnWorker(configDir: string, env: Record<string, string> = {}, args: string[] = []): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/riskstream.js'), 'worker', '--config', configDir, ...args], {
    cwd: ROOT,
    env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`worker exited ${child.exitCode}: ${out}`);
      const m = /listening on (http:\/\/\S+)/.exec(out);
      return m?.[1];
    },
    { timeout: 45_000, what: 'worker start' }, // from source (tsx): ~10 s on a loaded 2-core machine
  );
  return {
    child,
    url,
    output: () => out,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** What {@link workerHarness} sets up for a test file (filled in `beforeAll`). */
export interface Harness {
  prefix: string;
  redis: Redis;
  receiver: TestReceiver;
  cfg: TestConfig;
  worker: WorkerProcess;
}

/**
 * The usual e2e set-up: a random prefix, a receiver verifying SETs against the worker's JWKS,
 * a temp config whose `receivers` the callback may set (given the receiver's URL), and a worker
 * process; everything is stopped and the prefix purged after the file.
 */
export function workerHarness(
  name: string,
  main: (receiverUrl: string, prefix: string) => Record<string, unknown> = () => ({}),
  opts: { behaviors?: Record<string, unknown>; env?: Record<string, string>; receiver?: LocalReceiverOptions } = {},
): Harness {
  const h = { prefix: testPrefix(name), redis: redisClient() } as Harness;
  beforeAll(async () => {
    h.receiver = await startReceiver(opts.receiver);
    h.cfg = await writeTestConfig(h.prefix, main(h.receiver.url, h.prefix), opts.behaviors);
    h.worker = await spawnWorker(h.cfg.dir, opts.env);
    h.receiver.setJwks(`${h.worker.url}/.well-known/jwks.json`);
  }, 40_000);
  afterAll(async () => {
    await h.worker?.stop();
    await h.receiver?.close();
    await cleanup(h.redis, h.prefix);
    h.redis.disconnect();
    h.cfg?.remove();
  });
  return h;
}

/** A critical EDR detection of `user` as stream JSON (endpoint_detection raises the user to high); `extra` adds or overrides fields. */
export function criticalDetection(user: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'endpoint',
    user,
    time: Date.now() - 1000,
    device: { id: 'd-1' },
    vendor: 'crowdstrike',
    detection: 'malware',
    severity: 'critical',
    ...extra,
  });
}

/** A successful login of `user` opening session `sid` (valid an hour) as stream JSON; `extra` adds or overrides fields. */
export function sessionLogin(user: string, sid: string, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    type: 'login',
    id: `l-${sid}`,
    user,
    time: Date.now() - 1000,
    outcome: 'success',
    ip: '81.2.69.142',
    session: { id: sid, expires_at: Date.now() + 3_600_000, idp: 'okta' },
    ...extra,
  });
}

/** `user`'s risk as the admin API answers it; `{}` for a user it does not know. */
export async function userRisk(url: string, adminToken: string, user: string): Promise<{ level?: string; version?: number }> {
  const r = await fetch(`${url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${adminToken}` } });
  return r.status === 200 ? ((await r.json()) as { level: string; version: number }) : {};
}

/** Session `id` as the admin API shows it, once it is stored (waited for). */
export function storedSession(url: string, adminToken: string, id: string): Promise<{ geo?: Record<string, unknown> } & Record<string, unknown>> {
  return waitFor(
    async () => {
      const r = await fetch(`${url}/v1/sessions/${encodeURIComponent(id)}`, { headers: { authorization: `Bearer ${adminToken}` } });
      return r.status === 200 ? ((await r.json()) as { geo?: Record<string, unknown> } & Record<string, unknown>) : undefined;
    },
    { what: `session ${id} stored` },
  );
}

/** What {@link inProcessWorker} sets up for a test file. */
export interface InProcessWorker {
  prefix: string;
  redis: Redis;
  keys: Keys;
  /** Writes the test config (`main` as in {@link writeTestConfig}) and starts the worker from it (consumer `<prefix>-1`). */
  start(main: Record<string, unknown>, logger?: Logger): Promise<WorkerHandle>;
}

/**
 * A worker in this process, given its loaded configuration only (no path: routing runs in this
 * thread, whatever `engine.router_thread`), on a random prefix of 64 partitions; closed, its config
 * removed and the prefix purged after the file.
 */
export function inProcessWorker(name: string): InProcessWorker {
  const prefix = testPrefix(name);
  const redis = redisClient();
  let cfg: TestConfig | undefined;
  let worker: WorkerHandle | undefined;
  afterAll(async () => {
    await worker?.close().catch(() => undefined);
    cfg?.remove();
    await cleanup(redis, prefix);
    redis.disconnect();
  });
  return {
    prefix,
    redis,
    keys: new Keys(prefix, 64),
    start: async (main, logger = createLogger('silent')) => {
      cfg = await writeTestConfig(prefix, main);
      worker = await startWorker({ config: loadConfig(cfg.dir), logger, port: 0, host: '127.0.0.1', consumer: `${prefix}-1` });
      return worker;
    },
  };
}
