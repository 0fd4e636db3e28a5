/**
 * A node answering CLUSTER SLOTS with no slot (what `redis-cli --cluster del-node` leaves for a
 * moment: it resets the node with CLUSTER RESET SOFT, then shuts it down) must not make a worker's
 * cluster client drop its connections: ioredis replaced its node connections with the (empty) list
 * the answer gives, so the client closed and reconnected, and commands in flight failed with
 * `Connection is closed.` (seen in test/cluster/scale-out-in.test.ts as a worker's
 * `redis connection lost; reconnecting`, a `/readyz` 503, and a worker exiting on the unhandled error).
 * Here the slot map is read, the way ioredis' refresh does, from a fresh cluster-enabled
 * redis-server that knows no other node, on a free loopback port; the local cluster is only read.
 */
import { createServer } from 'node:net';
import { Redis } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { clusterClient } from '../../src/runtime/connections.js';
import { CLUSTER_NODES, requireCluster } from '../helpers/cluster.js';
import { startExtraNode, stopExtraNode } from '../helpers/cluster-scale.js';

const up = await requireCluster('cluster/empty-slot-map');

/** A port free on loopback whose cluster bus port (+10 000) is free too. */
async function freePort(): Promise<number> {
  const listen = (port: number): Promise<number | undefined> =>
    new Promise((resolve) => {
      const s = createServer();
      s.once('error', () => resolve(undefined));
      s.listen(port, '127.0.0.1', () => {
        const p = (s.address() as { port: number }).port;
        s.close(() => resolve(p));
      });
    });
  for (;;) {
    const p = await listen(0);
    if (p && p + 10_000 < 65_536 && (await listen(p + 10_000))) return p;
  }
}

describe.skipIf(!up)('a worker cluster client reading an empty slot map', () => {
  let port: number | undefined;
  afterAll(async () => {
    if (port) await stopExtraNode(port);
  });

  // BullMQ's queue and worker connections are duplicates of the one given to it.
  it.each(['the client', 'a duplicate of it'])('%s keeps its connections and serves on: no close, no reconnect, no command failed', async (which) => {
    port ??= await freePort();
    if (which === 'the client') await startExtraNode(port);
    const first = clusterClient(CLUSTER_NODES, 'test-empty-slots');
    const c = which === 'the client' ? first : first.duplicate();
    if (c !== first) first.disconnect();
    try {
      await c.set('{empty-slots}:k', 'v', 'PX', 60_000);
      const masters = c.nodes('master').length;
      const events: string[] = [];
      for (const e of ['close', 'reconnecting', 'end', '-node']) c.on(e, () => events.push(e));
      const inFlight = Array.from({ length: 20 }, () => c.get('{empty-slots}:k').catch((err: Error) => `failed: ${err.message}`));
      const fresh = new Redis({ host: '127.0.0.1', port, lazyConnect: true });
      fresh.on('error', () => undefined);
      // ioredis' slot-map refresh, from the node that knows no slot (internal: the path a MOVED or the 5 s refresh takes).
      const refresh = (c as unknown as { getInfoFromNode(r: Redis, cb: (err?: Error) => void): void }).getInfoFromNode.bind(c);
      const error = await new Promise<string | undefined>((resolve) => refresh(fresh, (err) => resolve(err?.message)));
      fresh.disconnect();
      const got = await Promise.all(inFlight);
      const after = await c.get('{empty-slots}:k').catch((err: Error) => `failed: ${err.message}`);
      await new Promise((r) => setTimeout(r, 200));
      expect({ error, events, status: c.status, masters: c.nodes('master').length, got: [...new Set(got)], after }).toEqual({
        error: undefined,
        events: [],
        status: 'ready',
        masters,
        got: ['v'],
        after: 'v',
      });
    } finally {
      await c.del('{empty-slots}:k').catch(() => undefined);
      c.disconnect();
    }
  });
});
