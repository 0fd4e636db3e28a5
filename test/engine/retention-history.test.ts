/**
 * Risk events' retention (`state.risk_event_retention`) follows the input, on a real partition owner
 * and Redis, the clock frozen: a user idle past the retention loses its risk events before its next
 * item's are recorded, whether the idle sweep deleted them first (its commit landed before the
 * item), decided it in the item's own commit, or never ran — so a replay from the committed
 * position (kill -9) gives the same risk-event history as a fault-free run (DESIGN.md, issue 16).
 * And no user leaves the idle index for good while its risk events wait for a retention: one
 * with work to relay is listed again, one kept while risk events are kept for good (0s) too.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { ApplyContext } from '../../src/engine/apply.js';
import type { PartitionOwner } from '../../src/engine/owner.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import type { BehaviorConfig } from '../../src/config/behaviors-schema.js';
import { Keys } from '../../src/keys.js';
import { effectiveEventRetention, effectiveIdleTtl, learnerIds } from '../../src/risk/retention.js';
import type { UserState } from '../../src/risk/state.js';
import type { CanonicalEvent } from '../../src/types.js';
import { behavior } from '../helpers/behavior-config.js';
import { readStates } from '../helpers/engine.js';
import { critical, dlp, failed, IDLE_BEHAVIORS, IDLE_LIMITS, item, ownerOfP0 } from '../helpers/idle-users.js';
import { drainOwner, writeRouted } from '../helpers/owner-steps.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const reader = redisClient();
const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;
const at = NOW - 20 * DAY;
const USER = 'kept@example.com';
/** A low hit that expires after an hour: a risk event, then nothing active, level low, version 0. */
const SHORT = [behavior('dlp_detection', { enabled: true, risk_level: 'low', expires_after: '1h', min_severity: 'high' })];

function ctx(behaviors: BehaviorConfig[], retention: number): ApplyContext {
  const ttl = effectiveIdleTtl(7 * DAY, behaviors, IDLE_LIMITS)!;
  const events = effectiveEventRetention(retention, ttl);
  return { behaviors, limits: IDLE_LIMITS, now: NOW, retention: { ttl, learners: learnerIds(behaviors), ...(events === undefined ? {} : { events }) } };
}

