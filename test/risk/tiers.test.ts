import { describe, expect, it } from 'vitest';
import { mergeTiers, tiersOf, withTiers, type Tier } from '../../src/risk/tiers.js';
import type { ActiveBehavior } from '../../src/types.js';
import { emptyState } from '../../src/risk/state.js';
import { expire } from '../../src/risk/reducer.js';
import { viewOf } from '../../src/risk/service.js';
import { explain } from '../../src/cli/commands/risk.js';

const t = (level: Tier['level'], expiresAt: number | null): Tier => ({ level, expiresAt });

describe('mergeTiers', () => {
  it.each<[string, Tier[], Tier[]]>([
    ['one hit', [t('high', 100)], [t('high', 100)]],
    ['same level: the later expiry', [t('medium', 100), t('medium', 200)], [t('medium', 200)]],
    ['same level: never wins', [t('medium', 100), t('medium', null)], [t('medium', null)]],
    ['a lower hit outlasting a higher one is kept below it', [t('high', 100), t('medium', 200)], [t('high', 100), t('medium', 200)]],
    ['in any order', [t('medium', 200), t('high', 100)], [t('high', 100), t('medium', 200)]],
    ['a lower hit expiring first never shows', [t('high', 200), t('medium', 100)], [t('high', 200)]],
    ['a lower hit expiring with the higher one never shows', [t('high', 200), t('low', 200)], [t('high', 200)]],
    ['a higher level that never expires hides the rest', [t('high', null), t('medium', 500)], [t('high', null)]],
    ['a lower level that never expires outlasts everything', [t('high', 100), t('low', null)], [t('high', 100), t('low', null)]],
    ['three levels, each outlasting the one above', [t('low', 300), t('high', 100), t('medium', 200)], [t('high', 100), t('medium', 200), t('low', 300)]],
    ['three levels, the middle one hidden', [t('low', 300), t('high', 250), t('medium', 200)], [t('high', 250), t('low', 300)]],
  ])('%s', (_, tiers, want) => {
    expect(mergeTiers(tiers)).toEqual(want);
  });
});

describe('tiersOf / withTiers', () => {
  const b: ActiveBehavior = { level: 'high', firstAt: 1, lastAt: 2, expiresAt: 100, hits: 2, summary: 's', evidence: {} };
  it('round trip; no `lower` when there is one tier', () => {
    const two = withTiers(b, [t('high', 100), t('medium', 200)]);
    expect(two).toMatchObject({ level: 'high', expiresAt: 100, lower: [t('medium', 200)] });
    expect(tiersOf(two)).toEqual([t('high', 100), t('medium', 200)]);
    const one = withTiers(two, [t('medium', 200)]);
    expect(one).toMatchObject({ level: 'medium', expiresAt: 200, hits: 2 });
    expect('lower' in one).toBe(false);
  });
});

describe('as the API and the CLI show it', () => {
  it('`lower` in the view and "then [level] until" in the explanation; absent with one tier', () => {
    const state = {
      ...emptyState('ivy@example.com'),
      level: 'high' as const,
      version: 1,
      behaviors: {
        device_posture_score: {
          level: 'high' as const,
          firstAt: 0,
          lastAt: 60_000,
          expiresAt: 120_000,
          lower: [t('medium', 180_000)],
          hits: 2,
          summary: 'score 60',
          evidence: {},
        },
        dlp_detection: { level: 'medium' as const, firstAt: 0, lastAt: 0, expiresAt: 90_000, hits: 1, summary: 'dlp', evidence: {} },
      },
    };
    const v = viewOf(state);
    expect(v.behaviors.map((b) => [b.id, b.level, b.expires_at, b.lower])).toEqual([
      ['device_posture_score', 'high', '1970-01-01T00:02:00.000Z', [{ level: 'medium', expires_at: '1970-01-01T00:03:00.000Z' }]],
      ['dlp_detection', 'medium', '1970-01-01T00:01:30.000Z', undefined],
    ]);
    expect('lower' in v.behaviors[1]!).toBe(false);
    expect(explain(v, 0)).toContain('then [medium] until 1970-01-01T00:03:00.000Z');
  });
});

describe('expire: the event time of a partial fall', () => {
  it('HIGH → MEDIUM happened when the last tier above MEDIUM expired, not when lower ones did', () => {
    const b = (level: Tier['level'], expiresAt: number, lower?: Tier[]): ActiveBehavior => ({
      level,
      firstAt: 0,
      lastAt: 0,
      expiresAt,
      ...(lower ? { lower } : {}),
      hits: 1,
      summary: '',
      evidence: {},
    });
    const state = {
      ...emptyState('u'),
      level: 'high' as const,
      version: 1,
      behaviors: { a: b('high', 100, [t('medium', 400)]), b: b('medium', 200), c: b('low', 250) },
    };
    const r = expire(state, 300);
    expect(r.changes.map((c) => [c.previous, c.current, c.occurredAt])).toEqual([['high', 'medium', 100]]);
    expect(Object.keys(r.state.behaviors)).toEqual(['a']);
    expect(expire(r.state, 400).changes.map((c) => [c.previous, c.current, c.occurredAt])).toEqual([['medium', 'low', 400]]);
  });
});

describe('explain: values from data stay on their line', () => {
  it('a line feed in a summary is escaped, so it cannot forge a line of the explanation', () => {
    const state = {
      ...emptyState('mallory@example.com'),
      level: 'high' as const,
      version: 1,
      behaviors: {
        endpoint_detection: {
          level: 'high' as const,
          firstAt: 0,
          lastAt: 0,
          expiresAt: 60_000,
          hits: 1,
          summary: 'pup\n  (reset by admin: no action needed)',
          evidence: {},
        },
      },
    };
    const text = explain(viewOf(state), 0);
    expect(text).toContain('pup\\u000a  (reset by admin');
    expect(text.split('\n').some((l) => l.startsWith('  (reset by admin'))).toBe(false);
  });
});
