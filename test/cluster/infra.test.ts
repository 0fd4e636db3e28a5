/**
 * Issue 17 (infrastructure): the local Redis Cluster and test/helpers/cluster.ts, on the real
 * cluster — slot coverage, key placement, a manual failover and a killed master. Each failover
 * test leaves the cluster healthy; the file runs in the `cluster` project (files one at a time).
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  cleanPrefix,
  clusterClient,
  clusterProblem,
  commandCountsPerMaster,
  commandShares,
  failover,
  keyCountsPerMaster,
  killMaster,
  mastersOf,
  nodeOfKey,
  requireCluster,
  resetStats,
  withNode,
} from '../helpers/cluster.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/infra');
const prefix = testPrefix('cluster-infra');

describe.skipIf(!up)('local Redis Cluster', () => {
  let cluster: Cluster;
  beforeAll(() => {
    cluster = clusterClient();
  });
  afterAll(async () => {
    if (!cluster) return;
    await cleanPrefix(cluster, prefix);
    expect([...(await keyCountsPerMaster(prefix)).values()].every((n) => n === 0)).toBe(true);
    cluster.disconnect();
  });

  it('covers every slot with three masters, each with a replica', async () => {
    expect(await clusterProblem()).toBeUndefined();
    const masters = await mastersOf(cluster);
    expect(masters).toHaveLength(3);
    const covered = masters.flatMap((m) => m.slots).reduce((n, [a, b]) => n + b - a + 1, 0);
    expect(covered).toBe(16384);
    for (const m of masters) expect(m.replicas).toHaveLength(1);
    expect(new Set([...masters.map((m) => m.port), ...masters.flatMap((m) => m.replicas)]).size).toBe(6);
  });

  it('puts a key on the master CLUSTER KEYSLOT names, and counts keys and commands per master', async () => {
    await resetStats();
    const keys = Array.from({ length: 30 }, (_, i) => `${prefix}:k${i}`);
    await Promise.all(keys.map((k) => cluster.set(k, k)));
    const owners = await Promise.all(keys.map((k) => nodeOfKey(k)));
    expect(new Set(owners).size).toBe(3); // 30 random keys land on all three masters
    for (const [i, k] of keys.entries()) expect(await withNode(owners[i]!, (n) => n.get(k))).toBe(k);

    const perMaster = await keyCountsPerMaster(prefix);
    for (const port of new Set(owners)) expect(perMaster.get(port)).toBe(owners.filter((o) => o === port).length);
    const calls = await commandCountsPerMaster();
    for (const port of new Set(owners)) expect(calls.get(port)).toBeGreaterThanOrEqual(owners.filter((o) => o === port).length);
    const shares = await commandShares();
    expect(shares.map((s) => s.port)).toEqual([...calls.keys()]);
    expect(shares.reduce((a, s) => a + s.share, 0)).toBeCloseTo(1, 9);

    // hash-tagged keys of one tag share a slot, hence a master
    const tagged = await Promise.all(['a', 'b', 'c'].map((s) => nodeOfKey(`{${prefix}}:${s}`)));
    expect(new Set(tagged).size).toBe(1);
  });

  it('failover() swaps a master and its replica; a value written before (WAIT 1) is read after', async () => {
    const key = `{${prefix}}:failover`;
    const oldMaster = await nodeOfKey(key, cluster);
    // on one connection: WAIT counts the replicas that acknowledged this connection's writes
    expect(await withNode(oldMaster, async (n) => [await n.set(key, 'before'), await n.wait(1, 2000)])).toEqual(['OK', 1]);
    const newMaster = await failover(oldMaster);
    expect(newMaster).not.toBe(oldMaster);
    expect(await nodeOfKey(key)).toBe(newMaster);
    const m = (await mastersOf()).find((x) => x.port === newMaster);
    expect(m?.replicas).toEqual([oldMaster]);
    expect(await cluster.get(key)).toBe('before');
    await cluster.set(key, 'after');
    expect(await withNode(newMaster, (n) => n.get(key))).toBe('after');
  }, 40_000);

  it('killMaster() promotes the replica; the client re-resolves slots and writes to it; the killed node rejoins as replica', async () => {
    const key = `{${prefix}}:kill`;
    const victim = await nodeOfKey(key, cluster);
    expect(await withNode(victim, async (n) => [await n.set(key, 'before'), await n.wait(1, 2000)])).toEqual(['OK', 1]);
    expect(await cluster.get(key)).toBe('before');
    const promoted = await killMaster(victim, async (p) => {
      await cluster.set(key, 'while-down');
      expect(await withNode(p, (n) => n.get(key))).toBe('while-down');
    });
    expect(promoted).not.toBe(victim);
    expect(await nodeOfKey(key)).toBe(promoted);
    expect((await mastersOf()).find((m) => m.port === promoted)?.replicas).toEqual([victim]);
    expect((await withNode(victim, (n) => n.role())).slice(0, 3)).toEqual(['slave', '127.0.0.1', promoted]);
    expect(await cluster.get(key)).toBe('while-down');
    expect(await clusterProblem()).toBeUndefined();
  }, 60_000);
});
