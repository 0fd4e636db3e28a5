/**
 * Configurations an admin writes that are valid by docs/interfaces.md §3 (found by a black-box walk
 * of CONTRACT §1 and §3): each loads, with the settings it gives.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, shippedBehaviorsFile } from '../../src/config/load.js';

const NO_ENV: NodeJS.ProcessEnv = {};
const dirs: string[] = [];

function configDir(files: Record<string, string>): string {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-legit-'));
  dirs.push(dir);
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('a riskstream.yaml is read as one', () => {
  it.each([
    ['sessions: {enabled: false}', 'sessions:\n  enabled: false\n'],
    ['log_level and sessions', 'log_level: debug\nsessions:\n  enabled: true\n  redact_claims: [ssn]\n'],
  ])('%s alone, with no behaviors.yaml beside it, is the main file (it was read as a behaviors file: unknown behavior "sessions")', (_, text) => {
    const dir = configDir({ 'riskstream.yaml': text });
    for (const path of [dir, join(dir, 'riskstream.yaml')]) {
      const c = loadConfig(path, NO_ENV);
      expect(c.mainFile).toBe(join(dir, 'riskstream.yaml'));
      expect(c.shippedBehaviors).toBe(true);
      expect(c.files).toEqual([join(dir, 'riskstream.yaml'), shippedBehaviorsFile()]);
      expect(c.raw.sessions.enabled).toBe(text.includes('enabled: true'));
    }
  });

  it('a behaviors document given as the main file is still read as behaviors', () => {
    const dir = configDir({ 'policy.yaml': 'brute_force:\n  risk_level: medium\n' });
    const c = loadConfig(join(dir, 'policy.yaml'), NO_ENV);
    expect(c.mainFile).toBeUndefined();
    expect(c.behaviors.map((b) => `${b.id}:${b.risk_level}`)).toEqual(['brute_force:medium']);
  });
});
