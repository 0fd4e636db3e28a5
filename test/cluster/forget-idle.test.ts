/**
 * Idle users forgotten on a Redis Cluster (src/engine/forget.ts): the sweep's reads span the
 * partitions' slots on every master, and a commit with forgotten users' deletions (HDEL, ZREM of
 * the three indexes) declares every key it touches — a spray over 8 partitions leaves no state
 * once later input in each partition passes the TTL.
 */
import type { Cluster } from 'ioredis';
import { describe, expect, it } from 'vitest';
import { PartitionOwner, type OwnerParts } from '../../src/engine/owner.js';
import { encodeRouted, ROUTED_FIELD, type RoutedItem } from '../../src/engine/routed.js';
import { keyId } from '../../src/partition.js';
import { Keys } from '../../src/keys.js';
import { effectiveIdleTtl, learnerIds } from '../../src/risk/retention.js';
import type { CanonicalEvent } from '../../src/types.js';
import { behavior } from '../helpers/behavior-config.js';
import { cleanPrefix, clusterClient, requireCluster } from '../helpers/cluster.js';
import { drainOwner, QUIET_OWNER } from '../helpers/owner-steps.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/forget-idle');
const prefix = testPrefix('clu-forget-idle');
const PARTS = 8;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const DAY = 86_400_000;

describe.skipIf(!up)('idle users forgotten on a Redis Cluster', () => {
  it('a spray over every partition is forgotten in their commits once later input passes the TTL', async () => {
    // As the worker's client: no auto-pipelining (src/runtime/connections.ts).
    const redis = clusterClient({ enableAutoPipelining: false });
    try {
      await run(redis);
    } finally {
      await cleanPrefix(redis, prefix);
      redis.disconnect();
    }
  });
});

async function run(redis: Cluster): Promise<void> {
  {
    const keys = new Keys(prefix, PARTS);
    const behaviors = [behavior('brute_force', { enabled: true, risk_level: 'high', expires_after: '24h', failures: 10, window: '10m' })];
    const limits = { maxLogins: 10, maxAge: DAY, allowedLateness: 600_000 };
    const retention = { ttl: effectiveIdleTtl(7 * DAY, behaviors, limits)!, learners: learnerIds(behaviors) };
    const parts: OwnerParts = {
      context: () => ({ behaviors, limits, now: NOW, retention }),
      settings: () => ({ eventsMaxlen: 1000, now: NOW }),
      sessions: { build: () => [], prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }), after: async () => undefined },
      ...QUIET_OWNER,
    };
    for (let p = 0; p < PARTS; p++) await redis.set(keys.engineLease(`p${p}`), 'w#1');
    const o = new PartitionOwner(redis, redis, keys, { lruSize: 1000, readCount: 500, commitInterval: 0, commitEntries: 1 }, parts);
    for (let p = 0; p < PARTS; p++) o.acquire(p, 'w#1');
    let seq = 0;
    const write = async (user: string, at: number): Promise<void> => {
      const e: CanonicalEvent = { type: 'login', id: `f-${user}`, user, time: at, outcome: 'failure', ip: '203.0.113.9' };
      const item: RoutedItem = { k: [at, seq++], s: 'in', i: `${at}-${seq}`, e };
      await redis.xadd(keys.partitionIn(keys.partitionOf(user)), keyId({ ms: item.k[0], seq: item.k[1] }), ROUTED_FIELD, encodeRouted([item]));
    };
    const sprayed = Array.from({ length: 80 }, (_, i) => `nobody-${i}@example.com`);
    for (const [i, u] of sprayed.entries()) await write(u, NOW - 20 * DAY + i);
    // A later user in each partition.
    const later: string[] = [];
    for (let i = 0; later.length < PARTS; i++) {
      const u = `later-${i}@example.com`;
      if (!later.some((l) => keys.partitionOf(l) === keys.partitionOf(u))) later.push(u);
    }
    await drainOwner(o);
    const count = async (): Promise<number> => {
      let n = 0;
      for (let p = 0; p < PARTS; p++) n += await redis.hlen(keys.partitionState(p));
      return n;
    };
    expect(await count()).toBe(sprayed.length);
    for (const [i, u] of later.entries()) await write(u, NOW - DAY + i);
    await drainOwner(o);
    await o.sweep(NOW, 1000);
    await drainOwner(o);
    expect(o.forgotten).toBe(sprayed.length);
    expect(await count()).toBe(PARTS);
    for (let p = 0; p < PARTS; p++) expect(await redis.zcard(keys.usersByLevel(p))).toBe(1);
  }
}
