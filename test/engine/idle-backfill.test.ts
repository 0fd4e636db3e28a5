/**
 * The idle index's backfill (src/engine/idle-backfill.ts) on a real partition owner and Redis:
 * states committed before the idle index existed (in the partition's state hash, no member in
 * `users:idle`) are listed as a commit would list them — then forgotten once idle past the TTL —;
 * users that are no candidates are not listed; the pass advances a chunk per sweep from the cursor
 * kept in the partition's position hash, so a crash or a hand-over resumes it, a finished pass is
 * not redone and a new index schema runs it again; a cursor another Redis process produced (or one
 * stored without its node) is not resumed: the pass starts again; a fenced owner writes nothing. Forgetting a
 * backfilled user changes no result: its comeback gives the states of a run that never swept.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyItems, type ApplyContext } from '../../src/engine/apply.js';
import { BACKFILL_FIELD, IDLE_INDEX_SCHEMA, type BackfillProgress } from '../../src/engine/idle-backfill.js';
import type { PartitionOwner } from '../../src/engine/owner.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import { Keys } from '../../src/keys.js';
import { keyId } from '../../src/partition.js';
import { effectiveIdleTtl, idleScore, learnerIds } from '../../src/risk/retention.js';
import { encodeState } from '../../src/risk/state-codec.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import type { CanonicalEvent } from '../../src/types.js';
import { readStates } from '../helpers/engine.js';
import { critical, dlp, failed, IDLE_BEHAVIORS, IDLE_LIMITS, item, ownerOfP0 } from '../helpers/idle-users.js';
import { drainOwner, writeRouted } from '../helpers/owner-steps.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const reader = redisClient();
const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const OLD = NOW - 20 * DAY;

const behaviors = IDLE_BEHAVIORS;
const limits = IDLE_LIMITS;

function ctx(): ApplyContext {
  const ttl = effectiveIdleTtl(7 * DAY, behaviors, limits)!;
  return { behaviors, limits, now: NOW, retention: { ttl, learners: learnerIds(behaviors) } };
}

let prefix: string;
let keys: Keys;
/** Passes reported complete (the worker logs each). */
let completed: Array<[number, BackfillProgress]> = [];
beforeEach(async () => {
  completed = [];
  prefix = testPrefix('idle-backfill');
  keys = new Keys(prefix, 1);
  await redis.set(keys.engineLease('p0'), 'w#1');
});
afterEach(() => cleanup(redis, prefix));
afterAll(() => Promise.all([redis.quit(), reader.quit()]));

function owner(token = 'w#1'): PartitionOwner {
  return ownerOfP0({ redis, reader }, keys, NOW, { context: ctx, onIdleBackfilled: (p, progress) => completed.push([p, progress]) }, token);
}

/**
 * States committed as before the idle index existed: each user's items applied to a new user's
 * state, its field written to the partition's state hash (and its level index member), no idle
 * member; the partition's position after the last item.
 */
async function oldStates(items: Array<RoutedItem & { e: CanonicalEvent }>): Promise<Map<string, UserState>> {
  const states = new Map<string, UserState>();
  for (const it of items) states.set(it.e.user, applyItems(it.e.user, states.get(it.e.user) ?? emptyState(it.e.user), [it], ctx()).state);
  const pipe = redis.pipeline();
  for (const [u, s] of states) {
    pipe.hset(keys.partitionState(0), u, encodeState(s));
    pipe.zadd(keys.usersByLevel(0), 0, u);
  }
  const last = items[items.length - 1]!.k;
  pipe.hset(keys.partitionPos(0), 'pos', keyId({ ms: last[0], seq: last[1] }));
  await pipe.exec();
  return states;
}

/** Sweeps (its partition's position loaded first, as the worker's steps do) and commits what it decided. */
async function sweep(o: PartitionOwner, limit = 1000): Promise<void> {
  await drainOwner(o);
  await o.sweep(NOW, limit);
  await drainOwner(o);
}

const progress = async (): Promise<string | null> => redis.hget(keys.partitionPos(0), BACKFILL_FIELD);
/** The Redis process's run_id: the node a stored cursor belongs to. */
const node = async (): Promise<string> => /run_id:(\w+)/.exec(await redis.info('server'))![1]!;
const spray = (n: number, at = OLD): Array<RoutedItem & { e: CanonicalEvent }> =>
  Array.from({ length: n }, (_, i) => item(failed(`old-${i}-${(i * 7919).toString(36)}@example.com`, at + i), at + i));

/** Old states in the chunked passes' tests: a hash scanned in chunks (a hashtable). */
const N = 600;
/** `n` old states in a hashtable, any rehash of it finished (each lookup moves it on): its scan cursor then returns each field once. */
async function chunkedStates(n: number): Promise<void> {
  await oldStates(spray(n));
  const look = redis.pipeline();
  for (let i = 0; i < 4 * n; i++) look.hexists(keys.partitionState(0), 'x');
  await look.exec();
  expect(await redis.object('ENCODING', keys.partitionState(0))).toBe('hashtable');
}

