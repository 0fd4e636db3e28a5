/**
 * Redis comes back with older data than the worker wrote — restarted from an older snapshot (an
 * RDB, an AOF with `appendfsync everysec` losing its last second), or failed over to a lagging
 * replica — while the worker's partition leases are still valid in it. The owners kept applying
 * on top of their memory: users' states (levels) written over the older data, while the risk
 * events of the lost commits were never written again, even when the producer sent the lost
 * input again (a user at `high` with no risk event). docs/operations.md: the owner of a partition
 * whose commit was lost re-applies from the earlier position. Each commit is now fenced on the
 * position its owner last committed; another one makes the owner re-read from what Redis holds.
 * Own redis-server (a temp dir for its RDB), killed and restarted on the same port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const prefix = `rs-rewind-${process.pid}`;
const dir = mkdtempSync(join(tmpdir(), 'riskstream-rewind-'));
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

/** redis-server on `port`, its RDB in `dir` (loaded at start when there), no saving of its own. */
async function startRedis(): Promise<void> {
  server = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
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
    { timeout: 10_000, interval: 50, what: 'redis-server up' },
  );
  probe.disconnect();
}

async function killRedis(): Promise<void> {
  const s = server;
  if (!s || s.exitCode !== null || s.signalCode !== null) return;
  const gone = new Promise((r) => s.once('exit', r));
  s.kill('SIGKILL');
  await gone;
}

const detection = (user: string): string =>
  JSON.stringify({
    type: 'endpoint',
    id: `edr-${user}`,
    user,
    time: Date.now() - 1000,
    device: { id: 'd-1' },
    vendor: 'cs',
    detection: 'malware',
    severity: 'critical',
  });

const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${worker.url}${path}`, { headers: { authorization: `Bearer ${cfg.adminToken}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const levelOf = async (user: string): Promise<unknown> => (await get(`/v1/users/${encodeURIComponent(user)}/risk`)).body.level;
const riskEvents = async (user: string): Promise<number> => {
  const r = await get(`/v1/users/${encodeURIComponent(user)}/events`);
  return r.status === 200 ? ((r.body.events as unknown[] | undefined)?.length ?? 0) : -1;
};

const users = (tag: string): string[] => Array.from({ length: 8 }, (_, i) => `${tag}${i}@example.com`);

beforeAll(async () => {
  port = await freePort();
  await startRedis();
  const url = `redis://127.0.0.1:${port}`;
  // Leases that outlive the restart (as the default 10 s does for a quick one).
  cfg = await writeTestConfig(prefix, { redis: { url, prefix }, engine: { lease_ttl: '60s', heartbeat: '1s' } });
  worker = await spawnWorker(cfg.dir, { REDIS_URL: url, RISKSTREAM_WORKER_ID: `${prefix}-w` });
  redis = new Redis({ port, host: '127.0.0.1', maxRetriesPerRequest: null });
  redis.on('error', () => undefined);
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  redis?.disconnect();
  await killRedis();
  cfg?.remove();
  rmSync(dir, { recursive: true, force: true });
}, 30_000);

describe('Redis back with older data than the worker wrote', () => {
  it('the owners re-read from what Redis holds: input sent again is applied again, risk events and all', async () => {
    for (const u of users('a')) await redis.xadd(`${prefix}:activity`, '*', 'event', detection(u));
    for (const u of users('a')) await waitFor(async () => (await levelOf(u)) === 'high', { timeout: 20_000, what: `${u} scored` });
    await redis.save(); // the snapshot Redis comes back with

    for (const u of users('b')) await redis.xadd(`${prefix}:activity`, '*', 'event', detection(u));
    const before = new Map<string, number>();
    for (const u of users('b')) {
      await waitFor(async () => (await riskEvents(u)) > 0, { timeout: 20_000, what: `${u} scored` });
      before.set(u, await riskEvents(u)); // the hit and the level change
    }

    await killRedis();
    await startRedis(); // without the b users' input and commits; the leases still this worker's
    expect(await redis.exists(`${prefix}:{p0}:lease`)).toBe(1);

    // The producer sends what Redis lost again.
    for (const u of users('b')) await redis.xadd(`${prefix}:activity`, '*', 'event', detection(u));
    for (const u of users('b')) {
      await waitFor(async () => (await riskEvents(u)) === before.get(u), {
        timeout: 20_000,
        what: `${u}'s risk event recorded again; worker said: ${worker.output().slice(-1500)}`,
      });
      expect(await levelOf(u)).toBe('high');
    }
    for (const u of users('a')) expect(await riskEvents(u)).toBe(before.get(users('b')[0]!));
    expect(worker.output()).toMatch(/Redis holds another committed position than this owner wrote/);
  }, 120_000);
});
