import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { earlyEnqueue } from '../../src/ssf/early-enqueue.js';
import { createSetQueue, enqueueLevelChanges, levelChangeJobId, type SetQueue } from '../../src/ssf/queue.js';
import { change, testReceiver } from './helpers.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('early-enqueue');
const keys = new Keys(prefix);
const logger = createLogger('silent');
let redis: Redis;
let q: SetQueue;
const a = testReceiver('a', 'http://127.0.0.1:1/a');

beforeAll(() => {
  redis = redisClient();
  q = createSetQueue(redis, keys);
});
afterAll(async () => {
  await q.close();
  await cleanup(redis, prefix);
  await redis.quit();
});

describe('early enqueue of committed level changes', () => {
  it('queues the jobs on its own connection, in call order, and tells the relay which it did', async () => {
    const used: SetQueue[] = [];
    const early = earlyEnqueue({ redis, keys, logger }, async (queue, changes) => {
      used.push(queue);
      await enqueueLevelChanges(queue, changes, [a]);
    });
    const c1 = change('ann@example.com', 1, 'low', 'high', { id: 'chg-1' });
    const c2 = change('ann@example.com', 2, 'high', 'medium', { id: 'chg-2' });
    early.enqueue([c1]);
    early.enqueue([c2]);
    // split waits for the enqueues started before it.
    const other = change('bob@example.com', 1, 'low', 'medium', { id: 'chg-3' });
    expect(await early.split([c1, other, c2])).toEqual({ done: [c1, c2], rest: [other] });
    // Jobs exist for both versions, added in order; the enqueued version is the latest.
    const jobs = await Promise.all([1, 2].map((v) => q.queue.getJob(levelChangeJobId('a', 'ann@example.com', v))));
    expect(jobs.map((j) => j?.data.event)).toEqual(['risk-level-change', 'risk-level-change']);
    expect(jobs[0]!.timestamp).toBeLessThanOrEqual(jobs[1]!.timestamp);
    expect((await q.state.versions('ann@example.com', 'a')).enqueued).toBe(2);
    // Its own connection, not the shared one.
    expect(used[0]!.queue.opts.connection).not.toBe(redis);
    // A change is reported done once: the relay's next pass (a repeat) enqueues it again, idempotently.
    expect(await early.split([c1])).toEqual({ done: [], rest: [c1] });
    await early.close();
  });

  it('a failed early enqueue leaves the changes to the relay (never lost)', async () => {
    let calls = 0;
    const early = earlyEnqueue({ redis, keys, logger }, async (queue, changes) => {
      if (++calls === 1) throw new Error('receiver list unavailable');
      await enqueueLevelChanges(queue, changes, [a]);
    });
    const c1 = change('cy@example.com', 1, 'low', 'high', { id: 'chg-f1' });
    const c2 = change('dee@example.com', 1, 'low', 'high', { id: 'chg-f2' });
    early.enqueue([c1]);
    early.enqueue([c2]);
    expect(await early.split([c1, c2])).toEqual({ done: [c2], rest: [c1] });
    expect(await q.queue.getJob(levelChangeJobId('a', 'cy@example.com', 1))).toBeUndefined();
    await early.close();
    // Closed: nothing more is sent (no connection opened after shutdown); the relay has them all.
    const c3 = change('eve@example.com', 1, 'low', 'high', { id: 'chg-f3' });
    early.enqueue([c3]);
    expect(await early.split([c3])).toEqual({ done: [], rest: [c3] });
    expect(calls).toBe(2);
  });

  it('closing does not wait on a Redis that is gone: the enqueue in flight is cut off, its connection dropped', async () => {
    // A client of a port nothing listens on (loopback): every command waits on reconnects.
    const gone = new Redis({ host: '127.0.0.1', port: 1, lazyConnect: true, retryStrategy: () => 100, maxRetriesPerRequest: null });
    let conn: { status: string } | undefined;
    const early = earlyEnqueue({ redis: gone, keys, logger }, async (queue, changes) => {
      conn = queue.queue.opts.connection as unknown as { status: string };
      await enqueueLevelChanges(queue, changes, [a]);
    });
    early.enqueue([change('fay@example.com', 1, 'low', 'high', { id: 'chg-g1' })]);
    await vi.waitFor(() => expect(conn).toBeDefined());
    const closing = early.close().then(() => 'closed');
    // The enqueue in flight never finishes (no Redis): close still returns.
    expect(await closing).toBe('closed');
    expect(conn!.status).not.toBe('ready');
    gone.disconnect();
  }, 15_000);
});
