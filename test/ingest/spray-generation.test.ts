import { afterAll, describe, expect, it } from 'vitest';
import { behaviorSchema, type BehaviorConfig } from '../../src/config/behaviors-schema.js';
import { ipSprayEnricher } from '../../src/ingest/ip-spray.js';
import { LOST_COUNTER_MARGIN } from '../../src/redis/followed.js';
import { bumpSprayGeneration, sprayGeneration } from '../../src/ingest/spray-generation.js';
import { ipFailuresOf } from '../../src/detect/password-spray.js';
import { Keys } from '../../src/keys.js';
import type { CanonicalEvent, StreamEvent } from '../../src/types.js';
import { testRedis } from './helpers/redis.js';

const { redis, prefix, cleanup } = testRedis('spraygen');
afterAll(cleanup);

const T0 = Date.parse('2026-11-23T08:00:00Z');
const MIN = 60_000;
const keys = new Keys(prefix);
const params = behaviorSchema('password_spray').parse({ risk_level: 'high', users: 4, window: '30m' });
/** A configuration as a load gives it: a new array each time. */
const behaviors = (enabled: boolean): BehaviorConfig[] => [
  { id: 'password_spray', kind: 'password_spray', enabled, risk_level: 'high', expires_after: 86_400_000, params: { ...params } },
];
const enricher = (on: BehaviorConfig[]) => ipSprayEnricher(redis, keys, { behaviors: () => on, allowedLateness: () => 10 * MIN, now: () => T0 + 2 * 60 * MIN });

let seq = 0;
const login = (user: string, at: number, outcome: 'success' | 'failure', ip: string): StreamEvent => ({
  ref: { stream: `${prefix}:login`, id: `${T0 + at}-${++seq}` },
  deliveries: 1,
  event: { type: 'login', id: `e-${seq}`, user, time: T0 + at, outcome, ip } as CanonicalEvent,
});
const failures = (ip: string, from: number) => Array.from({ length: 4 }, (_, i) => login(`u${i}-${seq}@example.com`, from + i * MIN, 'failure', ip));

describe("password_spray's tallies generation", () => {
  it('a worker restarted while password_spray is off: on again (any worker of the prefix), the IP tallies start afresh', async () => {
    const ip = '203.0.113.10';
    const on = behaviors(true);
    await enricher(on)(failures(ip, 0));
    // Worker B (or this one, restarted) starts with it off: it marks the generation at its start.
    await bumpSprayGeneration(redis, keys, behaviors(false));
    // On again (a restart, a reload: another configuration), a success within the old failures' window.
    const again = enricher(behaviors(true));
    const ok = login('victim@example.com', 10 * MIN, 'success', ip);
    await again([ok]);
    expect(ipFailuresOf(ok.event)).toEqual([]);
    // What comes now counts.
    const batch = [...failures(ip, 11 * MIN), login('second@example.com', 16 * MIN, 'success', ip)];
    await again(batch);
    expect(ipFailuresOf(batch[4]!.event)).toHaveLength(4);
    // A worker on all along follows at its next configuration (or refresh): it finds the same fresh tallies.
    const ok2 = login('third@example.com', 17 * MIN, 'success', ip);
    await enricher(behaviors(true))([ok2]);
    expect(ipFailuresOf(ok2.event)).toHaveLength(4);
  });

  it('a reload turning it on again after off bumps too; on to on, nothing', async () => {
    const gen = async () => Number(await redis.get(keys.ipSprayGeneration()));
    const before = await gen();
    await bumpSprayGeneration(redis, keys, behaviors(true), behaviors(true));
    expect(await gen()).toBe(before);
    await bumpSprayGeneration(redis, keys, behaviors(true), behaviors(false));
    expect(await gen()).toBe(before + 1);
    await bumpSprayGeneration(redis, keys, [], behaviors(true));
    expect(await gen()).toBe(before + 2);
  });

  it('read once per configuration, then at most every refreshMs in the background: no read per batch', async () => {
    let reads = 0;
    let lastRead: Promise<unknown> = Promise.resolve();
    const counted = new Proxy(redis, {
      get: (t, p, r) => (p === 'get' ? (...a: [string]) => (reads++, (lastRead = t.get(...a))) : (Reflect.get(t, p, r) as unknown)),
    });
    let now = 0;
    const g = sprayGeneration(counted, keys, { refreshMs: 5_000, now: () => now });
    const on = behaviors(true);
    const first = await g.current(on);
    for (let i = 0; i < 50; i++) expect(await g.current(on)).toBe(first);
    expect(reads).toBe(1);
    // Another worker turns it off: followed at the next refresh, without waiting for it.
    await bumpSprayGeneration(redis, keys, behaviors(false));
    now = 5_000;
    expect(await g.current(on)).toBe(first);
    expect(reads).toBe(2);
    // The background read answered; what it does with the answer runs in microtasks, all done
    // before the next macrotask (no fixed sleep: a loaded machine may answer after any delay).
    await lastRead;
    await new Promise((r) => setImmediate(r));
    expect(await g.current(on)).toBe(first + 1);
    // A new configuration is read before its first batch.
    await bumpSprayGeneration(redis, keys, behaviors(false));
    expect(await g.current(behaviors(true))).toBe(first + 2);
    expect(reads).toBe(3);
  });

  it('Redis lost the counter (restarted empty): an edge that saw a higher one puts it back far above it, so a bump since is still new', async () => {
    const key = keys.ipSprayGeneration();
    await redis.set(key, '7');
    const g = sprayGeneration(redis, keys);
    expect(await g.current(behaviors(true))).toBe(7);
    await redis.del(key);
    // Off and on again by reloads after the loss: 2 from 0, below what the edge has seen.
    await bumpSprayGeneration(redis, keys, behaviors(false));
    await bumpSprayGeneration(redis, keys, behaviors(true), behaviors(false));
    const raised = 7 + LOST_COUNTER_MARGIN;
    expect(await g.current(behaviors(true))).toBe(raised);
    expect(await redis.get(key)).toBe(String(raised));
    // Another edge (or this one again) finds it raised: nothing more.
    expect(await sprayGeneration(redis, keys).current(behaviors(true))).toBe(raised);
    expect(await g.current(behaviors(true))).toBe(raised);
  });

  it('two edges that knew different generations when Redis lost it both see a new one, whichever raises it first', async () => {
    const key = keys.ipSprayGeneration();
    await redis.set(key, '9');
    const b = sprayGeneration(redis, keys);
    expect(await b.current(behaviors(true))).toBe(9);
    await redis.set(key, '10'); // a bump edge b has not read yet
    const a = sprayGeneration(redis, keys);
    expect(await a.current(behaviors(true))).toBe(10);
    await redis.del(key);
    await bumpSprayGeneration(redis, keys, behaviors(true), behaviors(false)); // 1 after the loss
    const seenByB = await b.current([...behaviors(true)]); // b raises it first
    const seenByA = await a.current([...behaviors(true)]);
    expect(seenByB).not.toBe(9);
    expect(seenByA).not.toBe(10); // a value edge a had seen would keep its old tallies
    expect(seenByA).toBe(seenByB);
  });
});
