/**
 * PoisonGuard on a real Redis (random prefix, purged after): a partition isolated after its attempts
 * stops counting as isolated once its committed position is past the isolation, or once it is no
 * longer owned — the owner's read-ahead (held back while some partition is isolated) comes back;
 * owners handing an idle partition over cleanly (a rebalance, a graceful stop) never add up to
 * isolating it.
 */
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { PartitionOwner } from '../../src/engine/owner.js';
import { PoisonGuard } from '../../src/engine/poison-guard.js';
import type { Owned, OwnerParts } from '../../src/engine/owner-types.js';
import type { CanonicalEvent } from '../../src/types.js';
import { QUIET_OWNER, routedItem, writeRouted } from '../helpers/owner-steps.js';
import { Keys } from '../../src/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
defineScripts(redis);
const P = 2;
const TOKEN = 'w-a#1';
let prefix: string;
let keys: Keys;

beforeEach(() => {
  prefix = testPrefix('poison-guard');
  keys = new Keys(prefix, 4);
});
afterEach(async () => {
  await cleanup(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

/** Partition P owned under TOKEN, committed at 1-0, two attempts counted there already and entries up to 3-0. */
async function isolatedGuard(): Promise<{ guard: PoisonGuard; owned: Map<number, Owned> }> {
  await redis.set(keys.engineLease(`p${P}`), TOKEN);
  await redis.hset(keys.partitionPos(P), 'pos', '1-0', 'attempts', '1-0|2');
  for (const id of ['1-0', '2-0', '3-0']) await redis.xadd(keys.partitionIn(P), id, 'd', 'x');
  const guard = new PoisonGuard(redis, keys);
  const owned = new Map<number, Owned>([[P, { token: TOKEN, committed: { ms: 1, seq: 0 }, applied: { ms: 1, seq: 0 }, cursor: '1-0', fresh: true }]]);
  await guard.taken(owned); // the third attempt: isolated up to 3-0
  return { guard, owned };
}

it('isolates a partition after its third attempt at one position, up to the stream top', async () => {
  const { guard, owned } = await isolatedGuard();
  expect(guard.isolated(P, { ms: 1, seq: 0 })).toBe(true);
  expect(guard.any(owned)).toBe(true);
});

it('no partition counts as isolated once applied past its isolation (read-ahead comes back)', async () => {
  const { guard, owned } = await isolatedGuard();
  owned.get(P)!.committed = { ms: 3, seq: 0 };
  expect(guard.isolated(P, { ms: 3, seq: 0 })).toBe(false);
  expect(guard.any(owned)).toBe(false);
});

it('a partition isolated here and then lost or released does not count either', async () => {
  const { guard, owned } = await isolatedGuard();
  owned.delete(P);
  expect(guard.any(owned)).toBe(false);
});

const NOW = Date.parse('2026-11-23T12:00:00Z');

function owner(): PartitionOwner {
  const parts: OwnerParts = {
    context: () => ({ behaviors: [], limits: { maxLogins: 10, maxAge: 86_400_000, allowedLateness: 600_000 }, now: NOW }),
    settings: () => ({ eventsMaxlen: 100, now: NOW }),
    sessions: { build: () => [], prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }), after: async () => undefined },
    ...QUIET_OWNER,
  };
  return new PartitionOwner(redis, redis, keys, { lruSize: 100, readCount: 100, commitInterval: 0, commitEntries: 1 }, parts);
}

it('an idle partition handed over cleanly three times is not isolated when input arrives at the next takeover', async () => {
  const user = Array.from({ length: 50 }, (_, i) => `u${i}@example.com`).find((u) => keys.partitionOf(u) === P)!;
  const login = (time: number): CanonicalEvent => ({ type: 'login', id: `l-${time}`, user, time, outcome: 'failure', ip: '203.0.113.9' });
  await writeRouted(redis, keys, user, [routedItem(login(NOW - 10), NOW - 10)]);
  // Three owners in turn take the partition, find nothing new and release it (a rebalance, a rolling restart).
  for (const token of ['w-a#1', 'w-b#2', 'w-c#3']) {
    await redis.set(keys.engineLease(`p${P}`), token);
    const o = owner();
    o.acquire(P, token);
    await o.step(0);
    await o.release(P);
  }
  // Input arrives; the next owner's take is the fourth at the same committed position.
  await writeRouted(redis, keys, user, [routedItem(login(NOW - 5), NOW - 5), routedItem(login(NOW - 4), NOW - 4)]);
  await redis.set(keys.engineLease(`p${P}`), 'w-d#4');
  const o = owner();
  o.acquire(P, 'w-d#4');
  const r = await o.step(0);
  expect({ isolated: !!r.isolated, applied: r.applied }).toEqual({ isolated: false, applied: 2 });
  await o.settle();
});

it('a lease lost while an item is tried alone is no try of it: three such losses dead-letter nothing', async () => {
  const user = Array.from({ length: 50 }, (_, i) => `u${i}@example.com`).find((u) => keys.partitionOf(u) === P)!;
  const login = (time: number): CanonicalEvent => ({ type: 'login', id: `l-${time}`, user, time, outcome: 'failure', ip: '203.0.113.9' });
  await writeRouted(redis, keys, user, [routedItem(login(NOW - 10), NOW - 10)]);
  await writeRouted(redis, keys, user, [routedItem(login(NOW - 9), NOW - 9)]);
  // Two attempts at the position already: the next take isolates the partition.
  await redis.hset(keys.partitionPos(P), 'pos', '1-0', 'attempts', '1-0|2');
  const dead: unknown[] = [];
  /** An owner whose lease is taken over just as its commit is sent (after its item's try is recorded and applied). */
  const stolen = (): PartitionOwner => {
    const o = owner();
    const settings = o.parts.settings;
    o.parts.settings = () => (void redis.set(keys.engineLease(`p${P}`), 'w-thief#0'), settings());
    return o;
  };
  for (const token of ['w-a#1', 'w-b#2', 'w-c#3']) {
    await redis.set(keys.engineLease(`p${P}`), token);
    const o = stolen();
    o.acquire(P, token);
    const r = await o.step(0);
    expect({ isolated: !!r.isolated, applied: r.applied }).toEqual({ isolated: true, applied: 1 });
    await o.settle();
    expect(o.owns(P)).toBe(false); // its commit fenced: the partition lost
  }
  await redis.set(keys.engineLease(`p${P}`), 'w-d#4');
  const o = owner();
  o.parts.deadLetter = async (bad) => void dead.push(...bad);
  o.acquire(P, 'w-d#4');
  const r = await o.step(0);
  await o.settle();
  expect({ applied: r.applied, deadLettered: r.deadLettered, dead }).toEqual({ applied: 1, deadLettered: 0, dead: [] });
  expect(await redis.hget(keys.partitionPos(P), 'pos')).toBe(`${NOW - 10}-0`);
});

it('a try alone that failed on its data stays counted when its lease is lost after; one in progress is taken back', async () => {
  const { guard, owned } = await isolatedGuard();
  const o = owned.get(P)!;
  expect(await guard.passOver(P, o, owned)).toBe(false);
  await guard.failed(P, o, new TypeError('bad data'));
  guard.abandoned(P, TOKEN);
  await guard.settled();
  expect(await redis.hget(keys.partitionPos(P), 'tries')).toBe('1-0|1');
  expect(await guard.passOver(P, o, owned)).toBe(false); // the next try, in progress when the lease is lost
  await redis.set(keys.engineLease(`p${P}`), 'w-b#2');
  guard.abandoned(P, TOKEN);
  await guard.settled();
  expect(await redis.hget(keys.partitionPos(P), 'tries')).toBe('1-0|1');
});

it('a lease lost while the try of an item alone waits for Redis takes that try back', async () => {
  const { guard, owned } = await isolatedGuard();
  const o = owned.get(P)!;
  const trying = guard.passOver(P, o, owned); // the try sent, not answered yet
  guard.abandoned(P, TOKEN); // the lease lost meanwhile (the owner's lose(): then forgotten)
  owned.delete(P);
  expect(await trying).toBe(false);
  await guard.settled();
  expect(await redis.hget(keys.partitionPos(P), 'tries')).toBe('1-0|0');
});
