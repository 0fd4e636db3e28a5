import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compareIds, emptyState, nextExpiry, type UserState } from '../../src/risk/state.js';

describe('compareIds (stream entry ids, ms-seq)', () => {
  it.each([
    ['1700000000000-0', '1700000000000-0', 0],
    ['1700000000000-1', '1700000000000-0', 1],
    ['1700000000000-9', '1700000000000-10', -1],
    ['1700000000001-0', '1700000000000-99', 1],
    ['999-0', '1000-0', -1],
    ['1000', '1000-0', 0],
    ['1000', '1000-1', -1],
    ['1000-2', '1000', 1],
  ])('%s vs %s → %i', (a, b, want) => {
    expect(compareIds(a, b)).toBe(want);
    expect(compareIds(b, a)).toBe(-want || 0);
  });
});

describe('nextExpiry', () => {
  it('is the earliest expiry among active behaviors, null when none expires', () => {
    const s = emptyState('u');
    expect(nextExpiry(s)).toBeNull();
    const b = (expiresAt: number | null) => ({ level: 'high', firstAt: 0, lastAt: 0, expiresAt, hits: 1, summary: '', evidence: {} }) as never;
    s.behaviors = { a: b(null), c: b(3000), d: b(2000) };
    expect(nextExpiry(s)).toBe(2000);
  });
});

describe('nextExpiry (read in place) is the earliest expiry, as over Object.values', () => {
  it('matches the Object.values form for random behaviors', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.option(fc.integer({ min: -5, max: 5 }))), (exps) => {
        const behaviors = Object.fromEntries(Object.entries(exps).map(([k, e]) => [k, { expiresAt: e }]));
        const state = { ...emptyState('u'), behaviors } as unknown as UserState;
        let want: number | null = null;
        for (const b of Object.values(state.behaviors)) if (b.expiresAt !== null && (want === null || b.expiresAt < want)) want = b.expiresAt;
        expect(nextExpiry(state)).toBe(want);
      }),
    );
    expect(() => nextExpiry({ ...emptyState('u'), behaviors: null } as unknown as UserState)).toThrow(TypeError);
  });
});
