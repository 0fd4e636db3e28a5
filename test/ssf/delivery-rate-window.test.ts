/**
 * A receiver's `rate_limit` holds in every 1-second window, also after a slow spell: SETs that
 * reserved a rate-limit slot and were then put back for want of an egress slot (the receiver's
 * `concurrency`) do not all go at once when it is fast again. A loopback receiver that records
 * arrival times, slow for its first seconds, then fast.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { beforeAll, expect, it } from 'vitest';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { enqueueLevelChanges } from '../../src/ssf/queue.js';
import { deliveryHarness, mostWithin } from './delivery-harness.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { change, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-rate-window');
const receivers = new Map<string, ResolvedReceiver>();
const RATE = 3;
const SLOW_FOR_MS = 3_000;
const SLOW_ANSWER_MS = 900;
const SETS = 15;
const d = deliveryHarness(prefix, receivers, { delivery: { concurrency: 4, backoff_max: 1_000 } });
const arrivals: number[] = [];
let firstAt: number | undefined;
// Records each request's arrival; answers slowly for its first seconds, then at once.
const rx = createServer((req, res) => {
  const at = Date.now();
  arrivals.push(at);
  firstAt ??= at;
  req.resume();
  setTimeout(() => res.writeHead(202).end(), at - firstAt < SLOW_FOR_MS ? SLOW_ANSWER_MS : 0);
});

beforeAll(async () => {
  await new Promise<void>((r) => rx.listen(0, '127.0.0.1', r));
  // Closed first after the tests (its slow answers end at once), then the worker.
  d.closers.push(
    () => rx.closeAllConnections(),
    () => new Promise<void>((r) => rx.close(() => r())),
  );
});

it('never more than rate_limit SETs arrive within a second, through a slow spell and after it', async () => {
  const r = testReceiver('rate-window', `http://127.0.0.1:${(rx.address() as AddressInfo).port}/events`, {
    rate_limit: RATE,
    concurrency: 1,
    timeout: 5_000,
  });
  receivers.set(r.name, r);
  await enqueueLevelChanges(
    d.q,
    Array.from({ length: SETS }, (_, i) => change(`rate-${i}@example.com`, 1, 'low', 'high')),
    [r],
  );
  await waitFor(() => arrivals.length >= SETS, { timeout: 25_000, what: 'every SET' });
  // Most arrivals within any window a little under 1 s (a margin for the loopback's jitter).
  expect(mostWithin(arrivals, 800)).toBeLessThanOrEqual(RATE);
  expect(arrivals).toHaveLength(SETS); // each once
});
