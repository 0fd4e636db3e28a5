/**
 * A receiver's credential written so that no SET would carry it, or so that which one is sent is
 * unsaid: config issues at their place (found by a black-box walk of CONTRACT §3, `receivers`'
 * optional `authorization`). An empty one passed config check and the worker sent SETs with none.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { issueLines, removeTempConfigs, tempConfig } from './temp-config.js';

const ENV: NodeJS.ProcessEnv = {};

function mainWith(receiver: string): string {
  const text = `receivers:\n  - name: soc\n    kind: ssf\n    endpoint: https://receiver.example.com/events\n${receiver}`;
  return join(tempConfig({ 'riskstream.yaml': text, 'behaviors.yaml': 'brute_force:\n  risk_level: high\n' }), 'riskstream.yaml');
}

const issuesOf = (file: string): string[] => issueLines(file, ENV);

afterEach(removeTempConfigs);

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
