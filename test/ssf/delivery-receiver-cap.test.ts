import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { enqueueLevelChanges } from '../../src/ssf/queue.js';
import { deliveryHarness } from './delivery-harness.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { change, onlyEvent, startReceiver, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-receiver-cap');
const receivers = new Map<string, ResolvedReceiver>();
const d = deliveryHarness(prefix, receivers, { delivery: { concurrency: 4, backoff_max: 60_000 } });

/** The hanging receivers' timeout: without the cap, the healthy receiver's SETs wait at least this long. */
const HANG_TIMEOUT = 2_000;

/** An HTTP receiver on loopback that reads each request and never answers; counts the requests open at once. */
async function hangingReceiver(): Promise<{
  url: string;
  open: () => number;
  maxOpen: () => number;
  firstAt: () => number | undefined;
  close: () => Promise<void>;
}> {
  const pending = new Set<ServerResponse>();
  let max = 0;
  let first: number | undefined;
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    first ??= Date.now();
    pending.add(res);
    max = Math.max(max, pending.size);
    res.on('close', () => pending.delete(res));
    req.resume();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const close = (): Promise<void> =>
    new Promise<void>((r) => {
      server.closeAllConnections();
      server.close(() => r());
    });
  d.closers.push(close);
  return {
    close,
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`,
    open: () => pending.size,
    maxOpen: () => max,
    firstAt: () => first,
  };
}

describe('configured receivers: in-flight sends capped per receiver', () => {
  it('receivers that never answer hold at most their cap of the worker’s slots; a healthy one gets all its SETs before their first timeout', async () => {
    const hangA = await hangingReceiver();
    const hangB = await hangingReceiver();
    const good = await startReceiver();
    d.closers.push(good.close);
    // delivery.concurrency 4: hang-a gets the default cap (2), hang-b its own (1); the healthy one keeps 1 slot at least.
    const a = testReceiver('hang-a', hangA.url, { timeout: HANG_TIMEOUT });
    const b = testReceiver('hang-b', hangB.url, { timeout: HANG_TIMEOUT, concurrency: 1 });
    const okta = testReceiver('okta', good.url);
    for (const r of [a, b, okta]) receivers.set(r.name, r);

    // The hanging receivers' SETs first: without the cap they take every slot before the healthy one's are read.
    const hangUsers = Array.from({ length: 30 }, (_, i) => change(`hang-${i}@example.com`, 1, 'low', 'high'));
    await enqueueLevelChanges(d.q, hangUsers, [a, b]);
    // Healthy receiver: 40 users, and 5 of them with two versions (a user's SETs never reordered).
    const users = Array.from({ length: 40 }, (_, i) => `user-${i}@example.com`);
    await enqueueLevelChanges(
      d.q,
      users.map((u) => change(u, 1, 'low', 'medium')),
      [okta],
    );
    await enqueueLevelChanges(
      d.q,
      users.slice(0, 5).map((u) => change(u, 2, 'medium', 'high')),
      [okta],
    );

    const subjects = (): Set<string> => new Set(good.requests.map((r) => JSON.stringify(r.claims.sub_id)));
    await waitFor(() => subjects().size >= users.length, { timeout: HANG_TIMEOUT * 3, what: 'every healthy SET' });
    const lastGood = Math.max(...good.requests.map((r) => r.at));
    const firstHang = Math.min(hangA.firstAt() ?? Infinity, hangB.firstAt() ?? Infinity);
    // All delivered before the first hanging send timed out (without the cap: not before it).
    expect(lastGood - firstHang).toBeLessThan(HANG_TIMEOUT);

    // Never more than the cap open at a hanging receiver, and the cap is used.
    await waitFor(() => hangA.open() >= 2 && hangB.open() >= 1, { what: 'hanging sends at their cap' });
    expect(hangA.maxOpen()).toBe(2);
    expect(hangB.maxOpen()).toBe(1);

    // No user got an older level after a newer one.
    const levels = new Map<string, string[]>();
    for (const r of good.requests) {
      const key = JSON.stringify(r.claims.sub_id);
      levels.set(key, [...(levels.get(key) ?? []), String(onlyEvent(r.claims)[1].current_level)]);
    }
    for (const [user, seen] of levels) {
      const i = seen.indexOf('HIGH');
      if (i >= 0) expect(seen.slice(i), user).not.toContain('MEDIUM');
    }
    // Their sends fail at once from now on (connection refused): no slot held for the next test.
    await Promise.all([hangA.close(), hangB.close()]);
  });

  it('two receivers that never answer, each at its default cap (half the slots): a healthy one still gets all its SETs before their first timeout', async () => {
    // Each default cap is half of delivery.concurrency (4): together they used to hold every slot,
    // and the healthy receiver waited for their timeout, again and again.
    const hangA = await hangingReceiver();
    const hangB = await hangingReceiver();
    const good = await startReceiver();
    d.closers.push(good.close);
    const LONG = 30_000;
    const a = testReceiver('both-a', hangA.url, { timeout: LONG });
    const b = testReceiver('both-b', hangB.url, { timeout: LONG });
    const okta = testReceiver('both-okta', good.url);
    for (const r of [a, b, okta]) receivers.set(r.name, r);
    try {
      await enqueueLevelChanges(
        d.q,
        Array.from({ length: 20 }, (_, i) => change(`both-hang-${i}@example.com`, 1, 'low', 'high')),
        [a, b],
      );
      await waitFor(() => hangA.open() >= 1 && hangB.open() >= 1, { what: 'both hanging receivers holding slots' });
      const users = Array.from({ length: 10 }, (_, i) => `both-user-${i}@example.com`);
      await enqueueLevelChanges(
        d.q,
        users.map((u) => change(u, 1, 'low', 'high')),
        [okta],
      );
      await waitFor(() => new Set(good.requests.map((r) => JSON.stringify(r.claims.sub_id))).size >= users.length, {
        timeout: LONG / 2,
        what: 'every healthy SET while two receivers hang',
      });
      // Never every slot held by the hanging receivers; none of their sends has ended yet.
      expect(hangA.maxOpen() + hangB.maxOpen()).toBeLessThan(4);
    } finally {
      // Their sends end at once (connection refused from now on): no slot held for the next test.
      await Promise.all([hangA.close(), hangB.close()]);
    }
  });

  it('the cap follows the receiver’s configuration at each send (a reload applies)', async () => {
    const hang = await hangingReceiver();
    const r = testReceiver('hang-reload', hang.url, { timeout: 5_000, concurrency: 1 });
    receivers.set(r.name, r);
    await enqueueLevelChanges(
      d.q,
      Array.from({ length: 8 }, (_, i) => change(`reload-${i}@example.com`, 1, 'low', 'high')),
      [r],
    );
    await waitFor(() => hang.open() >= 1, { what: 'one hanging send' });
    await new Promise((res) => setTimeout(res, 1_600)); // bounced jobs come back within 1.5 s
    expect(hang.maxOpen()).toBe(1);
    receivers.set(r.name, { ...r, concurrency: 2 });
    // A job put back waits its turn (about the hanging send's age apart): one comes back within a few seconds.
    await waitFor(() => hang.open() >= 2, { timeout: 8_000, what: 'a second send once the cap is 2' });
    expect(hang.maxOpen()).toBe(2);
    await hang.close();
  });

  it('a backlog for a receiver that hangs is not put back every second: each job waits its turn, about a send’s duration / cap apart', async () => {
    const hang = await hangingReceiver();
    const r = testReceiver('hang-backlog', hang.url, { timeout: 1_500 });
    receivers.set(r.name, r);
    const ids = await enqueueLevelChanges(
      d.q,
      Array.from({ length: 100 }, (_, i) => change(`backlog-${i}@example.com`, 1, 'low', 'high')),
      [r],
    );
    await new Promise((res) => setTimeout(res, 6_000));
    const looks = (await Promise.all(ids.map((id) => d.q.queue.getJob(id)))).reduce((n, j) => n + (j?.attemptsStarted ?? 0), 0);
    // Put back every 0.5-1.5 s, 100 jobs would have been looked at ~600 times; in turn, about 2 each.
    expect(looks).toBeLessThan(300);
    expect(hang.maxOpen()).toBe(2);
    await hang.close();
  });
});
