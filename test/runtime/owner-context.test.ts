/**
 * An owner step's apply context is built from the configuration its behaviors' epochs were read for.
 * Found by a review of hot reload: the context took the configuration running when the epochs' read
 * came back, so a reload applied meanwhile (two in quick succession: the first one's read still in
 * flight when the second applied) judged a batch with the newer behaviors and the epochs read
 * before that reload recorded them — a behavior it turned on again, or whose counting rule it
 * changed, kept counting what it had counted before for that batch.
 */
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '../../src/config/load.js';
import type { BehaviorEpochs } from '../../src/risk/behavior-epochs.js';
import type { Followed } from '../../src/redis/followed.js';
import { ownerContext } from '../../src/runtime/apply-context.js';
import { stringify } from 'yaml';
import { removeTempConfigs, tempConfig } from '../config/temp-config.js';

afterAll(removeTempConfigs);
const dirOf = (behaviors: Record<string, unknown>): string => tempConfig({ 'riskstream.yaml': '{}\n', 'behaviors.yaml': stringify(behaviors) });

describe('ownerContext', () => {
  it('a reload applied while the epochs are read: the step keeps the configuration they were read for', async () => {
    const a = loadConfig(dirOf({ dlp_detection: { risk_level: 'medium' } }));
    const b = loadConfig(dirOf({ dlp_detection: { risk_level: 'high' }, endpoint_detection: { risk_level: 'high' } }));
    let running: Config = a;
    let release!: (e: BehaviorEpochs) => void;
    const asked: object[] = [];
    const epochs: Followed<BehaviorEpochs> = {
      current: (config) => {
        asked.push(config);
        return new Promise((r) => (release = r));
      },
      known: () => ({ current: 0, on: {} }),
    };
    const step = ownerContext(() => running, epochs)();
    running = b; // the reload applies while the read is in flight
    release({ current: 3, on: { dlp_detection: 1 } });
    const ctx = await step;
    expect(asked).toEqual([a.behaviors]);
    expect(ctx.behaviors).toBe(a.behaviors);
    expect(ctx.epochs).toEqual({ current: 3, on: { dlp_detection: 1 } });
  });
});
