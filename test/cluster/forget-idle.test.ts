/**
 * Idle users forgotten on a Redis Cluster (src/engine/forget.ts): the sweep's reads span the
 * partitions' slots on every master, and a commit with forgotten users' deletions (HDEL, ZREM of
 * the three indexes) declares every key it touches — a spray over 8 partitions leaves no state
 * once later input in each partition passes the TTL, and a stale idle-index member leaves the index
 * by the sweep's fix in the same commits. And the idle index's backfill
 * (src/engine/idle-backfill.ts): states stored in every partition before the idle index existed are
 * scanned on their masters, listed and their pass's progress stored by the partition's commit —
 * its keys (state hash, idle index, position hash) all in the partition's slot, the node it holds
 * the run_id of the master serving that slot (the one whose scan cursor it is) — and then forgotten.
 */
import type { Cluster } from 'ioredis';
import calculateSlot from 'cluster-key-slot';
import { describe, expect, it } from 'vitest';
import { applyItems } from '../../src/engine/apply.js';
import { BACKFILL_FIELD, IDLE_INDEX_SCHEMA } from '../../src/engine/idle-backfill.js';
import { PartitionOwner, type OwnerParts } from '../../src/engine/owner.js';
import { encodeRouted, ROUTED_FIELD, type RoutedItem } from '../../src/engine/routed.js';
import { keyId } from '../../src/partition.js';
import { Keys } from '../../src/keys.js';
import { effectiveIdleTtl, learnerIds } from '../../src/risk/retention.js';
import { encodeState } from '../../src/risk/state-codec.js';
import { emptyState } from '../../src/risk/state.js';
import type { CanonicalEvent } from '../../src/types.js';
import { behavior } from '../helpers/behavior-config.js';
import { cleanPrefix, clusterClient, nodeOfKey, requireCluster, withNode } from '../helpers/cluster.js';
import { drainOwner, QUIET_OWNER } from '../helpers/owner-steps.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/forget-idle');
const PARTS = 8;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;

describe.skipIf(!up)('idle users forgotten on a Redis Cluster', () => {
  it('a spray over every partition is forgotten in their commits once later input passes the TTL', () => withCluster('clu-forget-idle', run));
  it('users stored before the idle index, in every partition, are listed in their partition slot and then forgotten', () =>
    withCluster('clu-idle-backfill', backfill));
});

/** Runs `test` with a cluster client as the worker's (no auto-pipelining: src/runtime/connections.ts), then purges its prefix. */
async function withCluster(name: string, test: (redis: Cluster, prefix: string) => Promise<void>): Promise<void> {
  const prefix = testPrefix(name);
  const redis = clusterClient({ enableAutoPipelining: false });
  try {
    await test(redis, prefix);
  } finally {
    await cleanPrefix(redis, prefix);
    redis.disconnect();
  }
}

/** An owner of every partition (`parts` added to its callbacks) and an item writer, for `prefix`'s keys. */
function setup(redis: Cluster, prefix: string, more: Partial<OwnerParts> = {}) {
  const keys = new Keys(prefix, PARTS);
  const behaviors = [behavior('brute_force', { enabled: true, risk_level: 'high', expires_after: '24h', failures: 10, window: '10m' })];
  const limits = { maxLogins: 10, maxAge: DAY, allowedLateness: 600_000 };
  const ctx = { behaviors, limits, now: NOW, retention: { ttl: effectiveIdleTtl(7 * DAY, behaviors, limits)!, learners: learnerIds(behaviors) } };
  const parts: OwnerParts = {
    context: () => ctx,
    settings: () => ({ eventsMaxlen: 1000, now: NOW }),
    sessions: { build: () => [], prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }), after: async () => undefined },
    ...QUIET_OWNER,
    ...more,
  };
  const owner = async (): Promise<PartitionOwner> => {
    for (let p = 0; p < PARTS; p++) await redis.set(keys.engineLease(`p${p}`), 'w#1');
    const o = new PartitionOwner(redis, redis, keys, { lruSize: 1000, readCount: 500, commitInterval: 0, commitEntries: 1 }, parts);
    for (let p = 0; p < PARTS; p++) o.acquire(p, 'w#1');
    return o;
  };
  let seq = 0;
  const itemOf = (user: string, at: number): RoutedItem => {
    const e: CanonicalEvent = { type: 'login', id: `f-${user}`, user, time: at, outcome: 'failure', ip: '203.0.113.9' };
    return { k: [at, seq++], s: 'in', i: `${at}-${seq}`, e };
  };
  const write = async (user: string, at: number): Promise<void> => {
    const item = itemOf(user, at);
    await redis.xadd(keys.partitionIn(keys.partitionOf(user)), keyId({ ms: item.k[0], seq: item.k[1] }), ROUTED_FIELD, encodeRouted([item]));
  };
  // A later user in each partition.
  const later: string[] = [];
  for (let i = 0; later.length < PARTS; i++) {
    const u = `later-${i}@example.com`;
    if (!later.some((l) => keys.partitionOf(l) === keys.partitionOf(u))) later.push(u);
  }
  const sum = async (f: (p: number) => Promise<number>): Promise<number> => {
    let n = 0;
    for (let p = 0; p < PARTS; p++) n += await f(p);
    return n;
  };
  return { keys, ctx, owner, itemOf, write, later, sum };
}

