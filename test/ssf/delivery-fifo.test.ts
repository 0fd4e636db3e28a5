/**
 * Under a steady overload of one slow receiver (SETs queued faster than its `concurrency` lets
 * them out), SETs put back for want of an egress slot keep their place: they are sent in about the
 * order they were queued, and none waits until it expires while newer ones are sent. A loopback
 * receiver that answers each SET after 200 ms, one at a time.
 */
import { createServer } from 'node:http';
import { decodeJwt } from 'jose';
import { expect, it } from 'vitest';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { enqueueLevelChanges } from '../../src/ssf/queue.js';
import { deliveryHarness, onLoopback } from './delivery-harness.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { change, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-fifo');
const receivers = new Map<string, ResolvedReceiver>();
const d = deliveryHarness(prefix, receivers, { delivery: { concurrency: 4, horizon: 8_000 } });
const SETS = 30;
const sent: string[] = [];
// Records each SET's user as it arrives; answers 200 ms later.
const rx = createServer((req, res) => {
  let body = '';
  req.setEncoding('utf8');
  req.on('data', (c: string) => (body += c));
  req.on('end', () => {
    sent.push((decodeJwt(body).sub_id as { email: string }).email);
    setTimeout(() => res.writeHead(202).end(), 200);
  });
});

it('SETs put back for a slot go out in the order they were queued; none expires while newer ones are sent', async () => {
  const loopback = await onLoopback(rx);
  d.closers.push(loopback.close); // first: no send left open
  const r = testReceiver('fifo', loopback.url, { concurrency: 1, timeout: 5_000 });
  receivers.set(r.name, r);
  const users = Array.from({ length: SETS }, (_, i) => `fifo-${i}@example.com`);
  const ids: string[] = [];
  // About 8 a second for a receiver that takes 5: the backlog grows while they are queued.
  for (const u of users) {
    ids.push(...(await enqueueLevelChanges(d.q, [change(u, 1, 'low', 'high')], [r])));
    await new Promise((res) => setTimeout(res, 120));
  }
  await waitFor(async () => (await Promise.all(ids.map(async (id) => (await d.q.queue.getJob(id))?.finishedOn))).every(Boolean), {
    timeout: 25_000,
    what: 'every SET finished',
  });
  const states = await Promise.all(ids.map(async (id) => (await d.q.queue.getJob(id))?.getState()));
  expect(states.filter((s) => s !== 'completed')).toEqual([]); // none expired (no_slot)
  expect([...sent].sort()).toEqual([...users].sort());
  // Each sent within a few places of its place in the queue (jitter, a job between its pick-up and its slot).
  const displaced = Math.max(...users.map((u, i) => Math.abs(sent.indexOf(u) - i)));
  expect(displaced).toBeLessThanOrEqual(4);
});
