/**
 * Configurations an admin writes (found by a black-box walk of CONTRACT §1 and §3): each valid one
 * by docs/interfaces.md §3 loads with the settings it gives; a file it would never read is an issue.
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

describe('an empty value (every key or entry under it commented out) is the default', () => {
  it('riskstream.yaml sections, lists and maps left empty load at their defaults (they were refused: expected object, received null)', () => {
    const text = [
      'http:',
      '  # port: 8080',
      'geoip:',
      '  # mmdb: /var/lib/GeoIP/GeoLite2-City.mmdb',
      'receivers:',
      '  # - name: okta',
      'sessions:',
      '  redact_claims:',
      '  max_per_user: 5',
      'ssf:',
      '  allowed_endpoints:',
      'mapping:',
      '  streams:',
      '',
    ].join('\n');
    const c = loadConfig(configDir({ 'riskstream.yaml': text, 'behaviors.yaml': 'brute_force:\n  risk_level: high\n' }), NO_ENV);
    expect(c.raw.http.port).toBe(8080);
    expect(c.raw.geoip.mmdb).toBeUndefined();
    expect(c.receivers).toEqual([]);
    expect(c.raw.sessions).toMatchObject({ redact_claims: [], max_per_user: 5 });
    expect(c.raw.ssf.allowed_endpoints).toEqual([]);
    expect(c.raw.mapping.streams).toEqual({});
  });

  it("a behavior's list left empty is its default; a required one or a scalar left empty is still an issue", () => {
    const text = [
      'impossible_travel:',
      '  risk_level: high',
      '  allow_networks:',
      '    # - 10.0.0.0/8',
      'session_hijack:',
      '  risk_level: high',
      '  compare:',
      '',
    ].join('\n');
    const c = loadConfig(configDir({ 'riskstream.yaml': '{}\n', 'behaviors.yaml': text }), NO_ENV);
    expect(c.behaviors.find((b) => b.id === 'impossible_travel')?.params).toMatchObject({ allow_networks: [] });
    expect(c.behaviors.find((b) => b.id === 'session_hijack')?.params).toMatchObject({ compare: ['device', 'asn', 'country'] });
    const broken = configDir({
      'riskstream.yaml': 'issuer:\n',
      'behaviors.yaml': 't:\n  kind: threshold\n  risk_level: low\n  match:\n  count: 1\n  window: 1m\n',
    });
    expect(() => loadConfig(broken, NO_ENV)).toThrow(/riskstream\.yaml:1:\d+ issuer: [^]*behaviors\.yaml:4:\d+ t\.match: /);
  });
});

describe('a riskstream.yml or behaviors.yml beside the config is never read', () => {
  it('is an issue at that file (it was skipped: every setting its default, the shipped behaviors instead of its own, config check ok)', () => {
    const dir = configDir({ 'riskstream.yml': 'redis:\n  prefix: mine\n', 'behaviors.yml': 'brute_force:\n  risk_level: high\n' });
    expect(() => loadConfig(dir, NO_ENV)).toThrow(/riskstream\.yml:1:1 [^]*behaviors\.yml:1:1 /);
    // The main file named on the command line is read; the behaviors.yml beside it is still not.
    expect(() => loadConfig(join(dir, 'riskstream.yml'), NO_ENV)).toThrow(/^[^\n]*behaviors\.yml:1:1 [^\n]*$/);
    // Beside the .yaml it would read, another file is no concern.
    const both = configDir({ 'riskstream.yaml': '{}\n', 'behaviors.yaml': 'brute_force:\n  risk_level: high\n', 'behaviors.yml': 'x: 1\n' });
    expect(loadConfig(both, NO_ENV).behaviors.map((b) => b.id)).toEqual(['brute_force']);
  });
});
