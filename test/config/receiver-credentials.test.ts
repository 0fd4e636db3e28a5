/**
 * A receiver's credential written so that no SET would carry it, or so that which one is sent is
 * unsaid: config issues at their place (found by a black-box walk of CONTRACT §3, `receivers`'
 * optional `authorization`). An empty one passed config check and the worker sent SETs with none.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig, type ConfigIssue } from '../../src/config/load.js';
import { isRiskstreamError } from '../../src/errors.js';

const ENV: NodeJS.ProcessEnv = {};
const dirs: string[] = [];

function mainWith(receiver: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'riskstream-credentials-'));
  dirs.push(dir);
  const text = `receivers:\n  - name: soc\n    kind: ssf\n    endpoint: https://receiver.example.com/events\n${receiver}`;
  writeFileSync(join(dir, 'riskstream.yaml'), text);
  writeFileSync(join(dir, 'behaviors.yaml'), 'brute_force:\n  risk_level: high\n');
  return dir;
}

function issuesOf(dir: string): string[] {
  try {
    loadConfig(dir, ENV);
  } catch (err) {
    if (isRiskstreamError(err, 'CONFIG_INVALID')) return (err.details!.issues as ConfigIssue[]).map((i) => `${i.line}:${i.col} ${i.message}`);
    throw err;
  }
  return [];
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('receiver credentials', () => {
  it.each([
    ['an empty authorization', '    authorization: ""\n', /^5:20 receivers\.0\.authorization: /],
    ['an empty authorization_env', '    authorization_env: ""\n', /^5:24 receivers\.0\.authorization_env: /],
    ['both authorization and authorization_env', '    authorization: Bearer abcdefgh\n    authorization_env: PATH\n', /^6:24 receivers\[0\] \(soc\): /],
  ])('%s is an issue at its place (it passed: SETs went out without it, or with one of the two)', (_, receiver, issue) => {
    expect(issuesOf(mainWith(receiver))).toEqual([expect.stringMatching(issue)]);
  });

  it('either one alone is read', () => {
    vi.stubEnv('RISKSTREAM_TEST_SOC_TOKEN', 'Bearer from-env');
    const fromFile = loadConfig(mainWith('    authorization: Bearer from-file\n'), ENV).receivers[0];
    const fromEnv = loadConfig(mainWith('    authorization_env: RISKSTREAM_TEST_SOC_TOKEN\n'), ENV).receivers[0];
    vi.unstubAllEnvs();
    expect([fromFile?.authorizationValue, fromEnv?.authorizationValue]).toEqual(['Bearer from-file', 'Bearer from-env']);
  });
});
