/**
 * claimWorkerId on a real Redis: concurrent claims get distinct ids, a dead pid's id is taken
 * over at once, a live pid's is not, renew/release only touch our own claim.
 */
import { spawnSync } from 'node:child_process';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { claimWorkerId, pidAlive } from '../../src/engine/worker-id.js';
import { isRiskstreamError } from '../../src/errors.js';
import { Keys } from '../../src/keys.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
let prefix: string;
const NO_ENV = {};
const alive = () => true;

beforeEach(() => {
  prefix = testPrefix('engine-worker-id');
});
afterEach(async () => {
  await cleanup(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

const idKey = (id: string) => new Keys(prefix).engineWorkerId(id);

describe('claimWorkerId', () => {
  it('gives concurrent claims distinct ids, lowest first, each key holding its pid with a ttl', async () => {
    const conns = [1, 2, 3, 4].map(() => redisClient());
    const claims = await Promise.all(
      [1001, 1002, 1003, 1004].map((pid, i) => claimWorkerId(conns[i]!, prefix, { host: 'h', pid, ttlMs: 60_000, isAlive: alive, env: NO_ENV })),
    );
    await Promise.all(conns.map((c) => c.quit()));
    expect(claims.map((c) => c.id).sort()).toEqual(['h-0', 'h-1', 'h-2', 'h-3']);
    for (const c of claims) {
      expect(['1001', '1002', '1003', '1004']).toContain(await redis.get(idKey(c.id)));
      expect(await redis.pttl(idKey(c.id))).toBeGreaterThan(0);
    }
    expect(new Set(await Promise.all(claims.map((c) => redis.get(idKey(c.id))))).size).toBe(4);
  });

  it("takes over a dead pid's id at once, never a live pid's", async () => {
    const first = await claimWorkerId(redis, prefix, { host: 'h', pid: 2001, ttlMs: 60_000, isAlive: alive, env: NO_ENV });
    expect(first.id).toBe('h-0');
    const whileAlive = await claimWorkerId(redis, prefix, { host: 'h', pid: 2002, ttlMs: 60_000, isAlive: alive, env: NO_ENV });
    expect(whileAlive.id).toBe('h-1');
    const restarted = await claimWorkerId(redis, prefix, { host: 'h', pid: 2003, ttlMs: 60_000, isAlive: (pid) => pid !== 2001, env: NO_ENV });
    expect(restarted.id).toBe('h-0');
    expect(await redis.get(idKey('h-0'))).toBe('2003');
    // the dead process' renew/release cannot touch it any more
    await expect(first.renew()).rejects.toSatisfy((e: unknown) => isRiskstreamError(e, 'WORKER_ID_LOST'));
    await first.release();
    expect(await redis.get(idKey('h-0'))).toBe('2003');
  });

  it('checks real pids: this process is alive, an exited child is not', async () => {
    const child = spawnSync(process.execPath, ['-e', '']);
    expect(pidAlive(process.pid)).toBe(true);
    expect(pidAlive(child.pid!)).toBe(false);
    await redis.set(idKey('h-0'), String(process.pid), 'PX', 60_000);
    await redis.set(idKey('h-1'), String(child.pid), 'PX', 60_000);
    const c = await claimWorkerId(redis, prefix, { host: 'h', pid: 999_999_999, ttlMs: 60_000, env: NO_ENV });
    expect(c.id).toBe('h-1');
  });

  it('takes back a key holding its own pid from a previous process (same pid after a container restart)', async () => {
    await redis.set(idKey('h-0'), '1', 'PX', 60_000);
    const c = await claimWorkerId(redis, prefix, { host: 'h', pid: 1, ttlMs: 60_000, isAlive: alive, env: NO_ENV });
    expect(c.id).toBe('h-0');
    const again = await claimWorkerId(redis, prefix, { host: 'h', pid: 1, ttlMs: 60_000, isAlive: alive, env: NO_ENV });
    expect(again.id).toBe('h-1'); // a second claim in the same process gets its own id
  });

  it('renew refreshes the ttl and re-claims an expired free key; release deletes only our claim', async () => {
    const c = await claimWorkerId(redis, prefix, { host: 'h', pid: 3001, ttlMs: 1_000, isAlive: alive, env: NO_ENV });
    await redis.pexpire(idKey(c.id), 10);
    await c.renew();
    expect(await redis.pttl(idKey(c.id))).toBeGreaterThan(500);
    await redis.del(idKey(c.id));
    await c.renew();
    expect(await redis.get(idKey(c.id))).toBe('3001');
    await c.release();
    expect(await redis.exists(idKey(c.id))).toBe(0);
  });

  it('renews queued while Redis was away (the key gone at its return) all succeed: the first claims it back, the others find it ours', async () => {
    const c = await claimWorkerId(redis, prefix, { host: 'h', pid: 3002, ttlMs: 1_000, isAlive: alive, env: NO_ENV });
    await redis.del(idKey(c.id));
    await expect(Promise.all([c.renew(), c.renew(), c.renew()])).resolves.toBeDefined();
    expect(await redis.get(idKey(c.id))).toBe('3002');
    // Another process's claim is still a loss.
    await redis.set(idKey(c.id), '4004');
    await expect(c.renew()).rejects.toSatisfy((e: unknown) => isRiskstreamError(e, 'WORKER_ID_LOST'));
    await redis.del(idKey(c.id));
  });

  it('uses an explicit id (option, then RISKSTREAM_WORKER_ID, then RISKSTREAM_CONSUMER) without claiming', async () => {
    const env = { RISKSTREAM_WORKER_ID: 'from-env', RISKSTREAM_CONSUMER: 'consumer' };
    expect((await claimWorkerId(redis, prefix, { explicit: 'w-7', ttlMs: 1_000, env })).id).toBe('w-7');
    expect((await claimWorkerId(redis, prefix, { ttlMs: 1_000, env })).id).toBe('from-env');
    expect((await claimWorkerId(redis, prefix, { ttlMs: 1_000, env: { RISKSTREAM_CONSUMER: 'consumer' } })).id).toBe('consumer');
    expect(await redis.keys(`${prefix}:*`)).toEqual([]);
    await expect(claimWorkerId(redis, prefix, { explicit: 'has space', ttlMs: 1_000 })).rejects.toSatisfy((e: unknown) =>
      isRiskstreamError(e, 'CONFIG_INVALID'),
    );
  });
});