async function run(redis: Cluster, prefix: string): Promise<void> {
  const { keys, owner, write, later, sum } = setup(redis, prefix);
  const o = await owner();
  const sprayed = Array.from({ length: 80 }, (_, i) => `nobody-${i}@example.com`);
  for (const [i, u] of sprayed.entries()) await write(u, NOW - 20 * DAY + i);
  await drainOwner(o);
  const count = (): Promise<number> => sum((p) => redis.hlen(keys.partitionState(p)));
  expect(await count()).toBe(sprayed.length);
  for (const [i, u] of later.entries()) await write(u, NOW - DAY + i);
  await drainOwner(o);
  // A stale member (no state) in each partition's idle index: taken out by the sweep's fix, in the commit.
  for (let p = 0; p < PARTS; p++) await redis.zadd(keys.usersIdle(p), NOW - 20 * DAY, `ghost-${p}@example.com`);
  await o.sweep(NOW, 1000);
  await drainOwner(o);
  expect(o.forgotten).toBe(sprayed.length);
  expect(await count()).toBe(PARTS);
  for (let p = 0; p < PARTS; p++) expect(await redis.zcard(keys.usersByLevel(p))).toBe(1);
  for (let p = 0; p < PARTS; p++) expect(await redis.zrange(keys.usersIdle(p), 0, -1)).toEqual([later.find((u) => keys.partitionOf(u) === p)]);
}

async function backfill(redis: Cluster, prefix: string): Promise<void> {
  const completed: number[] = [];
  const { keys, ctx, owner, itemOf, write, later, sum } = setup(redis, prefix, { onIdleBackfilled: (p) => completed.push(p) });
  // The keys the backfill reads and writes share the partition's slot.
  for (let p = 0; p < PARTS; p++)
    expect(new Set([keys.partitionState(p), keys.usersIdle(p), keys.partitionPos(p), keys.engineLease(`p${p}`)].map((k) => calculateSlot(k))).size).toBe(1);
  // Stored the old way: a state field per user, no idle member; each partition's position after them.
  const sprayed = Array.from({ length: 80 }, (_, i) => `old-${i}@example.com`);
  const at = NOW - 20 * DAY;
  for (const [i, u] of sprayed.entries()) await redis.hset(keys.userState(u), u, encodeState(applyItems(u, emptyState(u), [itemOf(u, at + i)], ctx).state));
  for (let p = 0; p < PARTS; p++) await redis.hset(keys.partitionPos(p), 'pos', keyId({ ms: at + sprayed.length, seq: 0 }));
  for (const [i, u] of later.entries()) await write(u, NOW - DAY + i);
  const o = await owner();
  await drainOwner(o);
  const idle = (): Promise<number> => sum((p) => redis.zcard(keys.usersIdle(p)));
  expect(await idle()).toBe(PARTS); // the later users only
  await o.sweep(NOW, 1000); // the backfill: every partition's pass (one chunk each)
  await drainOwner(o);
  expect(await idle()).toBe(PARTS + sprayed.length);
  expect(completed.sort((a, b) => a - b)).toEqual(Array.from({ length: PARTS }, (_, p) => p));
  for (let p = 0; p < PARTS; p++) {
    const runId = await withNode(await nodeOfKey(keys.partitionState(p), redis), async (n) => /run_id:(\w+)/.exec(await n.info('server'))![1]);
    expect(await redis.hget(keys.partitionPos(p), BACKFILL_FIELD)).toMatch(new RegExp(`^${IDLE_INDEX_SCHEMA}:done:\\d+:\\d+:${runId}$`));
  }
  await o.sweep(NOW, 1000); // the idle sweep
  await drainOwner(o);
  expect(o.forgotten).toBe(sprayed.length);
  expect(await sum((p) => redis.hlen(keys.partitionState(p)))).toBe(PARTS);
  expect(await idle()).toBe(PARTS);
}
