/**
 * Two reloads in a row (SIGHUP twice: a tool writing riskstream.yaml then behaviors.yaml, reloading
 * after each; an admin fixing a typo): one after the other, each from the files as they are when it
 * starts. Found by a review of hot reload: they ran at once, each against the configuration running
 * when it began, so the second one's audit entry listed the first one's changes as its own, and
 * whichever finished last — not the newest files — stayed in force.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { inProcessWorker } from '../helpers/worker.js';

const w = inProcessWorker('reload-order');

const behaviors = (dlp: string, edr: string) => ({
  dlp_detection: { risk_level: dlp, min_severity: 'high' },
  endpoint_detection: { risk_level: edr, min_severity: 'high' },
});

describe('reloads in a row', () => {
  it('each applies after the one before: its audit entry lists only its own changes, the newest files stay in force', async () => {
    const worker = await w.start({});
    const dir = worker.config().dir;
    writeFileSync(join(dir, 'behaviors.yaml'), stringify(behaviors('medium', 'high')));
    await worker.reload(dir);
    const before = (await w.redis.xlen(`${w.prefix}:audit`)) || 0;

    writeFileSync(join(dir, 'behaviors.yaml'), stringify(behaviors('high', 'high')));
    const first = worker.reload(dir);
    writeFileSync(join(dir, 'behaviors.yaml'), stringify(behaviors('high', 'low')));
    const second = worker.reload(dir);
    await Promise.all([first, second]);

    const entries = (await w.redis.xrange(`${w.prefix}:audit`, '-', '+')).slice(before);
    const reloads = entries
      .filter(([, f]) => f[f.indexOf('action') + 1] === 'config.reloaded')
      .map(([, f]) => (JSON.parse(f[f.indexOf('details') + 1]!) as { changes?: { behaviors?: { changed: Record<string, string[]> } } }).changes);
    expect(reloads).toHaveLength(2);
    // Each change audited once, by the reload that made it (the first may already find the second file).
    const named = reloads.flatMap((c) => Object.keys(c?.behaviors?.changed ?? {}));
    expect(named.sort()).toEqual(['dlp_detection', 'endpoint_detection']);
    expect(worker.config().behaviors.map((b) => `${b.id}:${b.risk_level}`)).toEqual(['dlp_detection:high', 'endpoint_detection:low']);
  }, 30_000);
});
