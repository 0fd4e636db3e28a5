import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { Keys } from '../../src/keys.js';
import type { DeliveryWorker } from '../../src/ssf/delivery-worker.js';
import { enqueueLevelChange, type SetQueue } from '../../src/ssf/queue.js';
import { startTestDelivery } from './delivery-harness.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-remote-text');
const keys = new Keys(prefix);
const receivers = new Map<string, ResolvedReceiver>();
const closers: Array<() => Promise<void>> = [];
let redis: Redis;
let q: SetQueue;
let audit: AuditLog;
let worker: DeliveryWorker;

beforeAll(async () => {
  redis = redisClient();
  ({ q, audit, worker } = await startTestDelivery(redis, keys, prefix, receivers));
});

afterAll(async () => {
  for (const c of closers) await c();
  await worker.close();
  await q.close();
  await cleanup(redis, prefix);
  await redis.quit();
});

describe("a receiver's 400 error text in the audit log", () => {
  it('line/paragraph separators and bidirectional marks are replaced, as control characters are', async () => {
    const rx = await startReceiver(() => ({
      status: 400,
      body: {
        err: 'invalid_request\u2028level=error msg=forged',
        description: 'a\u2028b\u2029c\u200ed\u200fe\u061cf\u202eg\u001b[2Jh',
      },
    }));
    closers.push(rx.close);
    const r = testReceiver('hostile-text', rx.url);
    receivers.set(r.name, r);
    await enqueueLevelChange(q, change('dave@example.com', 1, 'low', 'high'), [r]);
    const [failed] = await waitFor(async () => {
      const e = (await audit.list({ action: 'set.failed', count: 100 })).entries.filter((x) => x.details.receiver === r.name);
      return e.length ? e : undefined;
    });
    expect(failed!.details).toMatchObject({
      outcome: 'rejected',
      status: 400,
      err: 'invalid_request level=error msg=forged',
      description: 'a b c d e f g [2Jh',
    });
  });
});
