/**
 * The SET delivery queue's cluster slot caught mid-move (IMPORTING/MIGRATING, as
 * `redis-cli --cluster reshard` leaves it until its keys are moved): every BullMQ script on it is
 * refused with TRYAGAIN while it lasts (it declares keys that do not exist, and those count as not
 * there). Wanted: an enqueue waits for the move instead of failing, a SET sent before the move
 * began completes once it ends (not failed and sent again), the worker logs no error, and the
 * receiver gets every SET once, in the user's order.
 *
 * On the shared cluster: the slot is `{<prefix>}`'s, empty when the test starts (a fresh prefix is
 * drawn until it is), no key of it is moved, and both nodes are set STABLE again in `finally`.
 */
import type { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { clusterClient as workerClusterClient } from '../../src/runtime/connections.js';
import { enqueueLevelChange, jtiFor, levelChangeJobId, queueCounts } from '../../src/ssf/queue.js';
import { CLUSTER_NODES, cleanPrefix, requireCluster } from '../helpers/cluster.js';
import { keysInSlot, ownerOfSlot, openSlotMove, slotOf } from '../helpers/cluster-reshard.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { startTestDelivery, type TestDelivery } from '../ssf/delivery-harness.js';
import { change, startReceiver, testReceiver } from '../ssf/helpers.js';

const up = await requireCluster('cluster/queue-slot-move');

/** A fresh prefix whose queue slot holds no key yet. */
async function emptySlotPrefix(): Promise<{ prefix: string; slot: number }> {
  for (;;) {
    const prefix = testPrefix('qslot');
    const slot = await slotOf(new Keys(prefix).bullKey('set-delivery', 'wait'));
    if ((await keysInSlot(await ownerOfSlot(slot), slot)) === 0) return { prefix, slot };
  }
}

describe.skipIf(!up)('the SET queue slot mid-move under a running delivery worker', () => {
  let cluster: Cluster | undefined;
  let prefix = '';
  let d: TestDelivery | undefined;
  const closers: Array<() => Promise<void>> = [];
  afterAll(async () => {
    await d?.worker.close();
    await d?.q.close();
    for (const c of closers) await c();
    if (cluster) await cleanPrefix(cluster, prefix);
    cluster?.disconnect();
  }, 60_000);

  it('enqueues wait, the SET in flight completes, nothing fails: each SET once, in order', async () => {
    const picked = await emptySlotPrefix();
    prefix = picked.prefix;
    const keys = new Keys(prefix);
    const user = 'slot-move@example.com';
    const changes = [1, 2, 3].map((v) => change(user, v, v % 2 ? 'low' : 'high', v % 2 ? 'high' : 'low'));
    const jtis = changes.map((c) => jtiFor(levelChangeJobId('rx', user, c.version), c.id));
    // v2 is answered only once the move has begun: the worker completes its job during the move.
    let moveBegun!: () => void;
    const begun = new Promise<void>((r) => (moveBegun = r));
    let v2Asked!: () => void;
    const v2Sent = new Promise<void>((r) => (v2Asked = r));
    const rx = await startReceiver(async ({ claims }) => {
      if (claims.jti === jtis[1]) {
        v2Asked();
        await begun;
        await new Promise((r) => setTimeout(r, 300));
      }
      return { status: 202 };
    });
    closers.push(rx.close);
    const receivers = new Map([['rx', testReceiver('rx', rx.url, { events: ['risk-level-change'] })]]);
    cluster = workerClusterClient(CLUSTER_NODES, 'test-queue-slot');
    d = await startTestDelivery(cluster as never, keys, prefix, receivers);
    const problems: string[] = [];
    d.worker.worker.on('error', (e) => problems.push(`error: ${e.message}`));
    d.worker.worker.on('failed', (_j, e) => problems.push(`failed: ${e.message}`));
    const rxs = [...receivers.values()];

    await enqueueLevelChange(d.q, changes[0]!, rxs);
    await waitFor(() => rx.requests.length === 1, { what: 'v1 delivered' });
    await enqueueLevelChange(d.q, changes[1]!, rxs);
    await v2Sent;
    const move = await openSlotMove(picked.slot);
    let enqueued: Promise<string[]> | undefined;
    try {
      moveBegun();
      enqueued = enqueueLevelChange(d.q, changes[2]!, rxs);
      enqueued.catch(() => undefined);
      // Longer than ioredis's default 64 redirections last (2-6 s): the worker's commands outlast them.
      await new Promise((r) => setTimeout(r, 8000));
    } finally {
      await move.stable();
    }
    await enqueued;
    await waitFor(() => rx.requests.length >= 3, { timeout: 30_000, what: 'v3 delivered' });
    await waitFor(async () => (await queueCounts(d!.q)).completed === 3, { timeout: 30_000, what: 'three jobs completed' });
    await new Promise((r) => setTimeout(r, 500));
    expect({ received: rx.requests.map((r) => r.claims.jti), problems, counts: await queueCounts(d.q) }).toEqual({
      received: jtis,
      problems: [],
      counts: { waiting: 0, active: 0, delayed: 0, failed: 0, completed: 3, prioritized: 0, paused: 0 },
    });
  }, 90_000);
});
