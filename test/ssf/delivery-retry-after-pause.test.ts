/**
 * A receiver's `Retry-After` pauses that receiver for as long as it asks (README, docs/interfaces.md
 * §4) and is a floor under the SET's own back-off. The pause of every other SET to the receiver
 * must be the receiver's wait, not the failing SET's back-off: a `Retry-After: 0` (or a few
 * seconds) on a SET whose back-off has grown to minutes (a receiver that was down for a while)
 * held every SET to that receiver, new ones included, for those minutes. A real delivery worker,
 * Redis and receiver; the first SET's back-off is made long by `backoff_base`.
 */
import { expect, it } from 'vitest';
import { enqueueLevelChange } from '../../src/ssf/queue.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { deliveryHarness } from './delivery-harness.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('ra-pause');
const slow = 'backing-off@example.com';
// The first user's SETs answered 503 or 429 with a Retry-After of 0; every other SET accepted.
const rx = await startReceiver(({ claims }) => {
  const txn = String(claims.txn);
  if (txn.startsWith(`chg-${slow}`)) return { status: txn.endsWith('-1') ? 503 : 429, headers: { 'retry-after': '0' } };
  return { status: 202 };
});
const cfg = testReceiver('rpause', rx.url);
// A first retry 60-120 s away: the back-off of a SET that has been failing for a while.
const h = deliveryHarness(prefix, new Map([[cfg.name, cfg]]), { delivery: { backoff_base: 120_000, backoff_max: 120_000 } });
h.closers.push(rx.close);

for (const [status, version] of [
  [503, 1],
  [429, 2],
] as const)
  it(`a ${status} with Retry-After: 0 does not hold the receiver's other SETs for the failing SET's back-off`, async () => {
    await h.redis.del(h.keys.receiverThrottle(cfg.name));
    await enqueueLevelChange(h.q, change(slow, version, 'low', 'high'), [cfg]);
    await waitFor(async () => (await h.audit.list({ action: 'set.retry' })).entries.some((e) => e.details.status === status), { what: `the ${status} retry` });
    const other = `other-${status}@example.com`;
    await enqueueLevelChange(h.q, change(other, 1, 'low', 'high'), [cfg]);
    await waitFor(async () => (await h.q.state.versions(other, cfg.name)).delivered === 1, { what: `${other}'s SET delivered` });
    expect(rx.requests.filter((r) => String(r.claims.txn) === `chg-${other}-1`).map((r) => r.status)).toEqual([202]);
  });