describe('idle index backfill', () => {
  it('lists the users stored before the idle index; once idle past the TTL they are forgotten; coming back they are new users', async () => {
    const K = 60;
    const sprayed = spray(K);
    await oldStates(sprayed);
    const later = item(failed('later@example.com', NOW - DAY), NOW - DAY);
    await writeRouted(redis, keys, later.e.user, [later]);
    const o = owner();
    await drainOwner(o);
    expect(await redis.zcard(keys.usersIdle(0))).toBe(1); // the later user only: its commit listed it
    await sweep(o); // the backfill's pass (one chunk: the hash is small)
    expect(await redis.zcard(keys.usersIdle(0))).toBe(K + 1);
    for (const it of sprayed.slice(0, 5))
      expect(Number(await redis.zscore(keys.usersIdle(0), it.e.user))).toBe(idleScore((await readStates(redis, keys, [it.e.user])).get(it.e.user)!));
    expect(await progress()).toBe(`${IDLE_INDEX_SCHEMA}:done:${K + 1}:${K + 1}:${await node()}`);
    expect(completed).toEqual([[0, { cursor: 'done', scanned: K + 1, candidates: K + 1, node: await node() }]]);
    await sweep(o); // the idle sweep finds them
    expect(o.forgotten).toBe(K);
    expect(await redis.hlen(keys.partitionState(0))).toBe(1);
    expect(await redis.zcard(keys.usersByLevel(0))).toBe(1);
    expect(await redis.zcard(keys.usersIdle(0))).toBe(1);
    expect(completed).toHaveLength(1); // not redone
    // They come back: new users (a level change of version 1), as in a run where nothing was swept.
    const back = sprayed.slice(0, 4).map((it) => it.e.user);
    const returns = back.map((u, i) => item(critical(u, NOW - DAY + 10 + i), NOW - DAY + 10 + i));
    for (const r of returns) await writeRouted(redis, keys, r.e.user, [r]);
    await drainOwner(o);
    const swept = await readStates(redis, keys, back);
    for (const u of back) expect(swept.get(u)).toMatchObject({ level: 'high', version: 1 });
    expect(await unswept(sprayed, [later, ...returns], back)).toEqual(swept);
  });

  it('lists candidates only, as a commit would, and leaves a listed user its score', async () => {
    const at = OLD;
    const users = {
      candidate: 'candidate@example.com', // a failed login: low, version 0
      high: 'high@example.com', // a critical detection: high, version 1
      active: 'active@example.com', // a low hit that never expires: a behavior active
      learned: 'learned@example.com', // a successful located login: new_country learned a country
      listed: 'listed@example.com', // a candidate listed already, at a later score (the sweep moved it)
    };
    const states = await oldStates([
      item(failed(users.candidate, at), at),
      item(critical(users.high, at + 1), at + 1),
      item(dlp(users.active, at + 2), at + 2),
      item({ ...failed(users.learned, at + 3), outcome: 'success', geo: { country: 'GB', lat: 51.5, lon: -0.1 } }, at + 3),
      item(failed(users.listed, at + 4), at + 4),
    ]);
    // A revocation mark only (an admin's revoke-all of a user never seen): no risk, never listed.
    await redis.hset(keys.partitionState(0), 'marked@example.com', encodeState({ ...emptyState('marked@example.com'), revokedUpTo: at }));
    // A state with version > 0 back at low (its level changed and expired): never forgotten, listed for its risk events' retention.
    await redis.hset(keys.partitionState(0), 'changed@example.com', encodeState({ ...states.get(users.candidate)!, user: 'changed@example.com', version: 2 }));
    await redis.zadd(keys.usersIdle(0), NOW, users.listed);
    const o = owner();
    await sweep(o);
    const idle = await redis.zrange(keys.usersIdle(0), 0, -1, 'WITHSCORES');
    const score = String(idleScore(states.get(users.candidate)!));
    expect(idle).toEqual([users.candidate, score, 'changed@example.com', score, users.listed, String(NOW)]);
    expect(await progress()).toBe(`${IDLE_INDEX_SCHEMA}:done:7:3:${await node()}`); // 3 candidates, one of them listed already
  });

  it('resumes a pass from the stored cursor after a crash or a hand-over; a finished pass is not redone; a new schema runs it again', async () => {
    await chunkedStates(N);
    const a = owner();
    await sweep(a, 100); // one chunk
    const first = await progress();
    const [schema, cursor, scanned] = first!.split(':');
    expect({ schema, done: cursor === 'done', scanned: Number(scanned) > 0 && Number(scanned) < N }).toEqual({
      schema: String(IDLE_INDEX_SCHEMA),
      done: false,
      scanned: true,
    });
    // A crashes. What it listed is taken out by hand: a pass started again would list it again.
    const byA = await redis.zrange(keys.usersIdle(0), 0, -1);
    expect(byA.length).toBe(Number(scanned));
    await redis.zrem(keys.usersIdle(0), ...byA);
    await redis.set(keys.engineLease('p0'), 'w#2');
    const b = owner('w#2');
    for (let i = 0; i < 100 && (await progress())?.split(':')[1] !== 'done'; i++) await sweep(b, 100);
    expect(await progress()).toBe(`${IDLE_INDEX_SCHEMA}:done:${N}:${N}:${await node()}`);
    expect(completed).toEqual([[0, { cursor: 'done', scanned: N, candidates: N, node: await node() }]]);
    const listed = new Set(await redis.zrange(keys.usersIdle(0), 0, -1));
    expect(listed.size).toBe(N - byA.length);
    for (const u of byA) expect(listed.has(u)).toBe(false);
    // A restart: the pass is finished, nothing scanned or listed again.
    await redis.set(keys.engineLease('p0'), 'w#3');
    const c = owner('w#3');
    await sweep(c, 100);
    expect(await redis.zcard(keys.usersIdle(0))).toBe(N - byA.length);
    expect(completed).toHaveLength(1);
    // A pass of another schema (an older one) is run again.
    await redis.hset(keys.partitionPos(0), BACKFILL_FIELD, `${IDLE_INDEX_SCHEMA - 1}:done:${N}:${N}`);
    await redis.set(keys.engineLease('p0'), 'w#4');
    const d = owner('w#4');
    for (let i = 0; i < 100 && (await progress())?.startsWith(`${IDLE_INDEX_SCHEMA}:done:`) !== true; i++) await sweep(d, 100);
    expect(await redis.zcard(keys.usersIdle(0))).toBe(N);
  });

  it('a cursor another Redis process produced (a restart, a failover, a slot moved) is not resumed, nor one stored without its node: the pass starts again and lists everyone', async () => {
    await chunkedStates(N);
    // A cursor in the middle of the hash: taken on this process, it stands for one another produced.
    const [mid] = await redis.hscan(keys.partitionState(0), '0', 'COUNT', 100);
    expect(mid).not.toBe('0');
    const stored = [`${IDLE_INDEX_SCHEMA}:${mid}:100:100:${'f'.repeat(40)}`, `${IDLE_INDEX_SCHEMA}:${mid}:100:100`];
    for (const [i, value] of stored.entries()) {
      await redis.del(keys.usersIdle(0));
      await redis.hset(keys.partitionPos(0), BACKFILL_FIELD, value);
      await redis.set(keys.engineLease('p0'), `w#${i + 2}`);
      const o = owner(`w#${i + 2}`);
      for (let j = 0; j < 100 && (await progress())?.split(':')[1] !== 'done'; j++) await sweep(o, 100);
      expect({ value, listed: await redis.zcard(keys.usersIdle(0)) }).toEqual({ value, listed: N });
      expect(await progress()).toBe(`${IDLE_INDEX_SCHEMA}:done:${N}:${N}:${await node()}`);
    }
    expect(completed.map(([, p]) => p.scanned)).toEqual([N, N]);
  });

  it('an owner whose lease moved writes nothing of its chunk; the next owner does', async () => {
    const K = 30;
    await oldStates(spray(K));
    const o = owner();
    await drainOwner(o);
    await o.sweep(NOW, 1000); // the chunk decided, in memory
    await redis.set(keys.engineLease('p0'), 'w#2');
    await o.commit();
    await o.settle();
    expect(o.owns(0)).toBe(false);
    expect({ idle: await redis.zcard(keys.usersIdle(0)), progress: await progress(), completed }).toEqual({ idle: 0, progress: null, completed: [] });
    const next = owner('w#2');
    await drainOwner(next);
    await sweep(next);
    expect({ idle: await redis.zcard(keys.usersIdle(0)), progress: await progress() }).toEqual({
      idle: K,
      progress: `${IDLE_INDEX_SCHEMA}:done:${K}:${K}:${await node()}`,
    });
  });
});

/** The same old states and input on a fresh prefix, applied by an owner that never sweeps; the states of `users`. */
async function unswept(
  old: Array<RoutedItem & { e: CanonicalEvent }>,
  input: Array<RoutedItem & { e: CanonicalEvent }>,
  users: string[],
): Promise<Map<string, UserState>> {
  const first = prefix;
  prefix = testPrefix('idle-backfill-b');
  keys = new Keys(prefix, 1);
  try {
    await redis.set(keys.engineLease('p0'), 'w#1');
    await oldStates(old);
    for (const it of input) await writeRouted(redis, keys, it.e.user, [it]);
    await drainOwner(owner());
    expect(await redis.hlen(keys.partitionState(0))).toBe(old.length + 1);
    return await readStates(redis, keys, users);
  } finally {
    await cleanup(redis, prefix);
    prefix = first;
    keys = new Keys(prefix, 1);
  }
}
