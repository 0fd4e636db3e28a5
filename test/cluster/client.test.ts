/**
 * Issue 17: the cluster-aware pieces of src/redis on the real local cluster — the pipeline that
 * spans nodes, SCAN over every master, hash slots, the routers' fence keys, WAIT, purge, and the
 * list bridge with a list and stream sharing a hash tag.
 */
import { describe, expect, it } from 'vitest';
import { pipeline, scanKeys, slotOf, waitReplicas } from '../../src/redis/client.js';
import { purgePrefix } from '../../src/redis/purge.js';
import { Keys } from '../../src/keys.js';
import { bridgeOnce } from '../../src/ingest/list-bridge.js';
import { isRiskstreamError } from '../../src/errors.js';
import { LOST_COUNTER_MARGIN } from '../../src/redis/followed.js';
import { behaviorEpochs, recordBehaviors, restoreBehaviors } from '../../src/engine/behavior-epochs.js';
import { sprayGeneration } from '../../src/ingest/spray-generation.js';
import type { BehaviorConfig } from '../../src/config/behaviors-schema.js';
import { behavior } from '../helpers/behavior-config.js';
import { clusterClient, clusterForTests, keyCountsPerMaster, nodeOfKey, requireCluster } from '../helpers/cluster.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/client');
const prefix = testPrefix('cluster-client');
const keys = new Keys(prefix, 64);

describe.skipIf(!up)('src/redis on a Redis Cluster', () => {
  const c = clusterForTests(prefix);

  it('pipeline() spans nodes: replies in queueing order, an error only for its own command', async () => {
    const names = keys.partitionList.map((p) => keys.partitionPos(p));
    expect(new Set(await Promise.all(names.slice(0, 12).map((k) => nodeOfKey(k, c.cluster)))).size).toBe(3);
    const w = pipeline(c.cluster);
    names.forEach((k, i) => w.hset(k, 'pos', String(i)));
    w.lpush(names[0]!, 'x'); // WRONGTYPE
    const wres = (await w.exec())!;
    expect(wres.slice(0, -1).every(([err]) => err === null)).toBe(true);
    expect(wres[wres.length - 1]![0]?.message).toMatch(/WRONGTYPE/);
    const r = pipeline(c.cluster);
    for (const k of names) r.hget(k, 'pos');
    expect((await r.exec())!.map(([, v]) => v)).toEqual(names.map((_, i) => String(i)));
  });

  it('scanKeys finds keys on every master; purgePrefix deletes them all', async () => {
    const found: string[] = [];
    for await (const batch of scanKeys(c.cluster, `${prefix}:*`, 10)) found.push(...batch);
    expect(found.sort()).toEqual(keys.partitionList.map((p) => keys.partitionPos(p)).sort());
    expect([...(await keyCountsPerMaster(prefix)).values()].filter((n) => n > 0)).toHaveLength(3);
    await purgePrefix(c.cluster, prefix);
    expect([...(await keyCountsPerMaster(prefix)).values()].every((n) => n === 0)).toBe(true);
  });

  it('a client still connecting: scanKeys and purgePrefix reach every master, waitReplicas waits on each (found by a black-box review: none of them did anything)', async () => {
    const w = pipeline(c.cluster);
    for (const p of keys.partitionList) w.hset(keys.partitionPos(p), 'pos', '1');
    await w.exec();
    const fresh = [clusterClient(), clusterClient(), clusterClient()];
    try {
      const found: string[] = [];
      for await (const batch of scanKeys(fresh[0]!, `${prefix}:*`)) found.push(...batch);
      expect(found).toHaveLength(keys.partitionList.length);
      const err = await waitReplicas(fresh[1]!, 2, 100).catch((e: unknown) => e);
      expect(isRiskstreamError(err, 'UNAVAILABLE')).toBe(true);
      await purgePrefix(fresh[2]!, prefix);
      expect([...(await keyCountsPerMaster(prefix)).values()].every((n) => n === 0)).toBe(true);
    } finally {
      for (const f of fresh) f.disconnect();
    }
  });

  it("slotOf is Redis's CLUSTER KEYSLOT; a router fence shares its stream's slot, tagged or not", async () => {
    for (const k of ['riskstream:login', '{tag}:x', 'a{}b', `${prefix}:{p7}:state`]) expect(slotOf(k)).toBe(await c.cluster.cluster('KEYSLOT', k));
    for (const s of [`${prefix}:login`, `{${prefix}}:events`, 'a{b}c', 'plain']) {
      expect(slotOf(keys.routerFence(s))).toBe(slotOf(s));
      expect(slotOf(keys.routedTop(s))).toBe(slotOf(s));
    }
  });

  it('waitReplicas: each master has one replica — 1 is acknowledged, 2 is UNAVAILABLE after the timeout', async () => {
    await c.cluster.set(`${prefix}:{w}:k`, '1');
    await expect(waitReplicas(c.cluster, 1, 2000)).resolves.toBeUndefined();
    const err = await waitReplicas(c.cluster, 2, 100).catch((e: unknown) => e);
    expect(isRiskstreamError(err, 'UNAVAILABLE')).toBe(true);
  });

  it('the list bridge moves a list into a stream of the same hash tag, in order, on the cluster', async () => {
    const list = `{${prefix}:shipper}:list`;
    const stream = `{${prefix}:shipper}:events`;
    await c.cluster.rpush(list, ...['a', 'b', 'c'].map((id) => JSON.stringify({ id })));
    expect(await bridgeOnce(c.cluster, list, stream, 10)).toEqual({ moved: 3, left: 0 });
    const rows = await c.cluster.xrange(stream, '-', '+');
    expect(rows.map(([, f]) => JSON.parse(f[1]!).id)).toEqual(['a', 'b', 'c']);
    await c.cluster.del(list, stream);
  });

  it("the behaviors' on-epochs: one key, recorded by one script and read by an owner on the cluster", async () => {
    const config = (enabled: boolean): BehaviorConfig[] => [behavior('brute_force', { enabled, risk_level: 'high' })];
    await recordBehaviors(c.cluster, keys, config(true));
    await recordBehaviors(c.cluster, keys, config(false));
    expect(await recordBehaviors(c.cluster, keys, config(true))).toEqual({ epoch: 1, again: 1 });
    expect(await behaviorEpochs(c.cluster, keys).current(config(true))).toEqual({ current: 1, on: { brute_force: 1 } });
    // Lost (Redis restarted empty): put back by one script, as the owner knows it.
    await c.cluster.del(keys.behaviorEpochs());
    expect(await restoreBehaviors(c.cluster, keys, config(true), { current: 1, on: { brute_force: 1 } })).toBe(true);
    expect(await c.cluster.hgetall(keys.behaviorEpochs())).toEqual({ epoch: String(1 + LOST_COUNTER_MARGIN), 'on:brute_force': '1' });
  });

  it("password_spray's generation lost under an edge that saw a higher one: put back above it by one script on the cluster", async () => {
    const spray: BehaviorConfig[] = [behavior('password_spray', { enabled: true, risk_level: 'high' })];
    await c.cluster.set(keys.ipSprayGeneration(), '3');
    const g = sprayGeneration(c.cluster, keys);
    expect(await g.current(spray)).toBe(3);
    await c.cluster.set(keys.ipSprayGeneration(), '1'); // lost, then bumped once
    expect(await g.current([...spray])).toBe(3 + LOST_COUNTER_MARGIN);
  });
});
