import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { impossibleTravel } from '../../src/detect/impossible-travel.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import type { CanonicalEvent } from '../../src/types.js';
import { HOUR, LIMITS, MIN, PLACES, T0, pairIds, run, type Place } from './fixtures.js';

const impossibleTravelParams = behaviorSchema('impossible_travel');

const params = impossibleTravelParams.parse({
  enabled: true,
  risk_level: 'high',
  allow_networks: ['10.0.0.0/8'],
  allow_asns: [13335],
});
const places = Object.keys(PLACES) as Place[];

/** One login: where, when (ms after T0), from which IP, with what accuracy, valid geo or not. */
const loginArb = fc.record({
  place: fc.constantFrom(...places),
  at: fc.integer({ min: 0, max: 48 * 60 }).map((m) => m * MIN),
  ip: fc.constantFrom('198.51.100.1', '198.51.100.2', '203.0.113.7', '10.1.2.3', '2001:db8::5'),
  acc: fc.constantFrom(undefined, 0, 25, 400),
  asn: fc.constantFrom(undefined, 2856, 13335),
  broken: fc.constantFrom(false, false, false, false, true),
});

type LoginSpec = { place: Place; at: number; ip: string; acc: number | undefined; asn: number | undefined; broken: boolean };

function toEvents(specs: LoginSpec[]): CanonicalEvent[] {
  return specs.map((s, i) => ({
    type: 'login',
    id: `l${i}`,
    user: 'alice@example.com',
    time: T0 + s.at,
    outcome: 'success',
    ip: s.ip,
    geo: s.broken ? { lat: 123, lon: 0 } : { ...PLACES[s.place], ...(s.acc !== undefined ? { accuracy_km: s.acc } : {}) },
    ...(s.asn !== undefined ? { network: { asn: s.asn } } : {}),
  }));
}

const inEventTime = (events: CanonicalEvent[]) => [...events].sort((a, b) => a.time - b.time || a.id!.localeCompare(b.id!));
const now = T0 + 72 * HOUR;

describe('impossible_travel: arrival order never changes the hits', () => {
  it('for any arrival at most the allowed lateness late', () => {
    fc.assert(
      fc.property(
        fc.array(loginArb, { minLength: 2, maxLength: LIMITS.maxLogins }),
        fc.array(fc.integer({ min: 0, max: LIMITS.allowedLateness }), { minLength: LIMITS.maxLogins, maxLength: LIMITS.maxLogins }),
        (specs, jitter) => {
          const events = toEvents(specs);
          // Arrival order: by event time plus a delay of up to the allowed lateness, so each
          // login is at most that late behind every login that arrived before it.
          const arrival = events
            .map((e, i) => ({ e, key: e.time + jitter[i]! }))
            .sort((a, b) => a.key - b.key)
            .map((x) => x.e);
          const ordered = run(impossibleTravel, params, inEventTime(events), { now });
          const shuffled = run(impossibleTravel, params, arrival, { now });
          expect(pairIds(shuffled.hits)).toEqual(pairIds(ordered.hits));
          expect(shuffled.window).toEqual(ordered.window);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('for any permutation when the lateness allowance covers the whole span', () => {
    const limits: DetectorLimits = { ...LIMITS, allowedLateness: 72 * HOUR };
    fc.assert(
      fc.property(
        fc.array(loginArb, { minLength: 2, maxLength: LIMITS.maxLogins }).chain((specs) =>
          fc.tuple(
            fc.constant(specs),
            fc.shuffledSubarray(
              specs.map((_, i) => i),
              { minLength: specs.length, maxLength: specs.length },
            ),
          ),
        ),
        ([specs, order]) => {
          const events = toEvents(specs);
          const ordered = run(impossibleTravel, params, inEventTime(events), { now, limits });
          const shuffled = run(
            impossibleTravel,
            params,
            order.map((i) => events[i]!),
            { now, limits },
          );
          expect(pairIds(shuffled.hits)).toEqual(pairIds(ordered.hits));
          expect(shuffled.window).toEqual(ordered.window);
        },
      ),
      { numRuns: 500 },
    );
  });

  it('flags exactly the pairs the pair rule flags (reference model)', () => {
    fc.assert(
      fc.property(fc.array(loginArb, { minLength: 2, maxLength: 6 }), (specs) => {
        const events = toEvents(specs);
        const flagged = new Set(pairIds(run(impossibleTravel, params, events, { now, limits: { ...LIMITS, allowedLateness: 72 * HOUR } }).hits));
        // Reference: every pair alone, in a fresh window.
        const expected = new Set<string>();
        for (let i = 0; i < events.length; i++) {
          for (let j = i + 1; j < events.length; j++) {
            const r = run(impossibleTravel, params, [events[i]!, events[j]!], { now });
            for (const p of pairIds(r.hits)) expected.add(p);
          }
        }
        expect([...flagged].sort()).toEqual([...expected].sort());
      }),
      { numRuns: 300 },
    );
  });
});
