import { Writable } from 'node:stream';
import { createLogger } from '../../src/obs/logger.js';
/**
 * LeaseManager on a real Redis (random prefix, purged after): one worker owns everything, workers
 * split and rebalance with revoke → release, a crashed worker's leases move after the ttl, a
 * restarted worker (same id) reclaims at once with a higher epoch and fences the old process out.
 * Heartbeats are driven by tick() (timers are not started) except where start() is the subject.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assign } from '../../src/engine/assignment.js';
import { membersKey, partitionResource, resourceKeys, routerResource } from '../../src/engine/lease-keys.js';
import { LeaseManager, type LeaseManagerOptions } from '../../src/engine/leases.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';

const RESOURCES = [...Array.from({ length: 16 }, (_, n) => partitionResource(n)), routerResource('rs:login')];

const redis = redisClient();
let prefix: string;
let managers: LeaseManager[] = [];

interface Probe {
  m: LeaseManager;
  acquired: string[];
  revoked: string[];
  lost: string[];
}

function manager(workerId: string, opts: Partial<LeaseManagerOptions> = {}): Probe {
  const probe = { acquired: [] as string[], revoked: [] as string[], lost: [] as string[] } as Probe;
  probe.m = new LeaseManager(redis, prefix, {
    workerId,
    resources: () => RESOURCES,
    ttlMs: 10_000,
    heartbeatMs: 2_000,
    onAcquired: (l) => void probe.acquired.push(l.resource),
    onRevoke: async (r) => {
      probe.revoked.push(r);
      await probe.m.release(r);
    },
    onLost: (r) => void probe.lost.push(r),
    ...opts,
  });
  managers.push(probe.m);
  return probe;
}

/** A log sink collecting the JSON lines written to it. */
function jsonLines(): { lines: Array<Record<string, unknown>>; sink: Writable } {
  const lines: Array<Record<string, unknown>> = [];
  const sink = new Writable({
    write(chunk: Buffer, _enc, done) {
      for (const l of chunk.toString().split('\n')) if (l) lines.push(JSON.parse(l) as Record<string, unknown>);
      done();
    },
  });
  return { lines, sink };
}

/** Ticks every manager until nobody's holdings change (revokes release in a microtask). */
async function settle(...ps: Probe[]): Promise<void> {
  let last = '';
  for (let i = 0; i < 20; i++) {
    for (const p of ps) await p.m.tick();
    await new Promise((r) => setImmediate(r));
    const now = JSON.stringify(ps.map((p) => [...p.m.owned().keys()].sort()));
    if (now === last) return;
    last = now;
  }
  throw new Error('holdings did not settle');
}

async function leaseValue(resource: string): Promise<string | null> {
  return redis.get(resourceKeys(prefix, resource).lease);
}

