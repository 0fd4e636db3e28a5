/**
 * Behavior parameters an admin can write that would leave a behavior on but unable to work (found
 * by a black-box review of behaviors.yaml): refused as `CONFIG_INVALID`, located at the key, like
 * a `0s` window, an empty `categories` or `compare` already were.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigIssue } from '../../src/config/load.js';
import { isRiskstreamError } from '../../src/errors.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** The error code and issues (`line:col path`) of loading a directory holding only `behaviors`. */
function load(behaviors: string): { code: string; issues: string[] } {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-params-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'behaviors.yaml'), behaviors);
  try {
    loadConfig(dir, {});
    return { code: 'OK', issues: [] };
  } catch (err) {
    if (!isRiskstreamError(err)) throw err;
    const issues = (err.details?.issues ?? []) as ConfigIssue[];
    // The setting named (its dotted path, the first word of the message), never the wording.
    return { code: err.code, issues: issues.map((i) => `${i.line}:${i.col} ${i.message.split(/:? /)[0]}`) };
  }
}

describe('behaviors.yaml: settings that would leave a behavior on but unable to work are refused', () => {
  it.each([
    // baseline 0s: no country is ever known, so every login after learning would be "from a new country".
    ['new_country baseline 0s', 'new_country:\n  risk_level: medium\n  baseline: 0s\n', '3:13 new_country.baseline'],
    // No verdict to match: never fires.
    ['malicious_file verdicts []', 'malicious_file:\n  risk_level: high\n  verdicts: []\n', '3:13 malicious_file.verdicts'],
    // No band: no score is ever in one.
    ['device_posture_score bands []', 'device_posture_score:\n  risk_level: high\n  bands: []\n', '3:10 device_posture_score.bands'],
    // No factor: only pushes without one count — IdPs name the factor, so no burst would ever count.
    ['mfa_fatigue factors []', 'mfa_fatigue:\n  risk_level: high\n  factors: []\n', '3:12 mfa_fatigue.factors'],
    // A blank group_by path names no field: every event would fall in one group, as without it (match refuses a blank path already).
    [
      'threshold group_by [" "]',
      'x:\n  kind: threshold\n  risk_level: low\n  match: {type: a}\n  count: 2\n  window: 1m\n  group_by: [ip, " "]\n',
      '7:18 x.group_by.1',
    ],
  ])('%s', (_, yaml, issue) => {
    expect(load(yaml)).toEqual({ code: 'CONFIG_INVALID', issues: [issue] });
  });

  it('what stays valid: learning 0s (flag from the second successful login on), an empty vendors list (any vendor)', () => {
    expect(load('new_country:\n  risk_level: medium\n  learning: 0s\n').code).toBe('OK');
    expect(load('endpoint_detection:\n  risk_level: high\n  vendors: []\n').code).toBe('OK');
  });
});

describe('behaviors.yaml: a duration written as a bare number', () => {
  it('is told what a duration looks like (600 could be seconds or milliseconds), as a malformed string is', () => {
    const dir = mkdtempSync(join(tmpdir(), 'riskstream-params-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'behaviors.yaml'), 'brute_force:\n  risk_level: high\n  window: 600\n');
    let issues: ConfigIssue[] = [];
    try {
      loadConfig(dir, {});
    } catch (err) {
      issues = (err as { details: { issues: ConfigIssue[] } }).details.issues;
    }
    expect(issues.map((i) => `${i.line}:${i.col} ${i.message}`)).toEqual(['3:11 brute_force.window: must be a duration like 30s, 5m, 24h or 7d']);
  });
});

describe('behaviors.yaml: a mistyped kind', () => {
  it('is reported at the kind, naming it — not as an unknown behavior id at the entry', () => {
    expect(load('vpn_logins:\n  kind: thresold\n  risk_level: high\n  match: {type: login}\n  count: 3\n  window: 5m\n')).toEqual({
      code: 'CONFIG_INVALID',
      issues: ['2:9 vpn_logins.kind'],
    });
  });
});

describe('behaviors.yaml: a behavior turned off', () => {
  it('needs no risk_level (turning it off must not ask what it would raise); turned on, it does', () => {
    expect(load('impossible_travel:\n  enabled: false\nmfa_fatigue:\n  enabled: false\n  count: 3\n').code).toBe('OK');
    const dir = mkdtempSync(join(tmpdir(), 'riskstream-params-'));
    dirs.push(dir);
    writeFileSync(join(dir, 'behaviors.yaml'), 'impossible_travel:\n  enabled: false\n');
    const off = loadConfig(dir, {}).behaviors.find((b) => b.id === 'impossible_travel');
    expect(off).toMatchObject({ enabled: false });
    expect(load('impossible_travel:\n  enabled: true\n')).toEqual({ code: 'CONFIG_INVALID', issues: ['1:1 impossible_travel.risk_level'] });
    // Its parameters are still checked, and a custom behavior still needs its own.
    expect(load('impossible_travel:\n  enabled: false\n  max_speed_kmh: fast\n').code).toBe('CONFIG_INVALID');
    expect(load('mine:\n  kind: threshold\n  enabled: false\n').code).toBe('CONFIG_INVALID');
  });
});
