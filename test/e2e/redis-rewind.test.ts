/**
 * Redis comes back with older data than the worker wrote — restarted from an older snapshot (an
 * RDB, an AOF with `appendfsync everysec` losing its last second), or failed over to a lagging
 * replica — while the worker's partition leases are still valid in it. The owners kept applying
 * on top of their memory: users' states (levels) written over the older data, while the risk
 * events of the lost commits were never written again, even when the producer sent the lost
 * input again (a user at `high` with no risk event). docs/operations.md: the owner of a partition
 * whose commit was lost re-applies from the earlier position. Each commit is now fenced on the
 * position its owner last committed; another one makes the owner re-read from what Redis holds.
 * Own redis-server (privateRedisWorker, its RDB in a temp dir), killed and restarted on the same port.
 */
import { describe, expect, it } from 'vitest';
import { privateRedisWorker } from '../helpers/private-redis-worker.js';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection } from '../helpers/worker.js';

const prefix = `rs-rewind-${process.pid}`;
// Leases that outlive the restart (as the default 10 s does for a quick one).
const h = privateRedisWorker(prefix, { engine: { lease_ttl: '60s', heartbeat: '1s' } }, { rdb: true, env: { RISKSTREAM_WORKER_ID: `${prefix}-w` } });

const detection = (user: string): string => criticalDetection(user, { id: `edr-${user}`, vendor: 'cs' });

const get = async (path: string): Promise<{ status: number; body: Record<string, unknown> }> => {
  const res = await fetch(`${h.worker.url}${path}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return { status: res.status, body: (await res.json()) as Record<string, unknown> };
};
const levelOf = async (user: string): Promise<unknown> => (await get(`/v1/users/${encodeURIComponent(user)}/risk`)).body.level;
const riskEvents = async (user: string): Promise<number> => {
  const r = await get(`/v1/users/${encodeURIComponent(user)}/events`);
  return r.status === 200 ? ((r.body.events as unknown[] | undefined)?.length ?? 0) : -1;
};

const users = (tag: string): string[] => Array.from({ length: 8 }, (_, i) => `${tag}${i}@example.com`);

describe('Redis back with older data than the worker wrote', () => {
  it('the owners re-read from what Redis holds: input sent again is applied again, risk events and all', async () => {
    for (const u of users('a')) await h.server.client.xadd(`${prefix}:activity`, '*', 'event', detection(u));
    for (const u of users('a')) await waitFor(async () => (await levelOf(u)) === 'high', { timeout: 20_000, what: `${u} scored` });
    await h.server.client.save(); // the snapshot Redis comes back with

    for (const u of users('b')) await h.server.client.xadd(`${prefix}:activity`, '*', 'event', detection(u));
    const before = new Map<string, number>();
    for (const u of users('b')) {
      await waitFor(async () => (await riskEvents(u)) > 0, { timeout: 20_000, what: `${u} scored` });
      before.set(u, await riskEvents(u)); // the hit and the level change
    }

    await h.server.restart(); // without the b users' input and commits; the leases still this worker's
    expect(await h.server.client.exists(`${prefix}:{p0}:lease`)).toBe(1);

    // The producer sends what Redis lost again.
    for (const u of users('b')) await h.server.client.xadd(`${prefix}:activity`, '*', 'event', detection(u));
    for (const u of users('b')) {
      await waitFor(async () => (await riskEvents(u)) === before.get(u), {
        timeout: 20_000,
        what: `${u}'s risk event recorded again; worker said: ${h.worker.output().slice(-1500)}`,
      });
      expect(await levelOf(u)).toBe('high');
    }
    for (const u of users('a')) expect(await riskEvents(u)).toBe(before.get(users('b')[0]!));
    expect(h.worker.output()).toMatch(/Redis holds another committed position than this owner wrote/);
  }, 120_000);
});
