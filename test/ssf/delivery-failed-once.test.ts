/**
 * A SET's final outcome is audited once (CONTRACT §4: 400 = permanent failure, an audit entry;
 * an older level superseded by a newer one, `set.superseded`). A worker cut off from Redis (its
 * connection stalled: a network partition) while writing that entry loses its job's lock; another
 * worker's stalled-job check takes the job back and runs it again (the same jti; refused, or
 * superseded, again: audited); when the first worker's connection comes back its own write lands
 * too. Two real delivery workers on one queue — the first through a loopback proxy that holds its
 * traffic from that write on — and a real receiver.
 */
import { expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { enqueueLevelChanges, jtiFor, levelChangeJobId } from '../../src/ssf/queue.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { proxiedDeliveries, startTestDelivery } from './delivery-harness.js';
import { change, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('final-once');
const keys = new Keys(prefix);
const refused = 'refused@example.com';
// The write the proxy stalls at (its action and user), and who is told once it does.
let stallAt: { action: string; user: string; held: () => void } | undefined;
const h = proxiedDeliveries(prefix, {
  stallWhen: (chunk) => {
    const s = chunk.toString('latin1');
    if (!stallAt || !s.includes(stallAt.action) || !s.includes(stallAt.user)) return false;
    stallAt.held();
    stallAt = undefined;
    return true;
  },
});
const rx = await startReceiver(({ claims }) =>
  String(claims.txn).startsWith(`chg-${refused}`) ? { status: 400, body: { err: 'invalid_request', description: 'refused' } } : { status: 202 },
);
h.closers.push(rx.close);
const cfg = testReceiver('rfinal', rx.url);
const receivers = new Map([[cfg.name, cfg]]);

for (const [action, user, versions] of [
  ['set.failed', refused, [1]],
  ['set.superseded', 'superseded@example.com', [1, 2]],
] as const)
  it(`${action}: a job another worker ran again (the first one's connection stalled at that write) is audited once`, async () => {
    const stalled = new Promise<void>((held) => (stallAt = { action, user, held }));
    const a = await startTestDelivery(h.viaProxy, keys, prefix, receivers);
    h.started.push(a);
    const ids = await enqueueLevelChanges(
      a.q,
      versions.map((v) => change(user, v, v % 2 ? 'low' : 'high', v % 2 ? 'high' : 'low')),
      [cfg],
    );
    await stalled; // A's write of the outcome and everything after it are held
    const b = await startTestDelivery(h.redis, keys, prefix, receivers);
    h.started.push(b);
    // A's job locks lapse (15 s); B's stalled-job check takes the jobs and ends them.
    await waitFor(async () => (await Promise.all(ids.map((id) => b.q.queue.getJob(id)))).every((j) => j?.finishedOn !== undefined), {
      timeout: 40_000,
      what: 'the jobs run again by B',
    });
    h.proxy.resume();
    await a.worker.close(); // A's attempts end: its held writes have landed
    await b.worker.close();
    const { entries } = await b.audit.list({ count: 100, action });
    const v1 = change(user, 1, 'low', 'high');
    expect(entries.filter((e) => e.details.user === user).map((e) => e.details.jti)).toEqual([jtiFor(levelChangeJobId(cfg.name, user, 1), v1.id)]);
  }, 60_000);
