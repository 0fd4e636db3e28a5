/**
 * Every SET sent is in the audit log (CONTRACT §4, SSF.md: every score change sent is recorded).
 * The `set.delivered` entry is written before the version is marked delivered; a write that fails
 * (here the audit stream's key of another type; on a cluster, the audit stream's node failing
 * over while the user's slot answers) must not leave the SET marked delivered and unaudited: the
 * job is retried (the same jti) until the entry is written, once. A real delivery worker, Redis
 * and receiver.
 */
import { expect, it } from 'vitest';
import { enqueueLevelChange } from '../../src/ssf/queue.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { deliveryHarness } from './delivery-harness.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('audit-unwritten');
const rx = await startReceiver();
const cfg = testReceiver('raudit', rx.url);
const h = deliveryHarness(prefix, new Map([[cfg.name, cfg]]));
h.closers.push(rx.close);

it('a SET whose set.delivered entry could not be written is sent again (same jti) and audited once, not marked delivered unaudited', async () => {
  const user = 'unaudited@example.com';
  const stream = `${prefix}:audit`;
  await h.redis.set(stream, 'not a stream'); // every write to the audit log fails (WRONGTYPE)
  const [id] = await enqueueLevelChange(h.q, change(user, 1, 'low', 'high'), [cfg]);
  // The first attempt is over: completed (marked delivered without its entry), or put back to retry.
  await waitFor(async () => rx.requests.length >= 2 || (await h.q.queue.getJob(id!))?.finishedOn !== undefined, { what: 'first attempt over' });
  await h.redis.del(stream); // the audit log writable again
  await waitFor(async () => (await h.q.queue.getJob(id!))?.finishedOn !== undefined, { what: 'job finished' });
  const { entries } = await h.audit.list({ count: 100, action: 'set.delivered' });
  expect(entries.map((e) => [e.details.user, e.details.version, e.details.jti])).toEqual([[user, 1, rx.requests[0]!.claims.jti]]);
  expect(new Set(rx.requests.map((r) => r.claims.jti)).size).toBe(1);
  expect(await h.q.state.versions(user, cfg.name)).toEqual({ delivered: 1, enqueued: 1 });
});
