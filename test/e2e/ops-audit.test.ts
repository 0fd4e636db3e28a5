/**
 * Gaps a black-box audit of the worker as a long-lived service found: a reload (SIGHUP) in flight
 * while the worker drains, with a SET receiver that hangs.
 */
import { createServer, type Server, type Socket } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { WorkerHandle } from '../../src/runtime/worker.js';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, inProcessWorker } from '../helpers/worker.js';

const h = inProcessWorker('ops-audit');

/** A receiver that accepts connections and never answers; counts them. */
let hang: Server;
let connections = 0;
const sockets: Socket[] = [];
beforeAll(async () => {
  hang = createServer((s) => {
    connections++;
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
});
afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await new Promise((r) => hang.close(r));
});

it('a reload still restarting SET delivery when the worker closes starts no delivery worker after the close: nothing is sent once closed', async () => {
  const port = (hang.address() as { port: number }).port;
  const worker: WorkerHandle = await h.start({
    receivers: [{ name: 'hung', kind: 'ssf', endpoint: `http://127.0.0.1:${port}/push`, audience: 'aud', timeout: '2s' }],
    delivery: { backoff_base: '50ms', backoff_max: '100ms' },
  });
  await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection('hung-receiver@example.com'));
  await waitFor(() => connections > 0 || undefined, { timeout: 15_000, what: 'a SET sent to the hung receiver' });
  // The reload restarts the delivery worker: it waits for the hung send (up to the receiver's timeout)…
  const reload = worker.reload();
  await new Promise((r) => setTimeout(r, 300));
  // …while the worker is told to stop.
  await worker.close();
  await reload.catch(() => undefined);
  const after = connections;
  // The job whose send timed out is retried within backoff_max: only a delivery worker left running sends it.
  await new Promise((r) => setTimeout(r, 1500));
  expect(connections).toBe(after);
}, 40_000);

const h2 = inProcessWorker('ops-audit-2');

it('a SIGHUP while the worker drains is not a refused reload: it resolves, counts and audits nothing, and writes nothing to Redis', async () => {
  const worker = await h2.start({});
  const audited = await h2.redis.xlen(h2.keys.auditStream);
  const closing = worker.close();
  const reload = worker.reload();
  await closing;
  await expect(reload).resolves.toBeUndefined();
  const metrics = (await worker.metrics.render()).body;
  expect(metrics).not.toMatch(/riskstream_config_reloads_total\{/);
  expect(await h2.redis.xlen(h2.keys.auditStream)).toBe(audited);
}, 40_000);

const h3 = inProcessWorker('ops-audit-3');

it('a partition-stream entry that is no routed items (written by something else) counts as dead-lettered, not as poisoned with its decoder message as a `code`', async () => {
  const worker = await h3.start({});
  const stream = h3.keys.partitionIn(0);
  for (const junk of ['garbage', '{"a":1}', '[1,2']) await h3.redis.xadd(stream, '*', 'v', junk);
  await waitFor(async () => ((await h3.redis.xlen(`${h3.prefix}:dead-letter`)) === 3 ? true : undefined), { what: 'three dead letters' });
  const metrics = (await worker.metrics.render()).body;
  expect(metrics).toContain(`riskstream_events_dead_lettered_total{stream="${stream}"} 3`);
  expect(metrics).not.toMatch(/^riskstream_events_poisoned_total\{/m);
}, 40_000);
