/**
 * Issue 14 item 5: a shutdown always ends. The worker reaches Redis through a loopback TCP
 * proxy; blackholing the proxy makes Redis unreachable to that worker only (the shared Redis
 * keeps running for everyone else).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { proxyTestRedis, type TcpProxy } from '../helpers/tcp-proxy.js';

const ROOT = resolve(import.meta.dirname, '../..');
const SHUTDOWN_TIMEOUT_S = 3;
const prefix = testPrefix('shutdown');
const redis = redisClient();
let cfg: TestConfig;
let proxy: TcpProxy;
let proxyUrl: string;

beforeAll(async () => {
  ({ proxy, url: proxyUrl } = await proxyTestRedis());
  cfg = await writeTestConfig(prefix, { shutdown_timeout: `${SHUTDOWN_TIMEOUT_S}s`, log_level: 'info' });
});

afterAll(async () => {
  await proxy?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

const viaProxy = (): Record<string, string> => ({ REDIS_URL: proxyUrl });

/** `npx riskstream worker` as CONTRACT §1 runs it (through the proxy), once it listens. */
async function startViaNpx(): Promise<{ child: ChildProcess; output: () => string; url: string }> {
  const child = spawn('npx', ['--yes', 'riskstream', 'worker', '--config', cfg.dir], {
    cwd: ROOT,
    env: { ...process.env, RISKSTREAM_FROM_SOURCE: '1', ...viaProxy() },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const url = await waitFor(() => /listening on (http:\/\/\S+)/.exec(out)?.[1], { timeout: 60_000, what: 'worker start through npx' });
  return { child, output: () => out, url };
}

describe('worker shutdown', () => {
  it.each(['SIGTERM', 'SIGINT'] as const)(
    'a normal %s drains and exits 0 (docs/interfaces.md §1)',
    async (signal) => {
      const w = await spawnWorker(cfg.dir, viaProxy());
      const code = await w.stop(signal);
      expect(code).toBe(0);
      expect(w.output()).toMatch(/"msg":"stopped"/);
      expect(w.output()).not.toMatch(/SHUTDOWN_TIMEOUT/);
    },
    30_000,
  );

  it('`npx riskstream worker` as CONTRACT §1 runs it: SIGTERM to npx drains the worker, npx exits 0, nothing left running', async () => {
    const { child, output, url } = await startViaNpx();
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    child.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(output()).toMatch(/"msg":"stopped"/);
    await expect(fetch(`${url}/healthz`)).rejects.toThrow(); // the worker itself is gone, not orphaned
  }, 90_000);

  it('`npx riskstream worker` whose npm process goes away (SIGHUP, which npm does not pass on): the worker drains and exits, as README says', async () => {
    const { child, output, url } = await startViaNpx();
    // The worker: npm's child (bash exec'd the bin in its place).
    const workerPid = Number(readFileSync(`/proc/${child.pid}/task/${child.pid}/children`, 'utf8').trim().split(/\s+/)[0]);
    expect(workerPid).toBeGreaterThan(0);
    child.kill('SIGHUP'); // npm dies of it; the worker is left behind
    try {
      await waitFor(() => /"msg":"stopped"/.test(output()), { timeout: 15_000, what: `the orphaned worker draining\n${output()}` });
      await waitFor(
        () =>
          fetch(`${url}/healthz`).then(
            () => false,
            () => true,
          ),
        { timeout: 5_000, what: 'the worker gone' },
      );
    } finally {
      try {
        process.kill(workerPid, 'SIGKILL'); // whatever happened, no worker outlives the test
      } catch {
        /* gone already */
      }
    }
  }, 90_000);

  it('a short shutdown_timeout (at most the 2 s a late lease release is given) still waits for the last commit: no "overran" warning, exit 0', async () => {
    const short = await writeTestConfig(prefix, { shutdown_timeout: '1s' });
    try {
      const w = await spawnWorker(short.dir, viaProxy());
      expect(await w.stop('SIGTERM')).toBe(0);
      // Its bound was 0 ms (shutdown_timeout − 2 s): every stop "overran" it, the leases released before the last commit.
      expect(w.output()).not.toMatch(/overran its bound/);
    } finally {
      short.remove();
    }
  }, 30_000);

  it('a second SIGTERM (or a SIGINT) during the drain does not cut it short: still exit 0', async () => {
    const w = await spawnWorker(cfg.dir, viaProxy());
    w.child.kill('SIGTERM');
    await new Promise((r) => setTimeout(r, 50));
    w.child.kill('SIGINT');
    const code = await w.stop('SIGTERM');
    expect(code).toBe(0);
    expect(w.output()).toMatch(/"msg":"stopped"/);
  }, 30_000);

  it('clients whose request has not fully arrived (headers or a body still coming) do not hold the drain: exit 0 at once, their connections cut', async () => {
    const w = await spawnWorker(cfg.dir, viaProxy());
    const port = Number(new URL(w.url).port);
    // A raw connection that sends part of a request and then nothing (a stalled client, a half-open socket).
    const stalled = (text: string): Promise<void> => {
      const s = connect(port, '127.0.0.1', () => s.write(text));
      s.on('error', () => undefined);
      return new Promise((r) => s.once('close', () => r()));
    };
    const headers = stalled('GET /v1/users HTTP/1.1\r\nHost: x\r\n');
    const body = stalled(
      `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${cfg.ingestToken}\r\nContent-Type: application/x-ndjson\r\nContent-Length: 1000\r\n\r\n{"type":`,
    );
    await new Promise((r) => setTimeout(r, 500)); // both reached the worker
    const started = Date.now();
    const code = await w.stop('SIGTERM');
    expect(w.output()).not.toMatch(/SHUTDOWN_TIMEOUT/);
    expect(code).toBe(0);
    expect(Date.now() - started).toBeLessThan(SHUTDOWN_TIMEOUT_S * 1000);
    await Promise.all([headers, body]);
  }, 30_000);

  it('a client still streaming its body through the drain does not hold it, and a body answered 202 is in the input stream whole', async () => {
    const w = await spawnWorker(cfg.dir, viaProxy());
    const port = Number(new URL(w.url).port);
    const post = (length: number): { socket: ReturnType<typeof connect>; answer: () => string; closed: Promise<void> } => {
      let answer = '';
      const socket = connect(port, '127.0.0.1');
      socket.on('data', (d: Buffer) => (answer += d.toString()));
      socket.on('error', () => undefined);
      socket.write(
        `POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${cfg.ingestToken}\r\nContent-Type: application/x-ndjson\r\nContent-Length: ${length}\r\n\r\n`,
      );
      return { socket, answer: () => answer, closed: new Promise((r) => socket.once('close', () => r())) };
    };
    const line = (i: number): string =>
      `${JSON.stringify({ type: 'endpoint', user: `sd-${i}@example.com`, time: Date.now() - 1000, device: { id: 'd' }, vendor: 'crowdstrike', detection: 'malware', severity: 'low' })}\n`;
    // A slow shipper: a chunk every 50 ms, on and on (each chunk keeps its connection from idling out).
    const slow = post(1_000_000);
    const trickle = setInterval(() => slow.socket.destroyed || slow.socket.write(line(0)), 50);
    // A whole body, being appended as the drain begins: answered 202 (appended whole), or 503 when it came too late (nothing appended).
    const body = Array.from({ length: 20_000 }, (_, i) => line(i)).join('');
    const whole = post(Buffer.byteLength(body));
    await new Promise((r) => setTimeout(r, 500));
    whole.socket.write(body);
    await new Promise((r) => setTimeout(r, 100)); // being appended, most likely
    try {
      const code = await w.stop('SIGTERM');
      expect(w.output()).not.toMatch(/SHUTDOWN_TIMEOUT/);
      expect(code).toBe(0);
      await slow.closed;
      expect(slow.answer()).not.toMatch(/^HTTP\/1\.1 202/);
    } finally {
      clearInterval(trickle);
    }
    await whole.closed;
    const status = /^HTTP\/1\.1 (\d+)/.exec(whole.answer())?.[1];
    const appended = await redis.xlen(`${prefix}:activity`);
    if (status === '202') expect(appended).toBe(20_000);
    else expect(appended).toBe(0);
    await redis.del(`${prefix}:activity`);
  }, 30_000);

  it('SIGTERM with Redis unreachable exits 1 after shutdown_timeout, logging what it abandoned: the step that timed out apart from those never started, and no list bridge when none is configured', async () => {
    const w = await spawnWorker(cfg.dir, viaProxy());
    // The worker sits in its engine loops (the owner's blocking XREAD of its partitions) when Redis goes.
    proxy.blackhole();
    await waitFor(() => /redis connection (lost|error)/.test(w.output()), { what: 'worker noticing Redis is gone' });
    // Meanwhile the API answers at once: 503 + Retry-After where Redis is needed (never a request
    // held until Redis is back, and applied then), metrics and health from memory.
    const get = (path: string): Promise<Response> =>
      fetch(`${w.url}${path}`, { headers: { authorization: `Bearer ${cfg.adminToken}` }, signal: AbortSignal.timeout(3000) });
    const users = await get('/v1/users');
    expect(users.status).toBe(503);
    expect(users.headers.get('retry-after')).toBe('5');
    expect(await users.json()).toMatchObject({ error: 'unavailable' });
    const ingest = await fetch(`${w.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: '{"type":"login","user":"a@x.test","time":1}\n',
      signal: AbortSignal.timeout(3000),
    });
    expect(ingest.status).toBe(503);
    expect((await get('/metrics')).status).toBe(200);
    expect((await get('/healthz')).status).toBe(200);
    const code = await Promise.race([w.stop('SIGTERM'), new Promise<'hung'>((r) => setTimeout(() => r('hung'), (SHUTDOWN_TIMEOUT_S + 12) * 1000))]);
    if (code === 'hung') w.child.kill('SIGKILL');
    expect(code).toBe(1);
    const abandoned = w
      .output()
      .split('\n')
      .find((l) => l.includes('"code":"SHUTDOWN_TIMEOUT"'));
    expect(abandoned, w.output()).toBeDefined();
    expect(abandoned).not.toMatch(/list bridge/);
    const line = JSON.parse(abandoned!) as { msg: string; abandoned: string[]; timedOut?: string[]; notStarted?: string[]; deadlineMs: number };
    expect(line.deadlineMs).toBe(SHUTDOWN_TIMEOUT_S * 1000);
    // The engine's last commit is what it abandons first: the uncommitted work is redone from the
    // committed position by the next owner.
    expect(line.abandoned[0]).toMatch(/^engine: the last commit \(what is not committed is applied again/);
    expect(line.timedOut).toHaveLength(1);
    expect(line.timedOut![0]).toMatch(/^engine: the last commit/);
    expect(line.notStarted).toEqual(expect.arrayContaining([expect.stringMatching(/^SET delivery/), expect.stringMatching(/^HTTP server/)]));
    expect(line.msg).toMatch(/timed out: engine: the last commit/);
  }, 60_000);
});
