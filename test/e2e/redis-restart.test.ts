/**
 * A Redis restart under a running worker (its own redis-server on a free loopback port, started
 * empty again after `kill -9`): `/readyz` answers 503 at once while Redis is away, and the worker
 * — with the worker id it claimed itself, whose claim the restart lost — reconnects and goes on
 * scoring (it used to stop for good: WORKER_ID_LOST from its own queued renews).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const prefix = `rs-restart-${process.pid}`;
let port = 0;
let server: ChildProcess | undefined;
let cfg: TestConfig;
let worker: WorkerProcess;
let redis: Redis;

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const p = (s.address() as { port: number }).port;
      s.close(() => resolve(p));
    });
  });
}

async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'], { stdio: 'ignore' });
  const probe = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
  probe.on('error', () => undefined);
  await waitFor(
    async () => {
      try {
        await probe.connect();
        return (await probe.ping()) === 'PONG';
      } catch {
        probe.disconnect();
        return false;
      }
    },
    { timeout: 10_000, interval: 100, what: 'redis-server up' },
  );
  probe.disconnect();
}

async function killRedis(): Promise<void> {
  const s = server;
  if (!s || s.exitCode !== null) return;
  const gone = new Promise((r) => s.once('exit', r));
  s.kill('SIGKILL');
  await gone;
}

const endpointEvent = (user: string): string =>
  JSON.stringify({
    type: 'endpoint',
    user,
    time: new Date().toISOString(),
    device: { id: 'd-9' },
    vendor: 'crowdstrike',
    detection: 'malware',
    severity: 'critical',
  });

const levelOf = async (user: string): Promise<string | undefined> => {
  const res = await fetch(`${worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });
  return res.status === 200 ? ((await res.json()) as { level: string }).level : undefined;
};

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  const url = `redis://127.0.0.1:${port}`;
  cfg = await writeTestConfig(prefix, { redis: { url, prefix } });
  // No RISKSTREAM_WORKER_ID: the worker claims `<host>-<n>` in Redis, the claim the restart loses.
  worker = await spawnWorker(cfg.dir, { REDIS_URL: url, RISKSTREAM_WORKER_ID: '', RISKSTREAM_CONSUMER: '' });
  redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
  redis.on('error', () => undefined); // refused while the server is down: commands wait
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  redis?.disconnect();
  await killRedis();
  cfg?.remove();
}, 30_000);

describe('Redis restart under a running worker', () => {
  it('readyz says not ready at once while Redis is away; afterwards the worker scores new input again', async () => {
    await redis.xadd(`${prefix}:activity`, '*', 'event', endpointEvent('before@example.com'));
    await waitFor(async () => (await levelOf('before@example.com')) === 'high', { timeout: 20_000, what: 'scored before the restart' });

    await killRedis();
    // Long enough for several identity renews (heartbeat 500 ms) to queue up while Redis is away.
    await new Promise((r) => setTimeout(r, 4_000));
    const t0 = Date.now();
    const ready = await fetch(`${worker.url}/readyz`, { signal: AbortSignal.timeout(5_000) });
    expect(Date.now() - t0).toBeLessThan(3_000);
    expect(ready.status).toBe(503);
    expect(((await ready.json()) as { reasons?: Record<string, string> }).reasons?.redis).toEqual(expect.any(String));

    await startRedis(); // empty: the worker id's claim, leases and consumer group are gone
    await redis.xadd(`${prefix}:activity`, '*', 'event', endpointEvent('after@example.com'));
    await waitFor(async () => (await levelOf('after@example.com')) === 'high', {
      timeout: 30_000,
      interval: 250,
      what: `scored after the restart; worker said: ${worker.output().slice(-2000)}`,
    });
    expect(worker.output()).not.toMatch(/worker identity taken by another process/);
  }, 60_000);
});
