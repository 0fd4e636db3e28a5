/**
 * A worker's copy of the SSF streams after Redis lost them (restarted empty, or its keys deleted):
 * the streams that are gone go from the copy too (found by a black-box review: with the change
 * stream empty, the copy kept them for good, and SETs went on to streams the API answered 404 for).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { StreamCache } from '../../src/ssf/stream-cache.js';
import { SsfStreamStore } from '../../src/ssf/streams.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
defineScripts(redis);
const prefix = testPrefix('stream-cache-lost');
const keys = new Keys(prefix, 4);
const store = new SsfStreamStore(redis, keys);

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

const ids = async (cache: StreamCache): Promise<string[]> => (await cache.sync()).map((s) => s.stream_id);

describe('stream cache after Redis lost the streams', () => {
  it('forgets the streams gone with the change stream; a stream created after is read', async () => {
    const cache = new StreamCache(redis, keys);
    const a = await store.create({ endpoint_url: 'https://rx.example/a', owner: 'o' });
    expect(await ids(cache)).toEqual([a.stream_id]);
    await redis.del(keys.ssfStreams, keys.ssfStreamChanges); // Redis restarted empty
    expect(await ids(cache)).toEqual([]);
    const b = await store.create({ endpoint_url: 'https://rx.example/b', owner: 'o' });
    expect(await ids(cache)).toEqual([b.stream_id]);
  });

  it('lost, then a stream created elsewhere before this copy looked again: the lost ones go, the new one is read', async () => {
    const cache = new StreamCache(redis, keys);
    const a = await store.create({ endpoint_url: 'https://rx.example/c', owner: 'o' });
    expect(await ids(cache)).toContain(a.stream_id);
    await redis.del(keys.ssfStreams, keys.ssfStreamChanges);
    const b = await store.create({ endpoint_url: 'https://rx.example/d', owner: 'o' });
    expect(await ids(cache)).toEqual([b.stream_id]);
  });
});
