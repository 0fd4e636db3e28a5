/**
 * A SET's permanent failure is audited once (CONTRACT §4: 400 = permanent failure, an audit entry).
 * A worker cut off from Redis (its connection stalled: a network partition) right after a
 * receiver's 400 loses its job's lock; another worker's stalled-job check takes the job back and
 * runs it again (the same jti, refused again, audited); when the first worker's connection comes
 * back its own `set.failed` write lands too. Two real delivery workers on one queue — the first
 * through a loopback proxy that holds its traffic from its `set.failed` write on — and a real receiver.
 */
import { expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { enqueueLevelChange } from '../../src/ssf/queue.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { proxiedDeliveries, startTestDelivery } from './delivery-harness.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('failed-once');
const keys = new Keys(prefix);
const user = 'refused@example.com';
let held!: () => void;
const stalled = new Promise<void>((r) => (held = r));
const h = proxiedDeliveries(prefix, {
  stallWhen: (chunk) => {
    const s = chunk.toString('latin1');
    if (!s.includes('set.failed') || !s.includes(user)) return false;
    held();
    return true;
  },
});
const rx = await startReceiver(() => ({ status: 400, body: { err: 'invalid_request', description: 'refused' } }));
h.closers.push(rx.close);
const cfg = testReceiver('rfailed', rx.url);
const receivers = new Map([[cfg.name, cfg]]);

it("a 400 whose job another worker ran again (the first one's connection stalled) is audited set.failed once", async () => {
  const a = await startTestDelivery(h.viaProxy, keys, prefix, receivers);
  h.started.push(a);
  const [id] = await enqueueLevelChange(a.q, change(user, 1, 'low', 'high'), [cfg]);
  await stalled; // A got the 400; its audit write and everything after it are held
  const b = await startTestDelivery(h.redis, keys, prefix, receivers);
  h.started.push(b);
  // A's job lock lapses (15 s); B's stalled-job check takes the job and fails it.
  await waitFor(async () => (await b.q.queue.getJob(id!))?.finishedOn !== undefined, { timeout: 40_000, what: 'the job run again by B' });
  h.proxy.resume();
  await a.worker.close(); // A's attempt ends: its held write has landed
  const { entries } = await b.audit.list({ count: 100, action: 'set' });
  expect(entries.map((e) => [e.action, e.details.jti])).toEqual([['set.failed', rx.requests[0]!.claims.jti]]);
  expect(new Set(rx.requests.map((r) => r.claims.jti)).size).toBe(1);
}, 60_000);
