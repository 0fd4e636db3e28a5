/**
 * A SET put back for want of an egress slot (its receiver's sends in flight at its `concurrency`)
 * waits its turn up to the delivery horizon, then expires as a paused or rate-limited one does:
 * `set.failed`, outcome `expired`, `last_outcome: no_slot` — not waiting for a receiver that hangs
 * past its horizon. A hanging loopback receiver and a 2 s horizon.
 */
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AuditLog } from '../../src/audit/audit-log.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { Keys } from '../../src/keys.js';
import type { DeliveryWorker } from '../../src/ssf/delivery-worker.js';
import { enqueueLevelChanges, type SetQueue } from '../../src/ssf/queue.js';
import { startTestDelivery } from './delivery-harness.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { change, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-slot-expiry');
const keys = new Keys(prefix);
const receivers = new Map<string, ResolvedReceiver>();
const HORIZON = 2_000;
let redis: Redis;
let q: SetQueue;
let audit: AuditLog;
let worker: DeliveryWorker;
let requests = 0;
const pending = new Set<ServerResponse>();
// Reads each request and never answers.
const hanging = createServer((req, res) => {
  requests++;
  pending.add(res);
  req.resume();
});

beforeAll(async () => {
  redis = redisClient();
  await new Promise<void>((r) => hanging.listen(0, '127.0.0.1', r));
  ({ q, audit, worker } = await startTestDelivery(redis, keys, prefix, receivers, { delivery: { horizon: HORIZON } }));
});

afterAll(async () => {
  hanging.closeAllConnections(); // first: the hanging send ends at once
  await new Promise<void>((r) => hanging.close(() => r()));
  await worker.close();
  await q.close();
  await cleanup(redis, prefix);
  await redis.quit();
});

it('a SET without a free slot past its horizon fails as expired (last_outcome no_slot), audited', async () => {
  // One send at a time, and that one hangs far beyond the horizon.
  const r = testReceiver('hang-slot', `http://127.0.0.1:${(hanging.address() as AddressInfo).port}/events`, { timeout: 30_000, concurrency: 1 });
  receivers.set(r.name, r);
  const users = ['a', 'b', 'c'].map((u) => `${u}@example.com`);
  const ids = await enqueueLevelChanges(
    q,
    users.map((u) => change(u, 1, 'low', 'high')),
    [r],
  );
  const failed = async (): Promise<string[]> => {
    const states = await Promise.all(ids.map(async (id) => (await q.queue.getJob(id))?.getState()));
    return ids.filter((_, i) => states[i] === 'failed');
  };
  // The two put back expire at their first look past the horizon (at most backoff_max + 1 s of jitter later).
  await waitFor(async () => (await failed()).length === 2, { timeout: HORIZON + 5_000, what: 'the SETs without a slot to expire' });
  expect(requests).toBe(1);
  const { entries } = await audit.list({ count: 100 });
  const expired = entries.filter((e) => e.action === 'set.failed' && e.details.receiver === r.name);
  expect(expired).toHaveLength(2);
  for (const e of expired) expect(e.details).toMatchObject({ outcome: 'expired', last_outcome: 'no_slot', event: 'risk-level-change' });
  expect(new Set(expired.map((e) => e.target)).size).toBe(2); // one per SET put back
});
