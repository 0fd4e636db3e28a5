/**
 * The idle sweep's fixes of the idle index (src/engine/forget.ts) on a real partition owner and
 * Redis: a listed user not idle yet is moved to its later score, a stale member (no state stored),
 * a user no candidate any more is taken out, a candidate kept for its risk events (kept for good
 * here: no retention) listed again a TTL of input time later — by the
 * partition's next commit, lease-fenced: an owner whose lease moved (and does not know yet)
 * changes nothing of the index, the next owner makes the same fixes. A user taken out and
 * committed again with an unchanged index signature is listed again, whether in the fix's commit
 * or a later one (the owner's signature cache does not claim the entry the fix removed).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyContext } from '../../src/engine/apply.js';
import type { PartitionOwner } from '../../src/engine/owner.js';
import { Keys } from '../../src/keys.js';
import { effectiveIdleTtl, idleScore, learnerIds, relistScore } from '../../src/risk/retention.js';
import { readStates } from '../helpers/engine.js';
import { dlp, failed, IDLE_BEHAVIORS, IDLE_LIMITS, item, ownerOfP0 } from '../helpers/idle-users.js';
import { drainOwner, writeRouted } from '../helpers/owner-steps.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const reader = redisClient();
const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const OLD = NOW - 20 * DAY;

const U = {
  later: 'later@example.com', // active 2 days ago, listed (stale) at an old score: moved
  ghost: 'ghost@example.com', // listed, no state stored: taken out
  active: 'active@example.com', // an active behavior (no candidate), listed: taken out
  held: 'held@example.com', // idle past the TTL, with a risk event: kept, listed again a TTL later
  gone: 'gone@example.com', // idle past the TTL: forgotten
  last: 'last@example.com', // the input moving the partition's event time on: listed, untouched
};

function ctx(): ApplyContext {
  const ttl = effectiveIdleTtl(7 * DAY, IDLE_BEHAVIORS, IDLE_LIMITS)!;
  return { behaviors: IDLE_BEHAVIORS, limits: IDLE_LIMITS, now: NOW, retention: { ttl, learners: learnerIds(IDLE_BEHAVIORS) } };
}

let prefix: string;
let keys: Keys;
beforeEach(async () => {
  prefix = testPrefix('idle-fix');
  keys = new Keys(prefix, 1);
  await redis.set(keys.engineLease('p0'), 'w#1');
});
afterEach(() => cleanup(redis, prefix));
afterAll(() => Promise.all([redis.quit(), reader.quit()]));

const owner = (token = 'w#1'): PartitionOwner => ownerOfP0({ redis, reader }, keys, NOW, { context: ctx }, token);

/** The idle index, member → score. */
async function index(): Promise<Record<string, number>> {
  const flat = await redis.zrange(keys.usersIdle(0), 0, -1, 'WITHSCORES');
  const out: Record<string, number> = {};
  for (let i = 0; i < flat.length; i += 2) out[flat[i]!] = Number(flat[i + 1]);
  return out;
}

/**
 * The users applied and committed by `o`, then the index made stale by hand as a lost write or an
 * older release would leave it: `later` at an old score, `ghost` and `active` listed; `held` given
 * a risk event. Returns the index then.
 */
async function staleIndex(o: PartitionOwner): Promise<Record<string, number>> {
  const items = [
    item(failed(U.held, OLD), OLD),
    item(failed(U.gone, OLD + 1), OLD + 1),
    item(dlp(U.active, OLD + 2), OLD + 2),
    item(failed(U.later, NOW - 2 * DAY), NOW - 2 * DAY),
    item(failed(U.last, NOW - DAY), NOW - DAY),
  ];
  for (const it of items) await writeRouted(redis, keys, it.e.user, [it]);
  await drainOwner(o);
  await redis.zadd(keys.usersIdle(0), OLD, U.later, OLD, U.ghost, OLD, U.active);
  await redis.xadd(keys.userEvents(U.held), '*', 'kind', 'hit', 'data', '{}');
  return index();
}

/** The index once the sweep's fixes landed, from the one `before` them. */
async function fixed(before: Record<string, number>): Promise<Record<string, number>> {
  const later = (await readStates(redis, keys, [U.later])).get(U.later)!;
  const { [U.ghost]: _g, [U.active]: _a, [U.gone]: _f, ...rest } = before;
  return { ...rest, [U.later]: idleScore(later)!, [U.held]: relistScore(NOW - DAY) };
}

describe("the idle sweep's index fixes", () => {
  it('are written by the next commit: later and held moved, stale and no candidate taken out; the rest untouched', async () => {
    const o = owner();
    const before = await staleIndex(o);
    expect(Object.keys(before).sort()).toEqual(Object.values(U).sort());
    const r = await o.sweep(NOW, 1000);
    expect(await index()).toEqual(before); // decided, in memory: nothing written yet
    expect(r).toMatchObject({ forgotten: 1, fixed: 4 });
    await o.commit();
    await o.settle();
    expect(o.forgotten).toBe(1);
    const after = await index();
    expect(after).toEqual(await fixed(before));
    expect(after[U.later]).toBeGreaterThan(before[U.later]!);
    expect(await redis.hexists(keys.partitionState(0), U.held)).toBe(1);
  });

  it('an owner whose lease moved changes nothing of the index; the next owner makes the same fixes', async () => {
    const o = owner();
    const before = await staleIndex(o);
    await redis.set(keys.engineLease('p0'), 'w#2'); // another owner took the partition; o has not noticed
    await o.sweep(NOW, 1000);
    await o.commit();
    await o.settle();
    expect(o.owns(0)).toBe(false); // fenced
    expect(await index()).toEqual(before);
    expect(await redis.hexists(keys.partitionState(0), U.gone)).toBe(1);
    const next = owner('w#2');
    await drainOwner(next);
    await next.sweep(NOW, 1000);
    await drainOwner(next);
    expect(await index()).toEqual(await fixed(before));
  });

  it('a user moved and committed again with an unchanged signature is listed at its score again: in the same commit, or a later one', async () => {
    const o = owner();
    await staleIndex(o);
    const score = idleScore(o.states.current(U.held, 0)!)!;
    // The same state again in the fix's commit: its entry, written after the fix, wins.
    await o.sweep(NOW, 1000);
    o.states.delta(0, o.owned.get(0)!).states.set(U.held, o.states.current(U.held, 0)!);
    await o.commit();
    await o.settle();
    expect(await redis.zscore(keys.usersIdle(0), U.held)).toBe(String(score));
    // Moved by a commit of the fix alone (listed again later), then the same state committed again.
    await o.sweep(NOW, 1000);
    await o.commit();
    await o.settle();
    expect(await redis.zscore(keys.usersIdle(0), U.held)).toBe(String(relistScore(NOW - DAY)));
    o.states.delta(0, o.owned.get(0)!).states.set(U.held, o.states.current(U.held, 0)!);
    await o.commit();
    await o.settle();
    expect(await redis.zscore(keys.usersIdle(0), U.held)).toBe(String(score));
  });
});
