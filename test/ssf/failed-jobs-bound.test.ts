/**
 * Failed SET delivery jobs (a receiver refused the SET, its horizon passed, its stream was deleted)
 * no longer pile up for good: BullMQ removes those failed more than 30 days ago, and keeps at most
 * the newest 100 000 (the audit log's `set.failed` entry is the record of each).
 */
import { Redis } from 'ioredis';
import { UnrecoverableError, Worker } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { createSetQueue, enqueueLevelChange, SET_DELIVERY_QUEUE, SET_JOB_OPTIONS, type SetQueue } from '../../src/ssf/queue.js';
import { change, testReceiver } from './helpers.js';
import { REDIS_URL, cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';

const prefix = testPrefix('failed-jobs');
const keys = new Keys(prefix);
let redis: Redis;
let q: SetQueue;
let worker: Worker<unknown, unknown> | undefined;
const workerConnection = new Redis(REDIS_URL, { maxRetriesPerRequest: null, lazyConnect: true });

beforeAll(() => {
  redis = redisClient();
  q = createSetQueue(redis, keys);
});
afterAll(async () => {
  await worker?.close();
  workerConnection.disconnect();
  await q.close();
  await cleanup(redis, prefix);
  await redis.quit();
});

const rx = testReceiver('rx', 'http://127.0.0.1:1/rx');

describe('failed delivery jobs', () => {
  it('are bounded by age and count', () => {
    expect(SET_JOB_OPTIONS.removeOnFail).toEqual({ age: 30 * 86_400, count: 100_000 });
  });

  it('one failed more than 30 days ago is removed when another fails', async () => {
    worker = new Worker<unknown, unknown>(
      SET_DELIVERY_QUEUE,
      async (): Promise<unknown> => {
        throw new UnrecoverableError('refused');
      },
      { connection: workerConnection, prefix: keys.bullPrefix },
    );
    const [old] = await enqueueLevelChange(q, change('old@example.com', 1, 'low', 'high'), [rx]);
    await waitFor(async () => (await q.queue.getJobState(old!)) === 'failed', { what: 'first job failed' });
    // It failed 31 days ago (the failed set's score is when it finished).
    await redis.zadd(keys.bullKey(SET_DELIVERY_QUEUE, 'failed'), Date.now() - 31 * 86_400_000, old!);
    const [recent] = await enqueueLevelChange(q, change('new@example.com', 1, 'low', 'high'), [rx]);
    await waitFor(async () => (await q.queue.getJobState(recent!)) === 'failed', { what: 'second job failed' });
    expect(await q.queue.getJob(old!)).toBeUndefined();
    expect(await redis.exists(keys.bullKey(SET_DELIVERY_QUEUE, old!))).toBe(0);
    expect((await q.queue.getFailed()).map((j) => j.id)).toEqual([recent]);
  });
});
