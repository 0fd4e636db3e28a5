import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { stringify } from 'yaml';
import { generateKeyFiles } from '../../src/ssf/keys.js';
import { REDIS_URL, waitFor } from './redis.js';

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
    http: { port: 0, host: '127.0.0.1', admin_tokens: [adminToken], ingest_tokens: [ingestToken] },
    signing: { key_file: 'keys/signing.pem', alg: 'ES256' },
    issuer: 'https://riskstream.test',
    streams: { block: '200ms', claim_idle: '2s' },
    state: { sweep_interval: '200ms' },
    delivery: { backoff_base: '100ms', backoff_max: '1s' },
    log_level: 'warn',
    ...main,
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

/** Spawns `riskstream worker` from source (tsx) and waits until it serves /healthz. */
export async function spawnWorker(configDir: string, env: Record<string, string> = {}): Promise<WorkerProcess> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/riskstream.js'), 'worker', '--config', configDir], {
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
    { timeout: 20_000, what: 'worker start' },
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
