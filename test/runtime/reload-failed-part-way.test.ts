/**
 * A reload that fails once part of it applied (here: Redis refusing the write of the worker's
 * receivers entry, `<prefix>:receivers:on`, a key of the wrong type, after the configuration was put
 * in force) is reported as such: audited `config.reload_failed` with what failed, counted
 * `riskstream_config_reloads_total{result="failed"}`, the error marked `partly`; /readyz's config
 * reason points at the audit log, which now holds it. Found by a review of hot reload: such a
 * failure was neither audited nor counted, and the worker logged it as refused ("keeping the running
 * configuration") while the new behaviors were already in force.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { expect, it } from 'vitest';
import type { WorkerHandle } from '../../src/runtime/worker.js';
import { inProcessWorker } from '../helpers/worker.js';
import { call } from '../api/helpers.js';

const h = inProcessWorker('reload-failed-part-way');
let worker: WorkerHandle;

const dlpLevel = (): string | undefined => worker.config().behaviors.find((b) => b.id === 'dlp_detection')?.risk_level;

it('a reload failing after part of it applied: audited, counted failed, marked partly', async () => {
  worker = await h.start({});
  const running = worker.config();
  const file = join(running.dir, 'behaviors.yaml');
  const behaviors = parse(readFileSync(file, 'utf8')) as Record<string, { risk_level: string }>;
  behaviors.dlp_detection!.risk_level = 'high';
  writeFileSync(file, stringify(behaviors));
  await h.redis.del(h.keys.receiversOn);
  await h.redis.set(h.keys.receiversOn, 'not a hash');
  try {
    await expect(worker.reload()).rejects.toMatchObject({ code: 'INTERNAL', details: { partly: true } });
  } finally {
    await h.redis.del(h.keys.receiversOn);
  }
  expect(dlpLevel()).toBe('high'); // the behaviors had applied
  const audit = await call(worker.url, '/v1/audit?action=config.reload_failed', { token: running.adminTokens[0] });
  expect(audit.json.entries).toHaveLength(1);
  expect(audit.json.entries[0].details.issues).toHaveLength(1);
  const metrics = (await worker.metrics.render()).body;
  expect(metrics).toMatch(/riskstream_config_reloads_total\{result="failed"\} 1/);
  expect(metrics).not.toMatch(/riskstream_config_reloads_total\{result="refused"\}/);

  // Reloaded again once Redis takes the write: applied.
  await worker.reload();
  expect((await worker.metrics.render()).body).toMatch(/riskstream_config_reloads_total\{result="applied"\} 1/);
});
