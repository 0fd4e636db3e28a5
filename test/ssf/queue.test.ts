import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import {
  createSetQueue,
  enqueueLevelChange,
  enqueueLevelChanges,
  enqueueSessionRevoked,
  enqueueVerification,
  jtiFor,
  levelChangeJobId,
  type SetQueue,
} from '../../src/ssf/queue.js';
import { change, testReceiver } from './helpers.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { startMonitor } from '../helpers/monitor.js';

const prefix = testPrefix('queue');
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

const a = testReceiver('a', 'http://127.0.0.1:1/a');
const b = testReceiver('b.x', 'http://127.0.0.1:1/b', { events: ['session-revoked'] });
const off = testReceiver('off', 'http://127.0.0.1:1/c', { enabled: false });

describe('set-delivery queue', () => {
  it('one job per receiver that wants the event, with deterministic ids and jtis', async () => {
    const c = change('alice@example.com', 3, 'low', 'high');
    const ids = await enqueueLevelChange(q, c, [a, b, off]);
    expect(ids).toHaveLength(1);
    const id = ids[0]!;
    expect(id).not.toContain(':');
    expect(id).not.toContain('alice');
    expect(Number.isInteger(Number(id))).toBe(false);
    const job = await q.queue.getJob(id);
    expect(job?.data).toMatchObject({ event: 'risk-level-change', receiver: 'a', change: c, jti: jtiFor(id, c.id) });
    expect(job?.opts.removeOnFail).toEqual({ age: 30 * 86_400, count: 100_000 });

    // Enqueueing the same change again adds nothing and keeps the jti.
    expect(await enqueueLevelChange(q, c, [a, b, off])).toEqual(ids);
    expect((await q.queue.getJob(id))?.data.jti).toBe(job?.data.jti);
    expect(await q.queue.count()).toBe(1);
    expect(await q.state.versions('alice@example.com', 'a')).toEqual({ delivered: 0, enqueued: 3 });

    // The latest-enqueued version only rises.
    await enqueueLevelChange(q, change('alice@example.com', 2, 'medium', 'low'), [a]);
    expect((await q.state.versions('alice@example.com', 'a')).enqueued).toBe(3);
  });

  it('the same receiver, user and version from another cause (another deployment) gets another jti', () => {
    const one = change('alice@example.com', 1, 'low', 'high');
    const other = change('alice@example.com', 1, 'low', 'medium', { id: 'chg-of-another-deployment' });
    const jobId = levelChangeJobId('a', one.user, 1);
    expect(jtiFor(jobId, one.id)).not.toBe(jtiFor(jobId, other.id));
    expect(jtiFor(jobId, one.id)).toBe(jtiFor(jobId, one.id)); // deterministic: a replay's SET keeps its jti
  });

  it("raises a change's enqueued version before its job is added (the two sent together: Redis runs them in that order)", async () => {
    const user = 'order@example.com';
    await q.queue.waitUntilReady();
    const seen: string[] = [];
    const monitor = await startMonitor((args, source) => {
      if (source === 'lua') {
        if (args[0] === 'HSET' && args[1] === keys.userEnqueued(user)) seen.push('raise');
        // The job's hash, written by BullMQ's add script: its data names the user.
        if (args[0]?.toLowerCase() === 'hmset' && args[1]?.includes(prefix) && args.some((x) => x.includes(user))) seen.push('add');
      }
    });
    const ids = await enqueueLevelChanges(q, [change(user, 4, 'low', 'high')], [a]);
    await new Promise((r) => setTimeout(r, 50));
    await monitor.stop();
    expect(seen).toEqual(['raise', 'add']);
    expect(await q.state.versions(user, 'a')).toEqual({ delivered: 0, enqueued: 4 });
    expect((await q.queue.getJob(ids[0]!))?.data).toMatchObject({ change: { version: 4 } });
    await q.queue.remove(ids[0]!); // the other tests count the queue's jobs
  });

  it('session-revoked and verification jobs are idempotent too', async () => {
    const rev = { id: 'rev-1', user: 'bob@example.com', sessionId: 's:1', reason: 'admin', initiatingEntity: 'admin' as const, time: 1 };
    const ids = await enqueueSessionRevoked(q, rev, [a, b, off]);
    expect(ids).toHaveLength(2);
    for (const id of ids) expect(id).not.toContain(':');
    expect(await enqueueSessionRevoked(q, rev, [a, b, off])).toEqual(ids);
    const v = await enqueueVerification(q, 'a', 'verify-1', 'st');
    expect(await enqueueVerification(q, 'a', 'verify-1', 'st')).toBe(v);
    expect(await q.queue.count()).toBe(5); // 2 level changes + 2 revocations + 1 verification
    expect(new Set([...ids, v].map((x) => jtiFor(x))).size).toBe(3);
  });

  it("many changes at once: one job each per receiver, added in the changes' order, versions raised to the highest", async () => {
    // 1 200 changes (more than one addBulk) of 400 users, three versions each, interleaved as a relay sees them.
    const changes = [1, 2, 3].flatMap((v) => Array.from({ length: 400 }, (_, u) => change(`bulk-${u}@example.com`, v, 'low', 'high')));
    const a2 = testReceiver('a2', 'http://127.0.0.1:1/a2');
    const ids = await enqueueLevelChanges(q, changes, [a2, b, off]);
    expect(ids).toHaveLength(1200);
    expect(await enqueueLevelChanges(q, changes.slice(0, 10), [a2])).toEqual(ids.slice(0, 10)); // idempotent
    const jobs = await q.queue.getJobs(['waiting'], 0, -1, true); // oldest first
    const mine = jobs.filter((j) => j.data.receiver === 'a2');
    expect(mine.map((j) => j.id)).toEqual(ids);
    expect(mine.map((j) => (j.data.event === 'risk-level-change' ? j.data.change.version : 0))).toEqual(changes.map((c) => c.version));
    expect(await q.state.versions('bulk-7@example.com', 'a2')).toEqual({ delivered: 0, enqueued: 3 });
    expect(await enqueueLevelChanges(q, changes, [b, off])).toEqual([]); // nobody wants them
  });
});
