/**
 * Redis comes back with older data than the worker wrote — restarted from an older snapshot (an
 * RDB, an AOF with `appendfsync everysec` losing its last second), or failed over to a lagging
 * replica — while the worker's partition leases are still valid in it. The owners kept applying
 * on top of their memory: users' states (levels) written over the older data, while the risk
 * events of the lost commits were never written again, even when the producer sent the lost
 * input again (a user at `high` with no risk event). docs/operations.md: the owner of a partition
 * whose commit was lost re-applies from the earlier position. Each commit is now fenced on the
 * position its owner last committed; another one makes the owner re-read from what Redis holds.
 * Own redis-server (startPrivateRedis, its RDB in a temp dir), killed and restarted on the same port.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';

const prefix = `rs-rewind-${process.pid}`;
let server: PrivateRedis;
let cfg: TestConfig;
let worker: WorkerProcess;

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
  server = await startPrivateRedis({ rdb: true });
  // Leases that outlive the restart (as the default 10 s does for a quick one).
  cfg = await writeTestConfig(prefix, { redis: { url: server.url, prefix }, engine: { lease_ttl: '60s', heartbeat: '1s' } });
  worker = await spawnWorker(cfg.dir, { REDIS_URL: server.url, RISKSTREAM_WORKER_ID: `${prefix}-w` });
}, 60_000);

afterAll(async () => {
  await worker?.stop();
  await server?.stop();
  cfg?.remove();
}, 30_000);

describe('Redis back with older data than the worker wrote', () => {
  it('the owners re-read from what Redis holds: input sent again is applied again, risk events and all', async () => {
    for (const u of users('a')) await server.client.xadd(`${prefix}:activity`, '*', 'event', detection(u));
    for (const u of users('a')) await waitFor(async () => (await levelOf(u)) === 'high', { timeout: 20_000, what: `${u} scored` });
    await server.client.save(); // the snapshot Redis comes back with

    for (const u of users('b')) await server.client.xadd(`${prefix}:activity`, '*', 'event', detection(u));
    const before = new Map<string, number>();
    for (const u of users('b')) {
      await waitFor(async () => (await riskEvents(u)) > 0, { timeout: 20_000, what: `${u} scored` });
      before.set(u, await riskEvents(u)); // the hit and the level change
    }

    await server.restart(); // without the b users' input and commits; the leases still this worker's
    expect(await server.client.exists(`${prefix}:{p0}:lease`)).toBe(1);

    // The producer sends what Redis lost again.
    for (const u of users('b')) await server.client.xadd(`${prefix}:activity`, '*', 'event', detection(u));
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
