import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { Keys } from '../../src/keys.js';
import { startDeliveryWorker } from '../../src/ssf/delivery-worker.js';
import { KeyRing } from '../../src/ssf/key-ring.js';
import { createSetQueue, enqueueLevelChange, type SetQueue } from '../../src/ssf/queue.js';
import { change, startReceiver, testReceiver } from './helpers.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';

const prefix = testPrefix('delivery-hurry');
const keys = new Keys(prefix);
const delivery = { concurrency: 2, horizon: 86_400_000, backoff_base: 30, backoff_max: 300, invalid_key_retry: 250 };
let redis: Redis;
let q: SetQueue;
let ring: KeyRing;
let audit: AuditLog;

beforeAll(async () => {
  redis = redisClient();
  ring = new KeyRing();
  await ring.rotate('ES256');
  q = createSetQueue(redis, keys);
  audit = new AuditLog(redis, `${prefix}:audit`);
});
afterAll(async () => {
  await q.close();
  await cleanup(redis, prefix);
  await redis.quit();
});

describe('SET delivery worker: hurry', () => {
  // The close's own wait (15 s) is past this test's deadline: only hurry ends it in time.
  it('cuts the wait of a close under way: the hung send is aborted, its job put back with a set.retry entry', { timeout: 10_000 }, async () => {
    let calls = 0;
    const rx = await startReceiver(() => (calls++, 'hang'));
    // A receiver timeout far beyond the test: the push never ends by itself.
    const cfg: ResolvedReceiver = testReceiver('hung', rx.url, { timeout: 120_000 });
    const w = startDeliveryWorker({
      connection: redis,
      keys,
      registry: { get: (n) => (n === 'hung' ? cfg : undefined) },
      keyRing: ring,
      issuer: 'https://riskstream.test',
      audit,
      delivery,
    });
    try {
      const [id] = await enqueueLevelChange(q, change('hurry@example.com', 1, 'low', 'high'), [cfg]);
      await waitFor(() => calls > 0, { timeout: 5000, what: 'the push to reach the receiver' });
      const closing = w.close();
      w.hurry(100);
      await closing;
      expect(await (await q.queue.getJob(id!))?.getState()).toBe('delayed');
      const { entries } = await audit.list({ count: 100 });
      expect(entries.map((e) => e.action)).toContain('set.retry');
    } finally {
      await rx.close();
    }
  });
});
