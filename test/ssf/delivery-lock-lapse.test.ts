/**
 * CONTRACT §4: a receiver never gets an older level after a newer one for the same user. The
 * per-(user, receiver) send lock expires (receiver timeout + 5 s): a worker that stood still past
 * it between its under-lock version check and its POST (paused: SIGSTOP, a long GC; or, as here,
 * a reply held up on its way back: the check's, or — a self-registered stream — the one recording
 * its push in flight, src/ssf/stream-fence.ts) must not send what it checked once another worker
 * has sent a newer level meanwhile. Two delivery workers on one queue, a real Redis — worker A's
 * through a loopback proxy that holds that reply — and a real receiver.
 */
import { describe, expect, it } from 'vitest';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { Keys } from '../../src/keys.js';
import { EgressLimiter } from '../../src/ssf/egress.js';
import { EndpointPolicy } from '../../src/ssf/endpoint-policy.js';
import { enqueueLevelChange } from '../../src/ssf/queue.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { proxiedDeliveries, startTestDelivery } from './delivery-harness.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('lock-lapse');
const keys = new Keys(prefix);
/** The user whose send A is held up at, and the command (after A's lock for that user) whose reply is held. */
let stall: { user: string; at: string; held: () => void } | undefined;
let locked = false;
const h = proxiedDeliveries(prefix, {
  stallAfter: (chunk) => {
    const s = chunk.toString('latin1');
    if (!stall) return false;
    if (s.includes(`:sendlock:`) && s.includes(stall.user)) locked = true;
    else if (locked && s.includes(stall.at)) {
      stall.held();
      stall = undefined;
      locked = false;
      return true;
    }
    return false;
  },
});
const rx = await startReceiver();
h.closers.push(rx.close);

/** A holds `cfg`'s lock for `user`'s v1 and is held up at `at`; B sends v2 once the lock lapsed; then A goes on. */
async function lapse(user: string, cfg: ResolvedReceiver, at: string): Promise<string[]> {
  const receivers = new Map([[cfg.name, cfg]]);
  const opts = () => ({
    delivery: { backoff_base: 100, backoff_max: 300 },
    ...(cfg.selfRegistered ? { egress: { policy: new EndpointPolicy(['127.0.0.1']), limiter: new EgressLimiter(2, 16) } } : {}),
  });
  const heldUp = new Promise<void>((held) => (stall = { user, at, held }));
  const a = await startTestDelivery(h.viaProxy, keys, prefix, receivers, opts());
  h.started.push(a);
  await enqueueLevelChange(a.q, change(user, 1, 'low', 'medium'), [cfg]);
  await heldUp; // A holds the lock and has checked v1; the reply held has not reached it

  const b = await startTestDelivery(h.redis, keys, prefix, receivers, opts());
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
  // Closed before the next test: none of them takes its jobs (one queue).
  for (const d of h.started.splice(0)) {
    await d.worker.close();
    await d.q.close();
  }
  return rx.requests.filter((r) => String(r.claims.txn).startsWith(`chg-${user}-`)).map((r) => String(r.claims.txn));
}

describe('send lock lapsed while a worker stood still', () => {
  // Receiver timeout 200 ms: the send lock lives 5.2 s. v1 was superseded while A stood still: the
  // receiver holds v2 and never got v1 after it.
  it('the older level checked before the lapse is not sent after the newer one', async () => {
    const user = 'lapse@example.com';
    expect(await lapse(user, testReceiver('rlapse', rx.url, { timeout: 200 }), ':delivered')).toEqual([`chg-${user}-2`]);
  }, 60_000);

  it('a self-registered stream: held up recording its push in flight, the older level is not sent either', async () => {
    const user = 'fence-lapse@example.com';
    const cfg = testReceiver('ssf-stream-lapse', rx.url, { timeout: 200, selfRegistered: true, streamId: 'lapse-stream' });
    expect(await lapse(user, cfg, ':ssf:inflight:')).toEqual([`chg-${user}-2`]);
  }, 60_000);
});
