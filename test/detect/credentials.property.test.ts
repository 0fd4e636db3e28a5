import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { bruteForce } from '../../src/detect/brute-force.js';
import { mfaFatigue } from '../../src/detect/mfa-fatigue.js';
import { newCountry } from '../../src/detect/new-country.js';
import type { CanonicalEvent } from '../../src/types.js';
import { MIN, T0, run } from './fixtures.js';

/**
 * Arrival order never changes which successes brute_force and mfa_fatigue flag, nor how many
 * new-country logins are flagged: every event here lies within the allowed lateness (10 min) of
 * the others, so none is dropped. brute_force is checked against its definition directly.
 */
const seconds = fc.integer({ min: 0, max: 9 * 60 });
const step = fc.record({ at: seconds, ok: fc.boolean(), ip: fc.constantFrom('203.0.113.1', '203.0.113.2', '') });
const shuffled = <T>(xs: T[], keys: number[]): T[] =>
  xs
    .map((x, i) => [x, keys[i % keys.length]! + i / 1000] as const)
    .sort((a, b) => a[1] - b[1])
    .map(([x]) => x);
const order = fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { minLength: 1, maxLength: 40 });

const bf = behaviorSchema('brute_force').parse({ risk_level: 'high', failures: 4, window: '3m' });
const mfa = behaviorSchema('mfa_fatigue').parse({ risk_level: 'high', count: 4, window: '3m' });
const nc = behaviorSchema('new_country').parse({ risk_level: 'medium', baseline: '30d', learning: '1m' });

function events(
  steps: Array<{ at: number; ok: boolean; ip: string }>,
  make: (s: { at: number; ok: boolean; ip: string }, i: number) => CanonicalEvent,
): CanonicalEvent[] {
  return steps.map(make);
}

describe('credential detectors are order-free (property)', () => {
  it('brute_force flags exactly the successes with ≥ failures failed logins in the window before them', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), order, (steps, keys) => {
        const evs = events(steps, (s, i) => ({
          type: 'login',
          id: `e${i}`,
          user: 'u',
          time: T0 + s.at * 1000,
          outcome: s.ok ? 'success' : 'failure',
          ...(s.ip ? { ip: s.ip } : {}),
        }));
        const expected = evs
          .filter((e) => e.outcome === 'success')
          .filter((s) => evs.filter((f) => f.outcome === 'failure' && f.time <= s.time && f.time >= s.time - bf.window).length >= bf.failures)
          .map((s) => s.id)
          .sort();
        const flagged = (xs: CanonicalEvent[]) =>
          run(bruteForce, bf, xs, { now: T0 + 10 * MIN })
            .hits.map((h) => String(h.evidence.success && (h.evidence.success as { id: string }).id))
            .sort();
        expect(flagged(evs)).toEqual(expected);
        expect(flagged(shuffled(evs, keys))).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  it('mfa_fatigue flags the same approvals in any order', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 30 }), order, (steps, keys) => {
        const evs = events(steps, (s, i) => ({
          type: 'mfa',
          id: `m${i}`,
          user: 'u',
          time: T0 + s.at * 1000,
          outcome: s.ok ? 'success' : s.ip ? 'denied' : 'timeout',
        }));
        const approvals = (xs: CanonicalEvent[]) =>
          run(mfaFatigue, mfa, xs, { now: T0 + 10 * MIN })
            .hits.filter((h) => h.evidence.approved === true)
            .map((h) => String(h.evidence.approval_id))
            .sort();
        expect(approvals(shuffled(evs, keys))).toEqual(approvals(evs));
      }),
      { numRuns: 300 },
    );
  });

  it('new_country flags as many logins in any order', () => {
    const country = fc.constantFrom('GB', 'FR', 'DE', 'JP');
    fc.assert(
      fc.property(fc.array(fc.record({ at: seconds, country }), { minLength: 1, maxLength: 30 }), order, (steps, keys) => {
        const first: CanonicalEvent = { type: 'login', id: 'first', user: 'u', time: T0 - 60 * MIN, geo: { country: 'GB' } };
        const evs = steps.map((s, i): CanonicalEvent => ({ type: 'login', id: `l${i}`, user: 'u', time: T0 + s.at * 1000, geo: { country: s.country } }));
        const count = (xs: CanonicalEvent[]) => run(newCountry, nc, [first, ...xs], { now: T0 + 10 * MIN }).hits.length;
        expect(count(shuffled(evs, keys))).toBe(count(evs));
      }),
      { numRuns: 300 },
    );
  });
});
