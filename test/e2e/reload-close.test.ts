/**
 * A reload under way when the worker closes (SIGTERM) is waited for by the close, and applies
 * nothing once the drain began: when close() resolves, the reload has settled, and nothing of it
 * runs on (no write to a closed connection, no reload counted or audited as refused).
 */
import { expect, it } from 'vitest';
import { holdNextReload } from '../helpers/held-reload.js';
import { inProcessWorker } from '../helpers/worker.js';

const h = inProcessWorker('reload-close');

it('close() waits for a reload in flight (its signing key file still being read, as from a slow mount) and that reload applies nothing after the drain began', async () => {
  const worker = await h.start({});
  // The same key, read through a FIFO: the reload waits in its read until the test writes it.
  const held = holdNextReload(worker);
  const audited = await h.redis.xlen(h.keys.auditStream);

  let reload: 'pending' | 'resolved' | string = 'pending';
  const run = worker.reload().then(
    () => (reload = 'resolved'),
    (err: unknown) => (reload = `rejected: ${(err as Error).message}`),
  );
  await new Promise((r) => setTimeout(r, 300)); // the reload reads the FIFO
  expect(reload).toBe('pending');
  let atClose: string | undefined;
  const closing = worker.close().then(() => (atClose = reload));
  // Either the close has waited (fixed) or it has already finished (the reload left running).
  await Promise.race([closing, new Promise((r) => setTimeout(r, 3000))]);
  await held.release();
  await closing;
  await run;
  expect(atClose).toBe('resolved');
  expect(reload).toBe('resolved');
  expect((await worker.metrics.render()).body).not.toMatch(/riskstream_config_reloads_total\{/);
  expect(await h.redis.xlen(h.keys.auditStream)).toBe(audited);
  expect(worker.config().raw.signing.key_file).toBe('keys/signing.pem');
}, 60_000);
