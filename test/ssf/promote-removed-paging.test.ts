/**
 * The delayed SETs of a receiver a reload removed are all run at once, however many pages of the
 * delayed set they span and however that set changes while it is read: here another worker's
 * promoter runs (for another receiver it removed) between this one's pages, taking jobs from the
 * front of the set. Read by position, the jobs not read yet moved to positions already read and
 * were skipped (they failed only once their own delay was over). Real Redis, BullMQ queue and
 * delivery worker; the other worker's promoter is run from within this one's first promotion (a
 * spy that calls through), which places it between two page reads every time.
 */
import type { Redis } from 'ioredis';
import { Job } from 'bullmq';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { Keys } from '../../src/keys.js';
import { createSetQueue, type SetJobData, type SetQueue } from '../../src/ssf/queue.js';
import { promoteGoneReceivers } from '../../src/ssf/promote-removed.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { startTestDelivery, type TestDelivery } from './delivery-harness.js';

const prefix = testPrefix('promote-removed-paging');
const keys = new Keys(prefix);
let redis: Redis;
let q: SetQueue;
let d: TestDelivery | undefined;

beforeAll(() => {
  redis = redisClient();
  q = createSetQueue(redis, keys);
});
afterAll(async () => {
  vi.restoreAllMocks();
  await d?.worker.close();
  await d?.q.close();
  await q.close();
  await cleanup(redis, prefix);
  await redis.quit();
});

const RECEIVERS = ['old', 'rx', 'kept'] as const;
const PER_RECEIVER = 10;
const PAGE = 10;
const ids = (receiver: string): string[] => Array.from({ length: PER_RECEIVER }, (_, i) => `${receiver}-${i}`);
const states = (list: string[]): Promise<string[]> => Promise.all(list.map((id) => q.queue.getJobState(id)));

describe('delayed SETs of a removed receiver over several pages of a changing delayed set', () => {
  it('are all run (and fail unknown_receiver); the other receivers’ stay delayed', async () => {
    // old, rx, kept, old, rx, kept, …: each a second later than the one before (the set's order).
    for (let i = 0; i < PER_RECEIVER; i++)
      for (const [j, receiver] of RECEIVERS.entries()) {
        const id = `${receiver}-${i}`;
        await q.queue.add('set', { event: 'verification', receiver, jti: `jti-${id}`, id }, { jobId: id, delay: 600_000 + (i * RECEIVERS.length + j) * 1000 });
      }

    // Another worker, reloaded without `old`, runs its promoter once this one has promoted its first job.
    const promote = Job.prototype.promote;
    let other: Promise<number> | undefined;
    vi.spyOn(Job.prototype, 'promote').mockImplementation(async function (this: Job<SetJobData>) {
      await promote.call(this);
      if (!other && this.data.receiver === 'rx') {
        other = promoteGoneReceivers(q.queue, new Set(['old']), PAGE);
        await other;
      }
    });
    expect(await promoteGoneReceivers(q.queue, new Set(['rx']), PAGE)).toBe(PER_RECEIVER);
    expect(await other).toBe(PER_RECEIVER);
    vi.restoreAllMocks();

    expect(await states(ids('rx'))).toEqual(ids('rx').map(() => 'waiting'));
    expect(await states(ids('kept'))).toEqual(ids('kept').map(() => 'delayed'));

    // A worker without rx and old: each of their SETs fails at once, audited with its outcome.
    d = await startTestDelivery(redis, keys, prefix, new Map());
    const audit = d.audit;
    const failed = await waitFor(
      async () => {
        const { entries } = await audit.list({ action: 'set.failed', count: 100 });
        return entries.length >= 2 * PER_RECEIVER ? entries : undefined;
      },
      { what: 'the SETs of rx and old failed' },
    );
    expect(failed.map((e) => [e.details.receiver, e.details.outcome]).sort()).toEqual(
      [...ids('old'), ...ids('rx')].map((id) => [id.split('-')[0], 'unknown_receiver']).sort(),
    );
    expect(await states([...ids('old'), ...ids('rx')])).toEqual([...ids('old'), ...ids('rx')].map(() => 'failed'));
    expect(await states(ids('kept'))).toEqual(ids('kept').map(() => 'delayed'));
  }, 30_000);

  it('jobs sharing one score across a page boundary are all read', async () => {
    // More delayed jobs at one score than a page holds (BullMQ gives jobs delayed to the same
    // millisecond one score once 4096 share it): a cursor past that score would skip the rest.
    const list = Array.from({ length: 2 * PAGE + 5 }, (_, i) => ({ id: `tie-${i}`, receiver: i % 2 ? 'tie-rx' : 'tie-kept' }));
    for (const { id, receiver } of list) await q.queue.add('set', { event: 'verification', receiver, jti: `jti-${id}`, id }, { jobId: id, delay: 600_000 });
    const score = Number((await redis.zrange(q.queue.keys.delayed!, 0, 0, 'WITHSCORES'))[1]);
    await redis.zadd(q.queue.keys.delayed!, 'XX', ...list.flatMap(({ id }) => [score, id]));
    const rx = list.filter((j) => j.receiver === 'tie-rx').map((j) => j.id);
    expect(await promoteGoneReceivers(q.queue, new Set(['tie-rx']), PAGE)).toBe(rx.length);
    expect((await states(rx)).filter((s) => s === 'delayed')).toEqual([]);
    expect(await states(list.filter((j) => j.receiver === 'tie-kept').map((j) => j.id))).toEqual(
      list.filter((j) => j.receiver === 'tie-kept').map(() => 'delayed'),
    );
  });

  it('a job of the removed receiver delayed during the read, before the part read (a retry), is run too', async () => {
    const list = Array.from({ length: 2 * PAGE }, (_, i) => ({ id: `grow-${i}`, receiver: i % 2 ? 'grow-rx' : 'grow-kept' }));
    for (const [i, { id, receiver }] of list.entries())
      await q.queue.add('set', { event: 'verification', receiver, jti: `jti-${id}`, id }, { jobId: id, delay: 600_000 + i * 1000 });
    const promote = Job.prototype.promote;
    let added = false;
    vi.spyOn(Job.prototype, 'promote').mockImplementation(async function (this: Job<SetJobData>) {
      await promote.call(this);
      if (added || this.data.receiver !== 'grow-rx') return;
      added = true;
      // Once the first page is read: a SET of the removed receiver delayed before every job read.
      await q.queue.add('set', { event: 'verification', receiver: 'grow-rx', jti: 'jti-grow-late', id: 'grow-late' }, { jobId: 'grow-late', delay: 300_000 });
    });
    expect(await promoteGoneReceivers(q.queue, new Set(['grow-rx']), PAGE)).toBe(PAGE + 1);
    vi.restoreAllMocks();
    const rx = ['grow-late', ...list.filter((j) => j.receiver === 'grow-rx').map((j) => j.id)];
    expect((await states(rx)).filter((s) => s === 'delayed')).toEqual([]);
    const kept = list.filter((j) => j.receiver === 'grow-kept').map((j) => j.id);
    expect(await states(kept)).toEqual(kept.map(() => 'delayed'));
  });
});
