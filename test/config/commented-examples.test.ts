import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { threshold } from '../../src/detect/threshold.js';
import { decodeObject } from '../../src/ingest/decode.js';
import type { CanonicalEvent } from '../../src/types.js';
import { run } from '../detect/fixtures.js';

/**
 * The behaviors config/behaviors.yaml ships commented out ("uncomment to use") are configuration
 * an admin copies as it is: each, uncommented, must load through the real loader, and the Okta
 * report-of-suspicious-activity one must fire on the record Okta logs.
 */
const ROOT = resolve(import.meta.dirname, '../..');
const shipped = readFileSync(join(ROOT, 'config', 'behaviors.yaml'), 'utf8');

/** Each commented-out top-level entry (a behavior, or `responses`) (`# id:` then `#   …` lines), uncommented. */
function commentedBehaviors(text: string): Map<string, string> {
  const out = new Map<string, string>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const head = /^# ([a-z_][a-z0-9_]*):\s*$/.exec(lines[i]!);
    if (!head) continue;
    const block = [`${head[1]}:`];
    while (i + 1 < lines.length && /^# {3}/.test(lines[i + 1]!)) block.push(lines[++i]!.slice(2));
    if (block.length > 1) out.set(head[1]!, block.join('\n'));
  }
  return out;
}

const dir = mkdtempSync(join(tmpdir(), 'riskstream-commented-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const examples = commentedBehaviors(shipped);

/** The shipped configuration with the given commented behaviors uncommented. */
function loadWith(blocks: string[]) {
  copyFileSync(join(ROOT, 'config', 'riskstream.yaml'), join(dir, 'riskstream.yaml'));
  writeFileSync(join(dir, 'behaviors.yaml'), `${shipped}\n${blocks.join('\n\n')}\n`);
  return loadConfig(dir, {});
}

describe("config/behaviors.yaml's commented-out behaviors", () => {
  it('are found (the ones the file says to uncomment)', () => {
    expect([...examples.keys()]).toEqual(
      expect.arrayContaining(['responses', 'policy_blocks', 'mfa_fraud_reported', 'okta_pushes_sent', 'okta_reported_suspicious']),
    );
  });

  it('each loads, uncommented, beside the shipped ones: the behaviors as enabled thresholds, the responses as rules', () => {
    const cfg = loadWith([...examples.values()]);
    for (const id of examples.keys()) {
      if (id === 'responses') continue;
      expect(cfg.behaviors.find((b) => b.id === id)).toMatchObject({ id, kind: 'threshold', enabled: true });
    }
    expect(cfg.responses).toHaveLength(2);
    expect(cfg.behaviors.some((b) => b.id === 'responses')).toBe(false);
  });

  it('okta_reported_suspicious fires on the record Okta logs when a user reports activity as not theirs', () => {
    const b = loadWith([examples.get('okta_reported_suspicious')!]).behaviors.find((x) => x.id === 'okta_reported_suspicious')!;
    expect(b.risk_level).toBe('high');
    const fixture = (name: string) => JSON.parse(readFileSync(join(ROOT, 'test', 'ingest', 'fixtures', name), 'utf8')) as unknown;
    const decode = (o: unknown): CanonicalEvent => {
      const r = decodeObject(o, undefined);
      if (!r.ok) throw new Error(r.reason);
      return r.event;
    };
    const report = decode(fixture('okta-report-suspicious.json'));
    expect(report).toMatchObject({ type: 'user.account.report_suspicious_activity_by_enduser', user: 'alice.ng@example.com' });
    const login = decode(fixture('okta-session-start.json'));
    const r = run(threshold, b.params as never, [login, report]);
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 1]);
    expect(run(threshold, b.params as never, [login]).hits).toEqual([]);
  });
});
