/**
 * A reload that removes (or turns off) a configured receiver runs its delayed SETs at once, so that
 * they fail now — but not while a running worker not reloaded yet still has it on: that worker
 * would take them and push them before their retry's backoff (or the receiver's pause) ended. The
 * last worker reloaded runs them. Real Redis and BullMQ queue.
 */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { createSetQueue, type SetQueue } from '../../src/ssf/queue.js';
import { promoterOfGone } from '../../src/ssf/promote-removed.js';
import { enabledOnLiveWorker } from '../../src/ssf/receivers-on.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('promote-removed');
const keys = new Keys(prefix);
let redis: Redis;
let q: SetQueue;

beforeAll(() => {
  redis = redisClient();
  q = createSetQueue(redis, keys);
});
afterAll(async () => {
  await q.close();
  await cleanup(redis, prefix);
  await redis.quit();
});

const on = (...names: string[]): Array<{ name: string; enabled: boolean }> => names.map((name) => ({ name, enabled: true }));
const delayed = (receiver: string, id: string): Promise<unknown> =>
  q.queue.add('set', { event: 'verification', receiver, jti: `jti-${id}`, id }, { jobId: id, delay: 600_000 });

describe('delayed SETs of a receiver a reload removed', () => {
  it('wait while another running worker still has it on; the last worker reloaded runs them', async () => {
    await delayed('rx', 'job-rx');
    await delayed('kept', 'job-kept');
    // Two workers running the configuration with rx on.
    await redis.zadd(keys.engineMembers, Date.now(), 'w1', Date.now(), 'w2');
    await redis.hset(keys.receiversOn, 'w1', JSON.stringify(['rx', 'kept']), 'w2', JSON.stringify(['rx', 'kept']));
    let w1Config = on('rx', 'kept');
    let w2Config = on('rx', 'kept');
    const elsewhere = (name: string): Promise<boolean> => enabledOnLiveWorker(redis, keys, name);
    const w1 = promoterOfGone(q.queue, () => w1Config, elsewhere);
    const w2 = promoterOfGone(q.queue, () => w2Config, elsewhere);

    // w1 reloads without rx (and records so); w2 is not reloaded yet: rx's SET stays delayed.
    w1Config = on('kept');
    await redis.hset(keys.receiversOn, 'w1', JSON.stringify(['kept']));
    expect(await w1()).toBe(0);
    expect(await (await q.queue.getJob('job-rx'))!.getState()).toBe('delayed');

    // w2 reloads too: no worker has rx on any more, its SET runs now; the kept receiver's waits on.
    w2Config = on('kept');
    await redis.hset(keys.receiversOn, 'w2', JSON.stringify(['kept']));
    expect(await w2()).toBe(1);
    expect(await (await q.queue.getJob('job-rx'))!.getState()).toBe('waiting');
    expect(await (await q.queue.getJob('job-kept'))!.getState()).toBe('delayed');
  });
});
