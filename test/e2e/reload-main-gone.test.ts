/**
 * A reload finding no riskstream.yaml in the configuration directory (deleted, or an editor saving
 * by rename caught between the two). Found by a black-box audit: the reload applied every default —
 * the file's admin tokens, receivers and issuer dropped, the admin API locked out —, where a
 * behaviors.yaml gone or empty is refused (docs/operations.md, "Reloading the configuration"). An
 * empty riskstream.yaml (a save cut short) did the same.
 */
import { renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { inProcessWorker } from '../helpers/worker.js';

const w = inProcessWorker('reload-main-gone');

describe('a reload with riskstream.yaml gone or empty', () => {
  it('is refused (audited, the issue named); the running tokens, receivers and issuer stay', async () => {
    const worker = await w.start({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: 'http://127.0.0.1:9/events' }] });
    const { dir, mainFile, adminTokens } = worker.config();
    renameSync(join(dir, 'riskstream.yaml'), join(dir, 'riskstream.yaml.saving'));
    await expect(worker.reload(dir)).rejects.toThrow(/the configuration file is gone/);

    expect(worker.config().mainFile).toBe(mainFile);
    expect(worker.config().receivers.map((r) => r.name)).toEqual(['rx']);
    expect(worker.config().raw.issuer).toBe('https://riskstream.test');
    const whoami = await fetch(`${worker.url}/v1/whoami`, { headers: { authorization: `Bearer ${adminTokens[0]}` } });
    expect(whoami.status).toBe(200);
    const refused = (await w.redis.xrange(`${w.prefix}:audit`, '-', '+')).filter(([, f]) => f.includes('config.reload_refused'));
    expect(refused).toHaveLength(1);
    expect(refused[0]![1].join(' ')).toContain(`${mainFile}:1:1 the configuration file is gone`);

    // Left empty (a save cut short): refused too.
    writeFileSync(join(dir, 'riskstream.yaml'), '# saving\n');
    await expect(worker.reload(dir)).rejects.toThrow(/the configuration file is empty/);
    expect(worker.config().adminTokens).toEqual(adminTokens);
    expect(worker.config().receivers.map((r) => r.name)).toEqual(['rx']);

    // Back in place: the next reload applies.
    renameSync(join(dir, 'riskstream.yaml.saving'), join(dir, 'riskstream.yaml'));
    await worker.reload(dir);
    expect(worker.config().mainFile).toBe(mainFile);
    expect(worker.config().adminTokens).toEqual(adminTokens);
  }, 30_000);
});
