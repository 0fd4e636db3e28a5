/**
 * close() with a send still waiting for a receiver that never answers: past its timeout the send is
 * aborted, its job put back (a retry, audited) while the connections are open, and nothing of the
 * worker runs on afterwards. Before, the send went on after close; when it ended, BullMQ's failure
 * handler retried "Connection is closed" without pause — a promise loop that stopped the process's
 * timers for good (an embedding program hung at 100 % CPU).
 */
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { Keys } from '../../src/keys.js';
import { enqueueLevelChange } from '../../src/ssf/queue.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { startTestDelivery } from './delivery-harness.js';
import { change, testReceiver } from './helpers.js';

const prefix = testPrefix('delivery-close');
const keys = new Keys(prefix);
const redis = redisClient();
const sockets: Socket[] = [];
const closedByClient: Socket[] = [];
const server = createServer((s) => {
  sockets.push(s);
  s.on('error', () => undefined);
  s.resume(); // reads the request (never answered), and the end of the stream when the worker ends it
  s.on('end', () => closedByClient.push(s));
});

afterAll(async () => {
  sockets.forEach((s) => s.destroy());
  await new Promise<void>((r) => server.close(() => r()));
  await cleanup(redis, prefix);
  await redis.quit();
});

it('a send in flight at close is aborted and its job put back; after close the event loop runs on', async () => {
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  const receiver = testReceiver('hung', `http://127.0.0.1:${port}/events`, { timeout: 30_000 });
  const receivers = new Map<string, ResolvedReceiver>([[receiver.name, receiver]]);
  const { q, audit, worker } = await startTestDelivery(redis, keys, prefix, receivers);
  const [jobId] = await enqueueLevelChange(q, change('hung@example.com', 1, 'low', 'high'), [receiver]);
  await waitFor(() => sockets.length > 0 || undefined, { what: 'the SET sent to the receiver' });

  await worker.close(); // closeTimeoutMs 1 s, then the send is aborted
  // The receiver's connection was ended by the worker, not left open to the push's 30 s timeout.
  await waitFor(() => closedByClient.length > 0 || undefined, { timeout: 5_000, what: "the push's socket closed" });
  const job = await q.queue.getJob(jobId!);
  expect(await job!.getState()).toBe('delayed');
  const retries = (await audit.list({ action: 'set.retry' })).entries;
  expect(retries.map((e) => e.details)).toEqual([
    expect.objectContaining({ receiver: 'hung', outcome: 'network', message: 'not answered before the worker shut down' }),
  ]);

  // Whatever the worker left behind must not keep the event loop from timers (before, this sleep never ended).
  sockets.forEach((s) => s.destroy());
  await sleep(200);
  await q.close();
}, 30_000);
