/**
 * CONTRACT §4: a receiver never gets an older level after a newer one for the same user. The
 * per-(user, receiver) send lock expires (receiver timeout + 5 s): a worker that stood still past
 * it between its under-lock version check and its POST (paused: SIGSTOP, a long GC; or, as here,
 * the check's reply held up on its way back) must not send what it checked once another worker
 * has sent a newer level meanwhile. Two delivery workers on one queue, a real Redis — worker A's
 * through a loopback proxy that holds the reply of A's check — and a real receiver.
 */
import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { enqueueLevelChange } from '../../src/ssf/queue.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { proxiedDeliveries, startTestDelivery } from './delivery-harness.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('lock-lapse');
const keys = new Keys(prefix);
const user = 'lapse@example.com';
let held!: () => void;
const checkHeld = new Promise<void>((r) => (held = r));
// The chunk after worker A's lock is taken that reads the user's delivered version: the check
// under the lock. It runs in Redis; its reply is held until resume().
let locked = false;
const h = proxiedDeliveries(prefix, {
  stallAfter: (chunk) => {
    const s = chunk.toString('latin1');
    if (s.includes(`:sendlock:`) && s.includes(user)) locked = true;
    else if (locked && s.includes(':delivered')) {
      held();
      return true;
    }
    return false;
  },
});
const rx = await startReceiver();
h.closers.push(rx.close);

describe('send lock lapsed while a worker stood still', () => {
  it('the older level checked before the lapse is not sent after the newer one', async () => {
    // Receiver timeout 200 ms: the send lock lives 5.2 s.
    const cfg = testReceiver('rlapse', rx.url, { timeout: 200 });
    const receivers = new Map([[cfg.name, cfg]]);
    const a = await startTestDelivery(h.viaProxy, keys, prefix, receivers, { delivery: { backoff_base: 100, backoff_max: 300 } });
    h.started.push(a);
    await enqueueLevelChange(a.q, change(user, 1, 'low', 'medium'), [cfg]);
    await checkHeld; // A holds the lock and has checked v1; the reply has not reached it

    const b = await startTestDelivery(h.redis, keys, prefix, receivers, { delivery: { backoff_base: 100, backoff_max: 300 } });
    h.started.push(b);
    await enqueueLevelChange(b.q, change(user, 2, 'medium', 'high'), [cfg]);
    // B sends v2 once A's lock has expired.
    await waitFor(async () => (await b.q.state.versions(user, cfg.name)).delivered === 2, { timeout: 15_000, what: 'v2 delivered by worker B' });
    h.proxy.resume(); // A goes on with what it checked
    await waitFor(
      async () => {
        const counts = await b.q.queue.getJobCounts('active', 'waiting', 'delayed');
        return Object.values(counts).every((n) => n === 0);
      },
      { timeout: 15_000, what: 'both jobs done' },
    );
    // v1 was superseded while A stood still: the receiver holds v2 and never got v1 after it.
    expect(rx.requests.map((r) => String(r.claims.txn))).toEqual([`chg-${user}-2`]);
  }, 60_000);
});
