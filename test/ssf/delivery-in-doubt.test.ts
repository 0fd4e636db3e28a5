/**
 * CONTRACT §4: a receiver never gets an older level after a newer one for the same user. A push
 * that gets no answer in time (or whose connection is cut, or that is aborted at shutdown) may
 * still be with the receiver, being applied: the user's next level must not overtake it there.
 * Its (user, receiver) send lock is left to lapse (the receiver's timeout + 5 s) rather than
 * released when the push gives up. A real delivery worker, Redis and a receiver that applies a
 * SET a second after the worker stopped waiting for its answer.
 */
import { expect, it } from 'vitest';
import { enqueueLevelChange } from '../../src/ssf/queue.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { deliveryHarness } from './delivery-harness.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('in-doubt');
const user = 'doubt@example.com';
const TIMEOUT_MS = 300;
const arrived: string[] = [];
// Records a SET as applied when it answers: the first one a second after the worker's timeout.
const rx = await startReceiver(async ({ claims }) => {
  arrived.push(String(claims.txn));
  if (arrived.length === 1) await new Promise((r) => setTimeout(r, TIMEOUT_MS + 1000));
  return { status: 202 };
});
const cfg = testReceiver('rdoubt', rx.url, { timeout: TIMEOUT_MS });
const h = deliveryHarness(prefix, new Map([[cfg.name, cfg]]));
h.closers.push(rx.close);

it('a newer level waits for the send lock of a push left unanswered: the receiver applies the older one first', async () => {
  await enqueueLevelChange(h.q, change(user, 1, 'low', 'medium'), [cfg]);
  await waitFor(() => arrived.length === 1, { what: 'v1 at the receiver' });
  await enqueueLevelChange(h.q, change(user, 2, 'medium', 'high'), [cfg]);
  await waitFor(() => rx.requests.length === 2, { what: 'both applied' });
  expect(rx.requests.map((r) => String(r.claims.txn))).toEqual([`chg-${user}-1`, `chg-${user}-2`]);
  await waitFor(async () => (await h.q.state.versions(user, cfg.name)).delivered === 2, { what: 'v2 delivered' });
});
