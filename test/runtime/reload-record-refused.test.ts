/**
 * A reload writes the behaviors it turns off and on to Redis (src/runtime/behaviors-turned.ts)
 * after its configuration loaded and before it applies. When Redis refuses that write (here: a
 * key of the wrong type at the epochs key, so the script's HSET fails with WRONGTYPE), the reload
 * is refused as one that does not load is: audited `config.reload_refused`, counted
 * `riskstream_config_reloads_total{result="refused"}`, the running configuration kept.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { expect, it } from 'vitest';
import type { WorkerHandle } from '../../src/runtime/worker.js';
import { inProcessWorker } from '../helpers/worker.js';
import { call } from '../api/helpers.js';

const h = inProcessWorker('reload-record-refused');
let worker: WorkerHandle;

const dlpLevel = (): string | undefined => worker.config().behaviors.find((b) => b.id === 'dlp_detection')?.risk_level;

it('Redis refusing the write of the behaviors turned off and on refuses the reload: audited, counted, the running configuration kept', async () => {
  worker = await h.start({});
  const running = worker.config();
  expect(dlpLevel()).toBe('medium');
  const file = join(running.dir, 'behaviors.yaml');
  const behaviors = parse(readFileSync(file, 'utf8')) as Record<string, { risk_level: string }>;
  behaviors.dlp_detection!.risk_level = 'high';
  writeFileSync(file, stringify(behaviors));
  await h.redis.set(h.keys.behaviorEpochs(), 'not a hash');
  try {
    await expect(worker.reload()).rejects.toMatchObject({ code: 'INTERNAL', message: expect.stringMatching(/WRONGTYPE/) });
  } finally {
    await h.redis.del(h.keys.behaviorEpochs());
  }
  expect(worker.config()).toBe(running);
  expect(dlpLevel()).toBe('medium');
  const audit = await call(worker.url, '/v1/audit?action=config.reload_refused', { token: running.adminTokens[0] });
  expect(audit.json.entries).toHaveLength(1);
  expect(audit.json.entries[0].details.issues).toEqual([expect.stringMatching(/behaviors.*WRONGTYPE/)]);
  const metrics = (await worker.metrics.render()).body;
  expect(metrics).toMatch(/riskstream_config_reloads_total\{result="refused"\} 1/);
  expect(metrics).not.toMatch(/riskstream_config_reloads_total\{result="applied"\}/);

  // Once Redis takes the write, the same files reload.
  await worker.reload();
  expect(dlpLevel()).toBe('high');
});