beforeEach(() => {
  prefix = testPrefix('engine-leases');
});
afterEach(async () => {
  for (const m of managers) await m.stop();
  managers = [];
  await cleanup(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

describe('LeaseManager', () => {
  it('a single worker owns everything after start(); stop() releases all and leaves', async () => {
    const a = manager('w-a');
    await a.m.start();
    expect([...a.m.owned().keys()].sort()).toEqual([...RESOURCES].sort());
    expect(a.acquired.sort()).toEqual([...RESOURCES].sort());
    for (const [r, l] of a.m.owned()) {
      expect(await leaseValue(r)).toBe(l.token);
      expect(l.token).toBe(`w-a#${l.epoch}`);
      expect(a.m.holds(r)).toBe(true);
    }
    expect(await redis.zscore(membersKey(prefix), 'w-a')).not.toBeNull();
    const pttl = await redis.pttl(resourceKeys(prefix, 'p0').lease);
    expect(pttl).toBeGreaterThan(0);
    expect(pttl).toBeLessThanOrEqual(10_000);

    await a.m.stop();
    expect(a.m.owned().size).toBe(0);
    expect(a.m.holds('p0')).toBe(false);
    for (const r of RESOURCES) expect(await leaseValue(r)).toBeNull();
    expect(await redis.zscore(membersKey(prefix), 'w-a')).toBeNull();
  });

  it('two workers split the resources, covering each exactly once; a third joining takes its share through revoke/release', async () => {
    const a = manager('w-a');
    const b = manager('w-b');
    await a.m.tick();
    await b.m.tick();
    await settle(a, b);
    const two = assign(RESOURCES, ['w-a', 'w-b']);
    const ownersOf = (ps: Probe[]) =>
      RESOURCES.map((r) => ps.filter((p) => p.m.owned().has(r)).map((p) => (p.m === a.m ? 'w-a' : p.m === b.m ? 'w-b' : 'w-c')));
    expect(ownersOf([a, b])).toEqual(RESOURCES.map((r) => [two.get(r)]));
    expect(a.m.owned().size).toBeGreaterThan(0);
    expect(b.m.owned().size).toBeGreaterThan(0);
    expect(a.revoked.sort()).toEqual(RESOURCES.filter((r) => two.get(r) === 'w-b').sort());

    const c = manager('w-c');
    a.revoked.length = 0;
    b.revoked.length = 0;
    await c.m.tick();
    await settle(a, b, c);
    const three = assign(RESOURCES, ['w-a', 'w-b', 'w-c']);
    expect(ownersOf([a, b, c])).toEqual(RESOURCES.map((r) => [three.get(r)]));
    const toC = RESOURCES.filter((r) => three.get(r) === 'w-c');
    expect(toC.length).toBeGreaterThan(0);
    expect([...a.revoked, ...b.revoked].sort()).toEqual(toC.sort());
    for (const [r, l] of c.m.owned()) expect(await leaseValue(r)).toBe(l.token);
  });

  it("a crashed worker's leases move after the ttl; waking, it loses them (onLost)", async () => {
    const a = manager('w-a', { ttlMs: 300, heartbeatMs: 100 });
    const b = manager('w-b', { ttlMs: 300, heartbeatMs: 100 });
    await a.m.tick();
    await b.m.tick();
    await settle(a, b);
    const ofA = [...a.m.owned().keys()];
    expect(ofA.length).toBeGreaterThan(0);
    expect(b.m.owned().size).toBeLessThan(RESOURCES.length);

    // a stops ticking (crash / SIGSTOP): b takes everything once a's membership and leases expired.
    await waitFor(
      async () => {
        await b.m.tick();
        return b.m.owned().size === RESOURCES.length;
      },
      { what: 'b owning everything' },
    );
    for (const r of ofA) {
      expect(a.m.holds(r)).toBe(false); // by a's own clock, before any tick
      expect(await leaseValue(r)).toBe(b.m.owned().get(r)!.token);
    }
    await a.m.tick();
    expect(a.lost.sort()).toEqual(ofA.sort());
    expect(a.m.owned().size).toBe(0);
  });

  it('a restarted worker with the same id reclaims at once with a higher epoch; the old token no longer renews', async () => {
    const old = manager('w-a');
    await old.m.start();
    const oldLeases = new Map(old.m.owned());
    expect(oldLeases.size).toBe(RESOURCES.length);

    const fresh = manager('w-a');
    await fresh.m.start();
    expect(fresh.m.owned().size).toBe(RESOURCES.length);
    for (const [r, l] of fresh.m.owned()) {
      expect(l.epoch).toBeGreaterThan(oldLeases.get(r)!.epoch);
      expect(await leaseValue(r)).toBe(l.token);
    }
    expect(old.m.superseded).toBe(false);
    await old.m.tick();
    expect(old.lost.sort()).toEqual([...RESOURCES].sort());
    expect(old.m.owned().size).toBe(0);
    // superseded: it never takes its leases back from the newer process (no ping-pong)
    expect(old.m.superseded).toBe(true);
    await old.m.tick();
    expect(old.m.owned().size).toBe(0);
    expect(fresh.lost).toEqual([]);
    await fresh.m.tick();
    expect(fresh.m.owned().size).toBe(RESOURCES.length);
    // the old process' stop() must not delete the new leases, nor the membership entry under their id (found by a black-box review)
    await old.m.stop();
    for (const [r, l] of fresh.m.owned()) expect(await leaseValue(r)).toBe(l.token);
    expect(await redis.zscore(membersKey(prefix), 'w-a')).not.toBeNull();
  });

  it('a lease key holding another type is logged as an error, once a minute, not passed over in silence as one held by another worker (found by a black-box audit: replay --stream <prefix>:{r:*}:lease made it a stream; the worker then never routed, and said nothing)', async () => {
    const { lines, sink } = jsonLines();
    const router = routerResource('rs:login');
    await redis.xadd(resourceKeys(prefix, router).lease, '*', 'type', 'login');
    const p = manager('w-a', { logger: createLogger('warn', sink) });
    await p.m.start();
    await p.m.tick();
    await p.m.tick();
    expect(p.acquired).not.toContain(router);
    expect(p.acquired).toHaveLength(RESOURCES.length - 1);
    const said = lines.filter((l) => l.msg === 'engine: lease cannot be acquired (retried every heartbeat)');
    expect(said).toHaveLength(1); // the second heartbeat's repeat held back
    expect(said[0]).toMatchObject({ level: 50, resources: [router], keys: [resourceKeys(prefix, router).lease] });
  });

  it('a superseded worker logs its losses in one line per reason, not one per lease', async () => {
    const { lines, sink } = jsonLines();
    const old = manager('w-a', { logger: createLogger('warn', sink) });
    await old.m.start();
    await manager('w-a').m.start();
    await old.m.tick();
    await new Promise((r) => setImmediate(r));
    const lost = lines.filter((l) => l.msg === 'engine lease lost');
    expect(lost.length).toBeGreaterThanOrEqual(1);
    expect(lost.length).toBeLessThanOrEqual(2); // the renewal refused, and the rest: superseded
    expect(lost.reduce((n, l) => n + Number(l.count), 0)).toBe(RESOURCES.length);
  });

  it('holds() turns false by the local clock once ttl − margin passed without a renew (frozen clock)', async () => {
    let clock = 1_000_000;
    const a = manager('w-a', { now: () => clock, ttlMs: 10_000, marginMs: 1_000 });
    await a.m.tick();
    expect(a.m.holds('p0')).toBe(true);
    clock += 8_999;
    expect(a.m.holds('p0')).toBe(true);
    clock += 1;
    expect(a.m.holds('p0')).toBe(false);
    expect(a.m.owned().has('p0')).toBe(true);
    await a.m.tick(); // the lease is still ours in Redis: renewed, held again
    expect(a.m.holds('p0')).toBe(true);
    expect(a.lost).toEqual([]);
  });

  it('revokes a resource dropped from resources(); a throwing onAcquired gives the lease back', async () => {
    let list = RESOURCES;
    const a = manager('w-a', {
      resources: () => list,
      onAcquired: (l) => {
        if (l.resource === 'p3') throw new Error('cannot load p3');
      },
    });
    await a.m.tick();
    expect(a.m.owned().has('p3')).toBe(false);
    expect(await leaseValue('p3')).toBeNull();
    list = RESOURCES.filter((r) => r !== 'p5');
    await settle(a);
    expect(a.revoked).toEqual(['p5']);
    expect(a.m.owned().has('p5')).toBe(false);
  });

  it('refuses a heartbeat not shorter than the ttl minus its margin', () => {
    expect(() => manager('w-a', { ttlMs: 1_000, heartbeatMs: 950 })).toThrow(/heartbeat/);
  });
});