let prefix: string;
let keys: Keys;
beforeEach(async () => {
  prefix = testPrefix('retention-history');
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

async function write(items: Array<RoutedItem & { e: CanonicalEvent }>): Promise<void> {
  for (const it of items) await writeRouted(redis, keys, it.e.user, [it]);
}

async function sweep(o: PartitionOwner, now = NOW): Promise<void> {
  await o.sweep(now, 1000);
  await drainOwner(o);
}

/** The user's risk events as recorded (kind and data; the stream's ids left out). */
async function history(user = USER): Promise<Array<{ kind: string; data: unknown }>> {
  return (await redis.xrange(keys.userEvents(user), '-', '+')).map(([, f]) => ({ kind: f[1]!, data: JSON.parse(f[3]!) as unknown }));
}

type Run = 'sweep committed first' | 'sweep in the same commit' | 'no sweep';
type Input = Record<'first' | 'later' | 'back', RoutedItem & { e: CanonicalEvent }>;

/** The same input for every run (the same entry ids: risk events' ids derive from them). */
const input = (first: CanonicalEvent, back: CanonicalEvent): Input => ({
  first: item(first, at),
  later: item(failed('later@example.com', at + 13 * DAY), at + 13 * DAY),
  back: item(back, at + 14 * DAY),
});

/**
 * On a fresh prefix: `first` applied and expired (low again; its outbox relayed), later input moving
 * the partition's event time 13 days on (past the 10-day retention), then `back` (the user's next
 * item, a day later) — with the idle sweep as `run` says. The user's risk events and state after.
 */
async function replay(run: Run, behaviors: BehaviorConfig[], input: Input): Promise<{ events: unknown[]; state: UserState | undefined }> {
  const o = ownerOfP0({ redis, reader }, keys, NOW, { context: () => ctx(behaviors, 10 * DAY) });
  await write([input.first]);
  await drainOwner(o);
  await sweep(o, at + DAY); // its hit expires
  await redis.del(keys.userOutbox(USER));
  const before = (await history()).length;
  expect(before).toBeGreaterThan(0);
  await write([input.later]);
  await drainOwner(o);
  if (run === 'sweep committed first') await sweep(o);
  if (run === 'sweep in the same commit') await o.sweep(NOW, 1000); // decided; committed with the item
  await write([input.back]);
  await drainOwner(o);
  await sweep(o);
  const events = await history();
  const state = (await readStates(redis, keys, [USER])).get(USER);
  await cleanup(redis, prefix);
  await redis.set(keys.engineLease('p0'), 'w#1');
  return { events, state };
}

describe('risk events past their retention go before the next item records its own, sweep or not', () => {
  const runs: Run[] = ['sweep committed first', 'sweep in the same commit', 'no sweep'];

  it('a user whose level changed (state and version kept): the same history and state in every run', async () => {
    const results = [];
    const same = input(critical(USER, at), critical(USER, at + 14 * DAY));
    for (const run of runs) results.push(await replay(run, IDLE_BEHAVIORS, same));
    // Only the returning item's risk events: its hit, its level change (version 3, after the first
    // two) and the change of its expiry (the last sweep).
    const [swept] = results;
    expect(swept!.events.map((e) => (e as { kind: string }).kind)).toEqual(['hit', 'change', 'change']);
    expect(swept!.state).toMatchObject({ level: 'low', version: 4 });
    for (const r of results.slice(1)) expect(r).toEqual(swept);
  });

  it('a user forgotten with its risk events (version 0): the same history and state in every run', async () => {
    const results = [];
    const same = input(dlp(USER, at), dlp(USER, at + 14 * DAY));
    for (const run of runs) results.push(await replay(run, SHORT, same));
    const [swept] = results;
    expect(swept!.events).toHaveLength(1);
    expect(JSON.stringify(swept!.events[0])).toContain(String(at + 14 * DAY));
    for (const r of results.slice(1)) expect(r).toEqual(swept);
  });
});

describe('no user leaves the idle index for good while the retention may still reach it', () => {
  it('a user with work to relay is listed again, and forgotten with its risk events once that is relayed', async () => {
    const o = ownerOfP0({ redis, reader }, keys, NOW, { context: () => ctx(SHORT, 10 * DAY) });
    await write([item(dlp(USER, at), at)]);
    await drainOwner(o);
    await sweep(o, at + DAY);
    expect(await redis.xlen(keys.userOutbox(USER))).toBeGreaterThan(0); // not relayed (no relay runs here)
    await write([item(failed('later@example.com', at + 13 * DAY), at + 13 * DAY)]);
    await drainOwner(o);
    await sweep(o);
    // Past the retention, its outbox not relayed: kept, and listed again for later.
    expect(await redis.hexists(keys.partitionState(0), USER)).toBe(1);
    expect(await redis.zscore(keys.usersIdle(0), USER)).not.toBeNull();
    await redis.del(keys.userOutbox(USER)); // relayed
    await write([item(failed('later@example.com', at + 13 * DAY + 2 * 3_600_000), at + 13 * DAY + 2 * 3_600_000)]);
    await drainOwner(o);
    await sweep(o);
    expect(await redis.hexists(keys.partitionState(0), USER)).toBe(0);
    expect(await redis.exists(keys.userEvents(USER))).toBe(0);
  });

  it('a user whose level changed loses its risk events past the retention, its outbox relayed or not', async () => {
    const o = ownerOfP0({ redis, reader }, keys, NOW, { context: () => ctx(IDLE_BEHAVIORS, 10 * DAY) });
    await write([item(critical(USER, at), at)]);
    await drainOwner(o);
    await sweep(o, at + DAY); // expired: low again, version 2
    expect(await redis.xlen(keys.userOutbox(USER))).toBeGreaterThan(0);
    await write([item(failed('later@example.com', at + 13 * DAY), at + 13 * DAY)]);
    await drainOwner(o);
    await sweep(o);
    expect(await redis.exists(keys.userEvents(USER))).toBe(0);
    expect((await readStates(redis, keys, [USER])).get(USER)).toMatchObject({ level: 'low', version: 2 });
  });

  it('risk events kept for good (0s), then a retention turned on: a user whose level changed is reached by it', async () => {
    let retention = 0;
    const o = ownerOfP0({ redis, reader }, keys, NOW, { context: () => ctx(IDLE_BEHAVIORS, retention) });
    const user = USER;
    await write([item(critical(user, at), at)]);
    await drainOwner(o);
    await sweep(o, at + DAY); // expired: low again, version 2
    await write([item(failed('later@example.com', at + 9 * DAY), at + 9 * DAY)]);
    await drainOwner(o);
    await sweep(o); // past the idle TTL: kept (its risk events for good), still listed
    expect(await redis.zscore(keys.usersIdle(0), user)).not.toBeNull();
    retention = 10 * DAY; // the reloadable key turned on
    await write([item(failed('later@example.com', at + 17 * DAY), at + 17 * DAY)]);
    await drainOwner(o);
    await sweep(o);
    expect(await redis.exists(keys.userEvents(user))).toBe(0);
    expect((await readStates(redis, keys, [user])).get(user)).toMatchObject({ level: 'low', version: 2 });
  });
});
