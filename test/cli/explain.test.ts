import { describe, expect, it } from 'vitest';
import { explain } from '../../src/cli/commands/risk.js';
import type { UserRiskView } from '../../src/risk/service.js';

const view: UserRiskView = { user: 'alice@example.com', level: 'low', version: 2, changed_at: '2026-12-05T13:24:44.632Z', next_expiry: null, behaviors: [] };
/** Two change rows as GET /v1/users/{user}/events gives them, newest first. */
const recent = [
  { kind: 'change', previous: 'high', current: 'low', reason: 'verified by phone', initiatingEntity: 'admin', occurred_at: 'T2', processed_at: 'T2' },
  {
    kind: 'change',
    previous: 'low',
    current: 'high',
    reason: 'crowdstrike: malware (critical) on d1',
    initiatingEntity: 'system',
    occurred_at: 'T1',
    processed_at: 'T1b',
  },
];

describe('riskstream risk <user>: recent changes', () => {
  it("say why, and tell an admin's reset from riskstream's own change (as the API's rows do)", () => {
    const lines = explain(view, 0, recent).split('\n');
    const reset = lines.findIndex((l) => l.includes('change HIGH → LOW'));
    expect(lines[reset]).toBe('    change HIGH → LOW (reset by an administrator): occurred T2, processed T2');
    expect(lines[reset + 1]).toBe('      verified by phone');
    const raise = lines.findIndex((l) => l.includes('change LOW → HIGH'));
    expect(lines[raise]).toBe('    change LOW → HIGH: occurred T1, processed T1b');
    expect(lines[raise + 1]).toBe('      crowdstrike: malware (critical) on d1');
  });

  it('a reason holding a line feed stays on its line', () => {
    const text = explain(view, 0, [{ ...recent[0], reason: 'ok\n    change LOW → HIGH: forged' }]);
    expect(text.split('\n').filter((l) => /^\s*change /.test(l))).toHaveLength(1);
  });
});
