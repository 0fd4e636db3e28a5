/**
 * A reload restarts SET delivery only when something it was started with changed (issuer, delivery,
 * ssf, signing, the keys): a restart waits for the sends in flight, so a receiver that hangs would
 * hold every receiver's deliveries (and the reload) up to its timeout.
 */
import { createServer, type Socket } from 'node:net';
import { expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, inProcessWorker } from '../helpers/worker.js';

const h = inProcessWorker('reload-delivery');

it('a reload that changes nothing SET delivery was started with (a behavior tuned) is not held up by a receiver that hangs', async () => {
  let connections = 0;
  const sockets: Socket[] = [];
  const hang = createServer((s) => {
    connections++;
    sockets.push(s);
    s.on('error', () => undefined);
  });
  await new Promise<void>((r) => hang.listen(0, '127.0.0.1', r));
  const port = (hang.address() as { port: number }).port;
  const worker = await h.start({
    receivers: [{ name: 'hung', kind: 'ssf', endpoint: `http://127.0.0.1:${port}/push`, audience: 'aud', timeout: '30s' }],
  });
  await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection('hung-receiver@example.com'));
  await waitFor(() => connections > 0 || undefined, { timeout: 15_000, what: 'a SET sent to the hung receiver' });
  // A restart of SET delivery would wait for that send (up to 30 s; the close is bounded at 15 s).
  const outcome = await Promise.race([worker.reload().then(() => 'reloaded'), new Promise((r) => setTimeout(() => r('held up'), 8000))]);
  expect(outcome).toBe('reloaded');
  sockets.forEach((s) => s.destroy());
  await worker.close();
  hang.close();
}, 60_000);
