/**
 * Redis that stops answering while a worker starts — after its connections are ready, before it
 * listens (its own redis-server behind a loopback proxy that stalls at the start's first command):
 * the start used to wait for good (no HTTP port, nothing logged) and held a SIGTERM "until started",
 * so the process never ended. docs/operations.md: at start it waits up to 10 s for Redis, then
 * exits 1; a SIGTERM meanwhile ends it within `shutdown_timeout`.
 */
import { spawn } from 'node:child_process';
import { resolve } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';

const ROOT = resolve(import.meta.dirname, '../..');
const prefix = `rs-start-stall-${process.pid}`;
let redis: PrivateRedis;
let cfg: TestConfig;
const proxies: TcpProxy[] = [];
const children: Array<ReturnType<typeof spawn>> = [];

beforeAll(async () => {
  redis = await startPrivateRedis();
  cfg = await writeTestConfig(prefix, { redis: { url: redis.url, prefix }, shutdown_timeout: '3s', log_level: 'info' });
}, 30_000);

afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  for (const p of proxies.splice(0)) await p.close();
});

afterAll(async () => {
  await redis?.stop();
  cfg?.remove();
});

/** A worker whose Redis (through a proxy) stops answering at the start's first command after its connections are ready. */
async function startStalling(): Promise<{
  exited: Promise<{ code: number | null; ms: number }>;
  output: () => string;
  stalledAt: () => number;
  kill: (s: NodeJS.Signals) => void;
}> {
  let stalledAt = 0;
  const proxy = await startTcpProxy(
    { host: '127.0.0.1', port: redis.port },
    { stallWhen: (chunk) => chunk.includes(`${prefix}:engine:partitions`) && (stalledAt = Date.now()) > 0 },
  );
  proxies.push(proxy);
  const child = spawn(process.execPath, [resolve(ROOT, 'bin/riskstream.js'), 'worker', '--config', cfg.dir], {
    cwd: ROOT,
    env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1', REDIS_URL: `redis://127.0.0.1:${proxy.port}`, RISKSTREAM_WORKER_ID: `${prefix}-w` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<{ code: number | null; ms: number }>((r) => child.once('exit', (code) => r({ code, ms: Date.now() - stalledAt })));
  return { exited, output: () => out, stalledAt: () => stalledAt, kill: (s) => child.kill(s) };
}

const waitStalled = async (w: { stalledAt: () => number; output: () => string }): Promise<void> => {
  const until = Date.now() + 45_000;
  while (!w.stalledAt()) {
    if (Date.now() > until) throw new Error(`the start never reached Redis: ${w.output()}`);
    await new Promise((r) => setTimeout(r, 50));
  }
};

const hung = (ms: number): Promise<'hung'> => new Promise((r) => setTimeout(() => r('hung'), ms));

describe('Redis stops answering while the worker starts', () => {
  it('the start fails after about 10 s without an answer: exit 1 with a clear error, never a silent wait', async () => {
    const w = await startStalling();
    await waitStalled(w);
    const end = await Promise.race([w.exited, hung(25_000)]);
    expect(end, w.output()).not.toBe('hung');
    expect((end as { code: number }).code).toBe(1);
    expect((end as { ms: number }).ms).toBeGreaterThan(9_000);
    expect(w.output()).toMatch(/redis stopped answering while the worker started/);
    expect(w.output()).not.toMatch(/listening on/);
  }, 90_000);

  it('a SIGTERM meanwhile ends the process within shutdown_timeout (exit 1, SHUTDOWN_TIMEOUT logged)', async () => {
    const w = await startStalling();
    await waitStalled(w);
    const sentAt = Date.now();
    w.kill('SIGTERM');
    const end = await Promise.race([w.exited, hung(20_000)]);
    expect(end, w.output()).not.toBe('hung');
    expect((end as { code: number }).code).toBe(1);
    // shutdown_timeout is 3 s: well before the 10 s the start would otherwise wait.
    expect(Date.now() - sentAt).toBeLessThan(7_000);
    expect(w.output()).toMatch(/"code":"SHUTDOWN_TIMEOUT"/);
  }, 90_000);
});
