/**
 * A drain cut off by `shutdown_timeout` before its SET delivery step: close() rejects
 * SHUTDOWN_TIMEOUT, and nothing is sent afterwards. Before, the delivery worker was left running in
 * the process (its connections are its own): an embedding program that caught the rejection went
 * on sending SETs from a worker it had closed.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, expect, it } from 'vitest';
import { enqueueLevelChange, createSetQueue } from '../../src/ssf/queue.js';
import { holdNextReload } from '../helpers/held-reload.js';
import { startReceiver } from '../helpers/receiver.js';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, inProcessWorker } from '../helpers/worker.js';

const h = inProcessWorker('shutdown-terminate');
const rcv = await startReceiver();
afterAll(() => rcv.close());

it('after a drain past its deadline no SET is sent', async () => {
  const worker = await h.start({ shutdown_timeout: '1s', receivers: [{ name: 'r', kind: 'ssf', endpoint: rcv.url, audience: 'aud' }] });
  await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection('before@example.com'));
  await waitFor(() => rcv.received.length > 0 || undefined, { what: 'a SET delivered while running' });
  const delivered = rcv.received.length;

  // A reload held in its signing key's read (a FIFO): the drain waits for it past its deadline,
  // so the SET delivery step is never started.
  const held = holdNextReload(worker);
  const reload = worker.reload().catch(() => undefined);
  await sleep(200);
  await expect(worker.close()).rejects.toMatchObject({ code: 'SHUTDOWN_TIMEOUT' });

  // A SET queued now (by another worker) is not this closed one's to send.
  const q = createSetQueue(h.redis, h.keys);
  const [receiver] = worker.config().receivers;
  await enqueueLevelChange(
    q,
    {
      id: 'chg-after',
      user: 'after@example.com',
      version: 1,
      previous: 'low',
      current: 'high',
      behaviors: ['endpoint_detection'],
      reason: 'x',
      initiatingEntity: 'system',
      time: Date.now(),
    },
    [receiver!],
  );
  await sleep(3000);
  expect(rcv.received.length).toBe(delivered);
  expect(await q.queue.getWaitingCount()).toBe(1);
  await q.close();
  await held.release();
  await reload;
}, 60_000);
