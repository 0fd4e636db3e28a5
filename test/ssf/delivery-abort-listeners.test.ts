import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { enqueueLevelChanges } from '../../src/ssf/queue.js';
import { deliveryHarness } from './delivery-harness.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { change, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-abort-listeners');
const receivers = new Map<string, ResolvedReceiver>();
const d = deliveryHarness(prefix, receivers, { delivery: { concurrency: 16 } });

describe('SET delivery with more than 10 sends in flight', () => {
  it('prints no MaxListenersExceededWarning (found by the docs walk: the demo and a worker under a burst printed one)', async () => {
    const open = new Set<ServerResponse>();
    const server = createServer((req, res) => {
      open.add(res);
      res.on('close', () => open.delete(res));
      req.resume();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    d.closers.push(
      () =>
        new Promise<void>((r) => {
          server.closeAllConnections();
          server.close(() => r());
        }),
    );
    const warnings: string[] = [];
    const onWarning = (w: Error): void => void warnings.push(`${w.name}: ${w.message}`);
    process.on('warning', onWarning);
    try {
      const rx = testReceiver('slow', `http://127.0.0.1:${(server.address() as AddressInfo).port}/events`, {
        concurrency: 16,
        timeout: 10_000,
      });
      receivers.set(rx.name, rx);
      const users = Array.from({ length: 14 }, (_, i) => change(`burst-${i}@example.com`, 1, 'low', 'high'));
      await enqueueLevelChanges(d.q, users, [rx]);
      // 14 sends held open at once (16 slots, an eighth kept for receivers with none in flight).
      await waitFor(() => open.size >= 12, { timeout: 8_000, what: 'more than 10 sends in flight' });
      await new Promise((r) => setImmediate(r)); // a warning is emitted on the next tick
      expect(warnings.filter((w) => w.startsWith('MaxListenersExceededWarning'))).toEqual([]);
    } finally {
      process.off('warning', onWarning);
    }
  });
});
