/** Receiver delivery health for the console: audit `set.*` outcomes per receiver, queued jobs per receiver. */
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { countQueued, deliveryHealth } from '../../src/api/receiver-health.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import { Keys } from '../../src/keys.js';
import { createSetQueue, type SetJobData, type SetQueue } from '../../src/ssf/queue.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

describe('receiver health', () => {
  const prefix = testPrefix('rx-health');
  let redis: Redis;
  let audit: AuditLog;
  let queue: SetQueue;
  let started: number;

  beforeAll(async () => {
    redis = redisClient();
    audit = new AuditLog(redis, `${prefix}:audit`);
    queue = createSetQueue(redis, new Keys(prefix));
    // An entry from before the window: not counted.
    const before = Number((await audit.write({ action: 'set.failed', actor: 'system', details: { receiver: 'rx-a' } })).split('-')[0]);
    // The window starts on the next millisecond (stream ids carry the write time).
    while (Date.now() <= before) await new Promise((r) => setTimeout(r, 1));
    started = Date.now();
    await audit.write({ action: 'set.retry', actor: 'system', details: { receiver: 'rx-a', user: 'u1', status: 503 } });
    await audit.write({ action: 'set.delivered', actor: 'system', details: { receiver: 'rx-a', user: 'u1', status: 202 } });
    await audit.write({ action: 'set.superseded', actor: 'system', details: { receiver: 'rx-a' } });
    await audit.write({ action: 'set.delivered', actor: 'system', details: { receiver: 'gone', user: 'u2' } });
    await audit.write({ action: 'risk.reset', actor: 'token:x', details: { receiver: 'rx-a' } });
    const job = (receiver: string): SetJobData => ({ receiver, event: 'verification', id: `v-${receiver}` }) as SetJobData;
    await queue.queue.add('set', job('rx-a'), { jobId: 'j1', delay: 3_600_000 });
    await queue.queue.add('set', job('rx-a'), { jobId: 'j2', delay: 3_600_000 });
    await queue.queue.add('set', job('unknown'), { jobId: 'j3', delay: 3_600_000 });
  });

  afterAll(async () => {
    await queue?.close();
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  it('counts outcomes per receiver since the window start, newest attempt first, and adds receivers only seen in the log', async () => {
    const r = await deliveryHealth(audit, ['rx-a', 'rx-b'], started);
    expect([...r.health.keys()]).toEqual(['rx-a', 'rx-b', 'gone']);
    expect(r.health.get('rx-a')).toMatchObject({
      delivered: 1,
      failed: 0,
      retries: 1,
      superseded: 1,
      last_attempt: { action: 'set.superseded' },
      last_success: { action: 'set.delivered', status: 202 },
      last_failure: { action: 'set.retry', status: 503 },
    });
    expect(r.health.get('rx-b')).toMatchObject({ delivered: 0, last_attempt: null });
    expect(r.health.get('gone')).toMatchObject({ delivered: 1 });
    expect(r).toMatchObject({ scanned: 5, complete: true });
  });

  it('counts queued jobs per known receiver', async () => {
    const r = await deliveryHealth(audit, ['rx-a'], started);
    const q = await countQueued(queue, r.health);
    expect(q).toEqual({ scanned: 3, truncated: false });
    expect(r.health.get('rx-a')!.queue).toEqual({ waiting: 0, delayed: 2, active: 0, total: 2 });
  });
});
