/**
 * Idle users' retention (`state.idle_user_ttl`, src/risk/retention.ts, src/engine/forget.ts) on a
 * real partition owner and Redis, the clock frozen: a password spray's users (one failed login
 * each) are forgotten — state field and index members gone — once later input moves the partition's
 * event time past the TTL (never before, whatever the sweep's clock); users with a level change,
 * an active behavior, risk events, a learned country or window times inside the TTL are kept; a
 * forgotten user that comes back is a new user (its level change has version 1) and every run,
 * with the deletion or without it (a sweep that came later, a crash), ends in the same states.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { applyItems, type ApplyContext } from '../../src/engine/apply.js';
import type { PartitionOwner } from '../../src/engine/owner.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import { Keys } from '../../src/keys.js';
import { effectiveEventRetention, effectiveIdleTtl, learnerIds } from '../../src/risk/retention.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { RiskService } from '../../src/risk/service.js';
import { RiskStore } from '../../src/risk/store.js';
import type { CanonicalEvent, LevelChange } from '../../src/types.js';
import { behavior } from '../helpers/behavior-config.js';
import { readStates } from '../helpers/engine.js';
import { critical, dlp, failed, IDLE_BEHAVIORS, IDLE_LIMITS, item, ownerOfP0 } from '../helpers/idle-users.js';
import { drainOwner, writeRouted } from '../helpers/owner-steps.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const reader = redisClient();
const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const K = 60;
const SPRAYED = Array.from({ length: K }, (_, i) => `sprayed-${i}-${(i * 7919).toString(36)}@example.com`);

const behaviors = IDLE_BEHAVIORS;
const limits = IDLE_LIMITS;
const TTL = 7 * DAY;

function ctx(retain = true): ApplyContext {
  const ttl = effectiveIdleTtl(TTL, behaviors, limits)!;
  return { behaviors, limits, now: NOW, ...(retain ? { retention: { ttl, learners: learnerIds(behaviors) } } : {}) };
}

let prefix: string;
let keys: Keys;
/** What the owner reported through `onForgotten` (the worker's metric counts these). */
let reported: number[] = [];
beforeEach(async () => {
  reported = [];
  prefix = testPrefix('forget-idle');
  keys = new Keys(prefix, 1);
  await redis.set(keys.engineLease('p0'), 'w#1');
});
afterEach(async () => {
  await cleanup(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
  await reader.quit();
});

function owner(retain = true): PartitionOwner {
  return ownerOfP0({ redis, reader }, keys, NOW, { context: () => ctx(retain), onForgotten: (n) => reported.push(n) });
}

/** Writes items (in key order) to the partition stream, one entry each. */
async function write(items: Array<RoutedItem & { e: CanonicalEvent }>): Promise<void> {
  for (const it of items) await writeRouted(redis, keys, it.e.user, [it]);
}

async function stateCount(): Promise<{ states: number; level: number; idle: number; expiry: number }> {
  return {
    states: await redis.hlen(keys.partitionState(0)),
    level: await redis.zcard(keys.usersByLevel(0)),
    idle: await redis.zcard(keys.usersIdle(0)),
    expiry: await redis.zcard(keys.partitionExpiry(0)),
  };
}

/** Sweeps (clock `now`) and commits what it decided. */
async function sweep(o: PartitionOwner, now = NOW): Promise<void> {
  await o.sweep(now, 1000);
  await drainOwner(o);
}

describe('idle users forgotten in event time', () => {
  it('a spray of K users leaves no state once later input moves the partition past the TTL; nothing before', async () => {
    const at = NOW - 20 * DAY;
    await write(SPRAYED.map((u, i) => item(failed(u, at + i), at + i)));
    const o = owner();
    await drainOwner(o);
    expect(await stateCount()).toEqual({ states: K, level: K, idle: K, expiry: 0 });
    // The sweep's clock is far ahead, but the partition's event time is the spray's: nothing is idle.
    await sweep(o);
    expect((await stateCount()).states).toBe(K);
    expect(o.forgotten).toBe(0);
    expect(reported).toEqual([]);
    // Later input (another user), 19 days after the spray: its event time passes the TTL.
    await write([item(failed('later@example.com', NOW - DAY), NOW - DAY)]);
    await drainOwner(o);
    await sweep(o);
    expect(o.forgotten).toBe(K);
    // Reported as the commit landed, not at the worker's next step.
    expect(reported.reduce((a, b) => a + b, 0)).toBe(K);
    expect(await stateCount()).toEqual({ states: 1, level: 1, idle: 1, expiry: 0 });
    expect(await redis.hexists(keys.partitionState(0), 'later@example.com')).toBe(1);
    // Nothing else of theirs: no risk events, no outbox.
    for (const u of SPRAYED.slice(0, 5)) expect(await redis.exists(keys.userEvents(u), keys.userOutbox(u))).toBe(0);
    // The admin API answers for a forgotten user as for one never seen, and lists only the other.
    const service = new RiskService(redis, keys, new RiskStore(redis, keys));
    await expect(service.get(SPRAYED[0]!)).rejects.toMatchObject({ code: 'NOT_FOUND' });
    await expect(service.get('never-seen@example.com')).rejects.toMatchObject({ code: 'NOT_FOUND' });
    expect((await service.list({})).users.map((r) => r.user)).toEqual(['later@example.com']);
  });

  it('counts forgotten users once their deletion lands: a sweep whose commit is fenced counts none, the next owner counts them', async () => {
    const at = NOW - 20 * DAY;
    await write(SPRAYED.map((u, i) => item(failed(u, at + i), at + i)));
    await write([item(failed('later@example.com', NOW - DAY), NOW - DAY)]);
    const o = owner();
    await drainOwner(o);
    await o.sweep(NOW, 1000); // K decided, in memory
    await redis.set(keys.engineLease('p0'), 'w#2'); // the lease moved: the commit carrying them is fenced
    await o.commit();
    await o.settle();
    expect(o.owns(0)).toBe(false);
    expect({ counted: o.forgotten, states: (await stateCount()).states }).toEqual({ counted: 0, states: K + 1 });
    const next = owner();
    next.acquire(0, 'w#2');
    await drainOwner(next);
    await sweep(next);
    expect({ counted: next.forgotten, states: (await stateCount()).states }).toEqual({ counted: K, states: 1 });
  });

  it('keeps users with a level change, an active behavior, risk events, a learned country or recent window times', async () => {
    const at = NOW - 20 * DAY;
    const keep = {
      changed: 'changed@example.com', // high then expired back to low: version 2
      active: 'active@example.com', // a low hit that never expires (version 0, a behavior active)
      learned: 'learned@example.com', // a successful located login: new_country learned a country
      recent: 'recent@example.com', // a failed login 2 days before the later input: inside the TTL
      future: 'future@example.com', // arrived with the spray, its event time (a skewed clock) 19 days later
    };
    await write([
      item(critical(keep.changed, at), at),
      item(dlp(keep.active, at + 1), at + 1),
      item({ ...failed(keep.learned, at + 2), outcome: 'success', geo: { country: 'GB', lat: 51.5, lon: -0.1 } }, at + 2),
      item(failed(keep.future, NOW - DAY + 5), at + 3),
      item(failed('gone@example.com', at + 4), at + 4),
    ]);
    const o = owner();
    await drainOwner(o);
    await sweep(o, at + DAY); // the critical hit expires: low again, version 2
    await write([item(failed(keep.recent, NOW - 2 * DAY), NOW - 2 * DAY), item(failed('later@example.com', NOW - DAY), NOW - DAY)]);
    await drainOwner(o);
    await sweep(o);
    const stored = await readStates(redis, keys, [...Object.values(keep), 'gone@example.com']);
    expect(stored.get(keep.changed)).toMatchObject({ level: 'low', version: 2 });
    expect(Object.keys(stored.get(keep.active)!.behaviors)).toEqual(['dlp_detection']);
    for (const u of [keep.learned, keep.recent, keep.future]) expect(stored.has(u)).toBe(true);
    expect(stored.has('gone@example.com')).toBe(false);
    expect(o.forgotten).toBe(1);
    // Kept for good (no candidate) are out of the idle index; those not idle yet stay in it, as does
    // one kept while risk events are kept for good (no retention here): one turned on later reaches it.
    const idle = await redis.zrange(keys.usersIdle(0), 0, -1);
    expect(idle).toContain(keep.changed);
    expect(idle).not.toContain(keep.active);
    expect(idle).toEqual(expect.arrayContaining([keep.recent, keep.future]));
  });

  it('keeps a user whose risk events are its evidence (version 0, nothing active)', async () => {
    const at = NOW - 20 * DAY;
    // A low hit that expires after an hour: a risk event, then nothing active, level low, version 0.
    const short = [behavior('dlp_detection', { enabled: true, risk_level: 'low', expires_after: '1h', min_severity: 'high' })];
    const o = ownerOfP0({ redis, reader }, keys, NOW, { context: () => ({ ...ctx(), behaviors: short }) });
    await write([item(dlp('evidence@example.com', at), at), item(failed('gone@example.com', at + 1), at + 1)]);
    await drainOwner(o);
    await sweep(o, at + DAY);
    expect((await readStates(redis, keys, ['evidence@example.com'])).get('evidence@example.com')).toMatchObject({ level: 'low', version: 0, behaviors: {} });
    await write([item(failed('later@example.com', NOW - DAY), NOW - DAY)]);
    await drainOwner(o);
    await sweep(o);
    expect(o.forgotten).toBe(1);
    expect(await redis.hexists(keys.partitionState(0), 'evidence@example.com')).toBe(1);
    expect(await redis.hexists(keys.partitionState(0), 'gone@example.com')).toBe(0);
    // Still listed (its outbox waits for a relay; its risk events for a retention turned on later).
    expect(Number(await redis.zscore(keys.usersIdle(0), 'evidence@example.com'))).toBeGreaterThan(NOW - DAY - TTL);
    expect(await redis.xlen(keys.userEvents('evidence@example.com'))).toBe(1);
  });

  it('forgets a user kept for its risk events, with them, once its newest time lies state.risk_event_retention behind', async () => {
    const at = NOW - 20 * DAY;
    const short = [behavior('dlp_detection', { enabled: true, risk_level: 'low', expires_after: '1h', min_severity: 'high' })];
    const base = ctx();
    const retention = { ...base.retention!, events: effectiveEventRetention(10 * DAY, base.retention!.ttl)! };
    const o = ownerOfP0({ redis, reader }, keys, NOW, { context: () => ({ ...base, behaviors: short, retention }) });
    const user = 'evidence@example.com';
    await write([item(dlp(user, at), at), item(failed('gone@example.com', at + 1), at + 1)]);
    await drainOwner(o);
    await sweep(o, at + DAY); // the hit expires: low, version 0, nothing active, one risk event
    await redis.del(keys.userOutbox(user)); // relayed (a worker's outbox relay; none runs here)
    // Past the idle TTL, not past the retention: the evidence is kept, the user listed again for later.
    await write([item(failed('later@example.com', at + 9 * DAY), at + 9 * DAY)]);
    await drainOwner(o);
    await sweep(o);
    expect(await redis.hexists(keys.partitionState(0), 'gone@example.com')).toBe(0);
    expect(await redis.hexists(keys.partitionState(0), user)).toBe(1);
    expect(await redis.xlen(keys.userEvents(user))).toBe(1);
    expect(Number(await redis.zscore(keys.usersIdle(0), user))).toBeGreaterThan(at + 9 * DAY - retention.ttl);
    // Past the retention: forgotten with its risk events, as a user never seen.
    await write([item(failed('latest@example.com', at + 13 * DAY), at + 13 * DAY)]);
    await drainOwner(o);
    await sweep(o);
    expect(await redis.hexists(keys.partitionState(0), user)).toBe(0);
    expect(await redis.exists(keys.userEvents(user))).toBe(0);
    expect(await redis.zscore(keys.usersIdle(0), user)).toBeNull();
    expect(await redis.zscore(keys.usersByLevel(0), user)).toBeNull();
  });

  it('a user whose level changed keeps its state (its version) but loses its risk events past state.risk_event_retention', async () => {
    const at = NOW - 20 * DAY;
    const base = ctx();
    const retention = { ...base.retention!, events: effectiveEventRetention(10 * DAY, base.retention!.ttl)! };
    const o = ownerOfP0({ redis, reader }, keys, NOW, { context: () => ({ ...base, retention }) });
    const user = 'changed@example.com';
    await write([item(critical(user, at), at)]);
    await drainOwner(o);
    await sweep(o, at + DAY); // the hit expires: low again, version 2
    await redis.del(keys.userOutbox(user)); // relayed (a worker's outbox relay; none runs here)
    expect(await redis.xlen(keys.userEvents(user))).toBe(3); // the hit, both level changes
    // Past the idle TTL, not past the retention: nothing deleted.
    await write([item(failed('later@example.com', at + 9 * DAY), at + 9 * DAY)]);
    await drainOwner(o);
    await sweep(o);
    expect(await redis.xlen(keys.userEvents(user))).toBe(3);
    // Past the retention: its risk events go; its state, version and level index entry stay.
    await write([item(failed('latest@example.com', at + 13 * DAY), at + 13 * DAY)]);
    await drainOwner(o);
    await sweep(o);
    expect(await redis.exists(keys.userEvents(user))).toBe(0);
    expect((await readStates(redis, keys, [user])).get(user)).toMatchObject({ level: 'low', version: 2 });
    expect(await redis.zscore(keys.usersByLevel(0), user)).not.toBeNull();
    expect(await redis.zscore(keys.usersIdle(0), user)).toBeNull();
    // Coming back: its next level change is version 3, as for a user never pruned.
    await write([item(critical(user, at + 14 * DAY), at + 14 * DAY)]);
    await drainOwner(o);
    expect((await readStates(redis, keys, [user])).get(user)).toMatchObject({ level: 'high', version: 3 });
  });

  it('a forgotten user that comes back is a new user: its level change is version 1, as in a run that never deleted it', async () => {
    const at = NOW - 20 * DAY;
    const back = SPRAYED.slice(0, 6);
    const spray = SPRAYED.map((u, i) => item(failed(u, at + i), at + i));
    const later = [item(failed('later@example.com', NOW - DAY), NOW - DAY)];
    const returns = [
      ...back.map((u, i) => item(failed(u, NOW - DAY + 10 + i), NOW - DAY + 10 + i)),
      ...back.map((u, i) => item(critical(u, NOW - DAY + 20 + i), NOW - DAY + 20 + i)),
    ];
    // With the sweep (the states deleted before the users come back) …
    await write([...spray, ...later]);
    const o = owner();
    await drainOwner(o);
    await sweep(o);
    expect(o.forgotten).toBe(K);
    await write(returns);
    await drainOwner(o);
    const swept = await readStates(redis, keys, back);
    const changes = await Promise.all(
      back.map(async (u) => (await redis.xrange(keys.userOutbox(u), '-', '+')).map(([, f]) => JSON.parse(f[3]!) as LevelChange)),
    );
    for (const [i, u] of back.entries()) {
      expect(swept.get(u)).toMatchObject({ level: 'high', version: 1 });
      expect(changes[i]!.filter((c) => c.current !== undefined).map((c) => c.version)).toEqual([1]);
    }
    // … and without it (no sweep ran: a crash before it, a sweep later): the same states.
    const swept2 = await rerunWithoutSweep([...spray, ...later, ...returns], back);
    expect(swept2).toEqual(swept);
    // The oracle: each user's items applied to a new user's state.
    for (const u of back)
      expect(swept.get(u)).toEqual(
        applyItems(
          u,
          emptyState(u),
          returns.filter((r) => r.e.user === u),
          ctx(),
        ).state,
      );
  });
});

/** The same input on a fresh prefix, applied by an owner that never sweeps; the states of `users`. */
async function rerunWithoutSweep(items: Array<RoutedItem & { e: CanonicalEvent }>, users: string[]): Promise<Map<string, UserState>> {
  const first = prefix;
  prefix = testPrefix('forget-idle-b');
  keys = new Keys(prefix, 1);
  try {
    await redis.set(keys.engineLease('p0'), 'w#1');
    await write(items);
    const o = owner();
    await drainOwner(o);
    expect(await redis.hlen(keys.partitionState(0))).toBe(K + 1);
    return await readStates(redis, keys, users);
  } finally {
    await cleanup(redis, prefix);
    prefix = first;
    keys = new Keys(prefix, 1);
  }
}
