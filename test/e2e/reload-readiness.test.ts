/**
 * `/readyz`'s `config` check says whether the worker runs the configuration its files last gave:
 * false (with the reason) after a reload was refused, true again once a reload applies. A worker
 * on its older configuration still serves, so it stays ready (200): a mistake pushed to every
 * worker must not take them all out of their load balancer.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { inProcessWorker } from '../helpers/worker.js';

const h = inProcessWorker('reload-readiness');

async function readyz(url: string): Promise<{ status: number; body: { status: string; checks: Record<string, boolean>; reasons?: Record<string, string> } }> {
  const r = await fetch(`${url}/readyz`);
  return { status: r.status, body: (await r.json()) as never };
}

it('a refused reload turns checks.config false (named in reasons.config, no issue text on the public route) until a reload applies; the worker stays ready', async () => {
  const worker = await h.start({});
  expect((await readyz(worker.url)).body.checks.config).toBe(true);
  const file = join(worker.config().dir, 'behaviors.yaml');
  const good = readFileSync(file, 'utf8');
  writeFileSync(file, 'impossible_travel: { enabled: maybe-SECRET-VALUE }\n');
  await expect(worker.reload()).rejects.toMatchObject({ code: 'CONFIG_INVALID' });
  const refused = await readyz(worker.url);
  expect(refused.status).toBe(200);
  expect(refused.body.status).toBe('ready');
  expect(refused.body.checks).toMatchObject({ config: false, redis: true, consumer_group: true, pipeline: true });
  expect(refused.body.reasons?.config).toMatch(/reload .*refused/);
  expect(JSON.stringify(refused.body)).not.toContain('SECRET');
  writeFileSync(file, good);
  await worker.reload();
  const applied = await readyz(worker.url);
  expect(applied.body.checks.config).toBe(true);
  expect(applied.body.reasons).toBeUndefined();
  await worker.close();
}, 60_000);
