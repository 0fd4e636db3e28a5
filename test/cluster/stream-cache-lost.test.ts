/**
 * A worker's copy of the SSF streams when one master of a Redis Cluster lost its data (restarted
 * empty) — the master of the streams (`<prefix>:ssf:streams`) but not the one of their change
 * stream, which is in another slot: the lost streams go from the copy too (found by a cluster
 * audit: the change stream still held the copy's last entry, so the copy kept the lost streams for
 * good and SETs went on to streams the API answered 404 for).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { slotOf } from '../../src/redis/client.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { StreamCache } from '../../src/ssf/stream-cache.js';
import { SsfStreamStore } from '../../src/ssf/streams.js';
import { clusterForTests, requireCluster } from '../helpers/cluster.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/stream-cache-lost');
const prefix = testPrefix('clu-cache-lost');

describe.skipIf(!up)('stream cache when the master of the streams lost its data', () => {
  const t = clusterForTests(prefix);
  beforeAll(() => defineScripts(t.cluster));
  const keys = new Keys(prefix, 4);
  const ids = async (cache: StreamCache): Promise<string[]> => (await cache.sync()).map((s) => s.stream_id).sort();

  it('the streams and their change stream are in different slots (the case at hand)', () => {
    expect(slotOf(keys.ssfStreams)).not.toBe(slotOf(keys.ssfStreamChanges));
  });

  it('forgets the streams lost with their master while the change stream was kept; streams created after are read', async () => {
    const store = new SsfStreamStore(t.cluster, keys);
    const cache = new StreamCache(t.cluster, keys);
    const a = await store.create({ endpoint_url: 'https://rx.example/a', owner: 'o' });
    const b = await store.create({ endpoint_url: 'https://rx.example/b', owner: 'o' });
    expect(await ids(cache)).toEqual([a.stream_id, b.stream_id].sort());
    await t.cluster.del(keys.ssfStreams); // its master restarted empty; the change stream's did not
    expect(await ids(cache)).toEqual([]);
    const c = await store.create({ endpoint_url: 'https://rx.example/c', owner: 'o' });
    expect(await ids(cache)).toEqual([c.stream_id]);
  });

  it('lost, then a stream created before this copy looked again: the lost ones go, the new one is read', async () => {
    const store = new SsfStreamStore(t.cluster, keys);
    const cache = new StreamCache(t.cluster, keys);
    const a = await store.create({ endpoint_url: 'https://rx.example/d', owner: 'o' });
    expect(await ids(cache)).toContain(a.stream_id);
    await t.cluster.del(keys.ssfStreams);
    const b = await store.create({ endpoint_url: 'https://rx.example/e', owner: 'o' });
    expect(await ids(cache)).toEqual([b.stream_id]);
  });
});
