/**
 * SsfStreamStore.update under concurrency: many updates of one stream at once (receivers retrying,
 * an admin and a receiver together) all land, none clobbers another, none fails with a conflict.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { SsfStreamStore } from '../../src/ssf/streams.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
defineScripts(redis);
const prefix = testPrefix('stream-update');
const store = new SsfStreamStore(redis, new Keys(prefix, 4));

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('SsfStreamStore.update', () => {
  it('60 concurrent updates of one stream in one process: every one lands, in call order, none a conflict', async () => {
    const s = await store.create({ endpoint_url: 'https://rx.example/push', owner: 'o' });
    const subjects = Array.from({ length: 60 }, (_, i) => `user-${i}@example.com`);
    const res = await Promise.allSettled(subjects.map((u) => store.update(s.stream_id, (cur) => ({ ...cur, removed_subjects: [...cur.removed_subjects, u] }))));
    expect(res.filter((r) => r.status === 'rejected')).toEqual([]);
    expect((await store.get(s.stream_id)).removed_subjects).toEqual(subjects);
  });

  it('an update that throws does not stop the next ones; an unknown stream is NOT_FOUND', async () => {
    const s = await store.create({ endpoint_url: 'https://rx.example/push', owner: 'o' });
    const bad = store.update(s.stream_id, () => {
      throw new Error('refused');
    });
    const good = store.update(s.stream_id, (cur) => ({ ...cur, description: 'after' }));
    await expect(bad).rejects.toThrow('refused');
    expect((await good).description).toBe('after');
    await expect(store.update('no-such-stream', (cur) => cur)).rejects.toMatchObject({ code: 'NOT_FOUND' });
  });
});
