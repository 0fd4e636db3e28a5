/**
 * Poison isolation's window on a real Redis (random prefixes, purged after): a partition whose step
 * fails on one item is isolated only over what the failing steps could have held (up to the last
 * entry they read; for crashes, the entries an owner may hold uncommitted), recorded in its
 * position hash so that a crash meanwhile resumes the same window; the entries after it are applied
 * in ordinary steps. The outcome — states, risk events, the one dead letter — is a control run's
 * without the poison.
 */
import { afterAll, afterEach, expect, it } from 'vitest';
import type { Owned, OwnerParts } from '../../src/engine/owner-types.js';
import type { PartitionOwner as Owner } from '../../src/engine/owner.js';
import type { CanonicalEvent } from '../../src/types.js';
import { Keys } from '../../src/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { behavior } from '../helpers/behavior-config.js';
import { QUIET_OWNER, routedItem, writeRouted } from '../helpers/owner-steps.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const POISON = 'evt-poison';
process.env.RISKSTREAM_FAILPOINTS = `apply:${POISON}=throw`; // read once, when src/engine/failpoints.ts loads
const { PartitionOwner } = await import('../../src/engine/owner.js');
const { PoisonGuard } = await import('../../src/engine/poison-guard.js');

const redis = redisClient();
defineScripts(redis);
const P = 3;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const prefixes: string[] = [];
afterEach(async () => {
  for (const p of prefixes.splice(0)) await cleanup(redis, p);
});
afterAll(async () => {
  await redis.quit();
});

function newKeys(name: string): Keys {
  const prefix = testPrefix(name);
  prefixes.push(prefix);
  return new Keys(prefix, 16);
}

/** Entries 1-0 … 10-0 in partition P, committed at 1-0 with two attempts there, under TOKEN. */
async function twoAttempts(keys: Keys): Promise<void> {
  await redis.set(keys.engineLease(`p${P}`), 'w-a#1');
  await redis.hset(keys.partitionPos(P), 'pos', '1-0', 'attempts', '1-0|2');
  for (let i = 1; i <= 10; i++) await redis.xadd(keys.partitionIn(P), `${i}-0`, 'd', 'x');
}

const owned = (cursor: string): Map<number, Owned> =>
  new Map([[P, { token: 'w-a#1', committed: { ms: 1, seq: 0 }, applied: { ms: 1, seq: 0 }, cursor, fresh: false }]]);

it('a failure of the data isolates up to the last entry its step read, not the stream top', async () => {
  const keys = newKeys('poison-window-fail');
  await twoAttempts(keys);
  const guard = new PoisonGuard(redis, keys, 3, 100);
  const o = owned('4-0');
  await guard.failed(P, o.get(P)!, new TypeError('bad data'));
  expect(await redis.hget(keys.partitionPos(P), 'isolate')).toBe('4-0');
  expect([guard.isolated(P, { ms: 3, seq: 0 }), guard.isolated(P, { ms: 4, seq: 0 })]).toEqual([true, false]);
});

it('crashes only (starts): isolates the entries an owner may hold uncommitted after the position', async () => {
  const keys = newKeys('poison-window-crash');
  await twoAttempts(keys);
  const guard = new PoisonGuard(redis, keys, 3, 4);
  const o = owned('1-0');
  o.get(P)!.fresh = true;
  await guard.taken(o);
  expect(await redis.hget(keys.partitionPos(P), 'isolate')).toBe('5-0');
});

const dlp = (id: string, user: string, time: number): CanonicalEvent =>
  ({ type: 'dlp', id, user, time, severity: 'high', policy: 'p', channel: 'email' }) as unknown as CanonicalEvent;

/** 30 items of 3 users of partition P, one per entry (the first the poison, unless left out), drained by one owner reading 5 entries a step. */
async function drain(keys: Keys, poison: boolean): Promise<{ outcome: unknown; dead: string[]; isolate: string | null; isolatedSteps: number }> {
  const users = Array.from({ length: 200 }, (_, i) => `w${i}@example.com`)
    .filter((u) => keys.partitionOf(u) === P)
    .slice(0, 3);
  for (let i = 0; i < 30; i++) {
    if (i === 0 && !poison) continue;
    const t = NOW - 60_000 + i * 1000;
    await writeRouted(redis, keys, users[i % 3]!, [routedItem(dlp(i === 0 ? POISON : `e-${i}`, users[i % 3]!, t), t)]);
  }
  await redis.set(keys.engineLease(`p${P}`), 'w-a#1');
  const dead: string[] = [];
  const parts: OwnerParts = {
    context: () => ({
      behaviors: [behavior('dlp_detection', { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' })],
      limits: { maxLogins: 10, maxAge: 86_400_000, allowedLateness: 600_000 },
      now: NOW,
    }),
    settings: () => ({ eventsMaxlen: 100, now: NOW }),
    sessions: { build: () => [], prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }), after: async () => undefined },
    ...QUIET_OWNER,
    deadLetter: async (bad) => void dead.push(...bad.map((b) => `${b.raw.id} ${b.reason}`)),
    onApplyError: () => undefined,
  };
  const o: Owner = new PartitionOwner(redis, redis, keys, { lruSize: 100, readCount: 5, commitInterval: 0, commitEntries: 5 }, parts);
  o.acquire(P, 'w-a#1');
  let isolatedSteps = 0;
  for (let i = 0; i < 200; i++) {
    const r = await o.step(0);
    if (r.isolated) isolatedSteps++;
    await o.settle();
    if (r.read === 0 && !r.isolated && o.owned.get(P)?.committed?.ms === NOW - 60_000 + 29_000) break;
  }
  const outcome: Record<string, unknown> = {};
  for (const u of users) {
    const events = (await redis.xrange(keys.userEvents(u), '-', '+')).map(([, f]) => f);
    outcome[u] = { state: await redis.hget(keys.userState(u), u), events };
  }
  return { outcome, dead, isolate: await redis.hget(keys.partitionPos(P), 'isolate'), isolatedSteps };
}

it('an item failing its step: isolated over the entries the failing steps read only, the outcome as without it', async () => {
  const control = await drain(newKeys('poison-window-control'), false);
  const run = await drain(newKeys('poison-window-run'), true);
  expect(run.dead).toEqual([`${NOW - 60_000}-0 step_failed: INTERNAL`]);
  // The failing steps read 5 entries: the poison (3 tries, then its dead letter) and the 4 after it, each
  // alone; the 25 after them in ordinary steps.
  expect({ isolate: run.isolate, isolatedSteps: run.isolatedSteps }).toEqual({ isolate: `${NOW - 56_000}-0`, isolatedSteps: 3 + 1 + 4 });
  for (const u of Object.values(control.outcome as Record<string, { state: unknown; events: unknown[] }>))
    expect([!!u.state, u.events.length > 0]).toEqual([true, true]);
  expect(run.outcome).toEqual(control.outcome);
  expect(control.dead).toEqual([]);
});
