/**
 * PoisonGuard on a real Redis (random prefix, purged after): a partition isolated after its attempts
 * stops counting as isolated once its committed position is past the isolation, or once it is no
 * longer owned — the owner's read-ahead (held back while some partition is isolated) comes back;
 * owners handing an idle partition over cleanly (a rebalance, a graceful stop) never add up to
 * isolating it. A lease lost while an item is tried alone takes its try back — unless the item's
 * own work blocked the event loop past the lease (a regex backtracking, a huge event): then the
 * try stays counted, and after 3 the item is dead-lettered instead of every owner in turn losing
 * the lease on it for ever.
 */
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import type { PartitionOwner as Owner } from '../../src/engine/owner.js';
import { aloneFailedCode, PoisonGuard } from '../../src/engine/poison-guard.js';
import type { Owned, OwnerOptions, OwnerParts } from '../../src/engine/owner-types.js';
import type { CanonicalEvent } from '../../src/types.js';
import { QUIET_OWNER, routedItem, writeRouted } from '../helpers/owner-steps.js';
import { Keys } from '../../src/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const NOW = Date.parse('2026-11-23T12:00:00Z');
/** A short lease (ms) for the stalling items' owners: their items' work counts as stalled from 400 ms (heartbeat 100 ms). */
const TTL = 1000;
const STALL = TTL + 200;
const SHORT = { leaseTtl: TTL, heartbeat: 100 };
const eventId = (time: number): string => `l-${time}`;
// Read once, when src/engine/failpoints.ts loads: the item at NOW - 110 stalls past its lease in its apply, the one at NOW - 120 in its commit's building.
process.env.RISKSTREAM_FAILPOINTS = `apply:${eventId(NOW - 110)}=stall:${STALL},commit:${eventId(NOW - 120)}=stall:${STALL}`;
const { PartitionOwner } = await import('../../src/engine/owner.js');
delete process.env.RISKSTREAM_FAILPOINTS;

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

function owner(opts: Partial<OwnerOptions> = {}, dead: string[] = []): Owner {
  const parts: OwnerParts = {
    context: () => ({ behaviors: [], limits: { maxLogins: 10, maxAge: 86_400_000, allowedLateness: 600_000 }, now: NOW }),
    settings: () => ({ eventsMaxlen: 100, now: NOW }),
    sessions: { build: () => [], prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }), after: async () => undefined },
    ...QUIET_OWNER,
    deadLetter: async (bad) => void dead.push(...bad.map((b) => b.reason)),
  };
  return new PartitionOwner(redis, redis, keys, { lruSize: 100, readCount: 100, commitInterval: 0, commitEntries: 1, ...opts }, parts);
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
  expect(await threeLosses(NOW - 10, { steal: true })).toEqual({ applied: 1, deadLettered: 0, codes: [], pos: `${NOW - 10}-0` });
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

/**
 * Partition P's item at `time` (then another), isolated; three owners in turn (with `opts`) try it
 * alone under a lease of TTL ms and lose it before their commit lands: `steal` takes the lease as
 * the commit is sent (else it expires on its own, during the stall). Then a fourth owner steps once.
 */
async function threeLosses(
  time: number,
  { steal, opts = {} }: { steal: boolean; opts?: Partial<OwnerOptions> },
): Promise<{ applied: number; deadLettered: number; codes: Array<string | undefined>; pos: string | null }> {
  const user = Array.from({ length: 50 }, (_, i) => `u${i}@example.com`).find((u) => keys.partitionOf(u) === P)!;
  const login = (t: number): CanonicalEvent => ({ type: 'login', id: eventId(t), user, time: t, outcome: 'failure', ip: '203.0.113.9' });
  await writeRouted(redis, keys, user, [routedItem(login(time), time)]);
  await writeRouted(redis, keys, user, [routedItem(login(NOW - 5), NOW - 5)]);
  await redis.hset(keys.partitionPos(P), 'pos', '1-0', 'attempts', '1-0|2'); // the next take isolates the partition
  for (const token of ['w-a#1', 'w-b#2', 'w-c#3']) {
    await redis.set(keys.engineLease(`p${P}`), token, 'PX', TTL);
    const o = owner(opts);
    const settings = o.parts.settings;
    if (steal) o.parts.settings = () => (void redis.set(keys.engineLease(`p${P}`), 'w-thief#0'), settings());
    o.acquire(P, token);
    const r = await o.step(0);
    expect({ isolated: !!r.isolated, applied: r.applied }).toEqual({ isolated: true, applied: 1 });
    await o.settle();
    expect(o.owns(P)).toBe(false); // its commit fenced: the partition lost
  }
  await redis.set(keys.engineLease(`p${P}`), 'w-d#4');
  const dead: string[] = [];
  const o = owner(opts, dead);
  o.acquire(P, 'w-d#4');
  const r = await o.step(0);
  await o.settle();
  return { applied: r.applied, deadLettered: r.deadLettered, codes: dead.map(aloneFailedCode), pos: await redis.hget(keys.partitionPos(P), 'pos') };
}

it('an item whose apply blocks past its lease three times alone is dead-lettered, not tried for ever', async () => {
  expect(await threeLosses(NOW - 110, { steal: false, opts: SHORT })).toEqual({
    applied: 0,
    deadLettered: 1,
    codes: ['PROCESSING_CRASHED'],
    pos: `${NOW - 110}-0`,
  });
});

it('so is one whose commit building blocks past its lease', async () => {
  expect(await threeLosses(NOW - 120, { steal: false, opts: SHORT })).toEqual({
    applied: 0,
    deadLettered: 1,
    codes: ['PROCESSING_CRASHED'],
    pos: `${NOW - 120}-0`,
  });
});

it('an item whose quick work lost its lease while its commit waited for Redis keeps no try, under the short lease too: applied at last', async () => {
  expect(await threeLosses(NOW - 130, { steal: true, opts: SHORT })).toEqual({ applied: 1, deadLettered: 0, codes: [], pos: `${NOW - 130}-0` });
});
