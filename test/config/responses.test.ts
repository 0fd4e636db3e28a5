import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig, type ConfigIssue } from '../../src/config/load.js';
import { idleResponses } from '../../src/config/responses.js';
import { isRiskstreamError } from '../../src/errors.js';
import { runCli } from '../cli/run.js';

const dir = mkdtempSync(join(tmpdir(), 'riskstream-responses-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function write(name: string, text: string): string {
  const sub = mkdtempSync(join(dir, `${name}-`));
  writeFileSync(join(sub, 'behaviors.yaml'), text);
  return sub;
}

const GOOD = `session_hijack:
  risk_level: high
  compare: [device, country]
responses:
  - when: {level: high}
    revoke_sessions: true
  - when: {behavior: session_hijack}
    revoke_sessions: true
`;

const BAD = `session_hijack:
  risk_level: high
  compare: [device, ssid]
responses:
  - when: {level: low}
    revoke_sessions: true
  - when: {behavior: teleport}
    revoke_sessions: true
  - when: {level: high}
    revoke_sessions: true
    notify: true
  - when: {level: medium}
`;

describe('responses: in behaviors.yaml', () => {
  it('parses rules and session_hijack params; responses is not a behavior', () => {
    const c = loadConfig(write('good', GOOD), {});
    expect(c.responses).toEqual([
      { when: { level: 'high' }, revoke_sessions: true },
      { when: { behavior: 'session_hijack' }, revoke_sessions: true },
    ]);
    expect(c.behaviors.map((b) => b.id)).toEqual(['session_hijack']);
    expect(c.behaviors[0]!.params.compare).toEqual(['device', 'country']);
  });

  it('bad rules and params are CONFIG_INVALID issues located file:line:col; config check prints them', async () => {
    const d = write('bad', BAD);
    let issues: ConfigIssue[] = [];
    try {
      loadConfig(d, {});
    } catch (err) {
      expect(isRiskstreamError(err, 'CONFIG_INVALID')).toBe(true);
      issues = (err as { details: { issues: ConfigIssue[] } }).details.issues;
    }
    const text = issues.map((i) => `${i.line}:${i.col} ${i.message}`);
    expect(text).toEqual([
      expect.stringMatching(/^3:21 session_hijack\.compare\.1: must be one of device, asn, country/),
      expect.stringMatching(/^5:11 responses\.0\.when: must be \{level: medium\|high\} or \{behavior: <behavior id>\}/),
      '7:22 responses.1.when.behavior: no behavior "teleport" is configured',
      '11:5 unknown key "responses.2.notify"',
      // A required key missing in an entry: the entry's line (it was the line of `responses:`).
      expect.stringMatching(/^12:5 responses\.3\.revoke_sessions: /),
    ]);
    // A rule naming a behavior whose own entry has a mistake: only that mistake (found by a review: the
    // rule was also reported as naming "no behavior … configured", sending the admin after a typo).
    const broken = GOOD.replace('risk_level: high', 'risk_level: severe');
    let only: ConfigIssue[] = [];
    try {
      loadConfig(write('broken', broken), {});
    } catch (err) {
      only = (err as { details: { issues: ConfigIssue[] } }).details.issues;
    }
    expect(only.map((i) => `${i.line}:${i.col} ${i.message.split(':')[0]}`)).toEqual(['2:15 session_hijack.risk_level']);
    const r = await runCli(['config', 'check', '--config', d]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`${d}/behaviors.yaml:7:22 responses.1.when.behavior: no behavior "teleport" is configured`);
  });
});

describe('rules that can never fire', () => {
  it('are named by idleResponses: a behavior not enabled, a level no enabled behavior reaches', () => {
    const behaviors = [
      { id: 'session_hijack', enabled: false, risk_level: 'high' },
      { id: 'impossible_travel', enabled: true, risk_level: 'medium' },
    ];
    const rules = [
      { when: { behavior: 'session_hijack' }, revoke_sessions: true },
      { when: { behavior: 'impossible_travel' }, revoke_sessions: true },
      { when: { level: 'high' as const }, revoke_sessions: true },
      { when: { level: 'medium' as const }, revoke_sessions: true },
    ];
    expect(idleResponses(rules, behaviors)).toEqual([
      'responses.0: behavior "session_hijack" is not enabled: this rule never fires',
      'responses.2: no enabled behavior reaches level high: this rule never fires',
    ]);
    expect(idleResponses(rules.slice(1, 2), behaviors)).toEqual([]);
  });

  it('config check passes (exit 0) and notes them', async () => {
    const d = write('idle', GOOD.replace('session_hijack:\n', 'session_hijack:\n  enabled: false\n'));
    const r = await runCli(['config', 'check', '--config', d]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('note: responses.0: no enabled behavior reaches level high: this rule never fires');
    expect(r.stdout).toContain('note: responses.1: behavior "session_hijack" is not enabled: this rule never fires');
  });
});
