/**
 * PoisonGuard on a real Redis (random prefix, purged after): a partition isolated after its attempts
 * stops counting as isolated once its committed position is past the isolation, or once it is no
 * longer owned — the owner's read-ahead (held back while some partition is isolated) comes back.
 */
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { PoisonGuard } from '../../src/engine/poison-guard.js';
import type { Owned } from '../../src/engine/owner-types.js';
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
