/**
 * impossible_travel keeps a window it wrote (sorted, packed) as it is and rebuilds any other one:
 * an unsorted window, the older object form, entries packed otherwise (trailing nulls, an empty
 * id, a zero accuracy) or malformed ones give exactly what the same logins give packed and sorted.
 */
import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { impossibleTravel, travelLogins, type TravelWindow } from '../../src/detect/impossible-travel.js';
import { byTime, packLogin, unpackLogin, type StoredLogin } from '../../src/detect/travel.js';
import { HOUR, LIMITS, MIN, T0, login, run } from './fixtures.js';

const params = behaviorSchema('impossible_travel').parse({ enabled: true, risk_level: 'high' });
const NOW = T0 + 30 * 24 * HOUR;

describe('impossible_travel: the stored window', () => {
  it('gives the same hits and window whatever form the stored logins take', () => {
    const stored = run(impossibleTravel, params, [
      login('London', 0),
      login('Paris', 3 * HOUR),
      login('London', 5 * HOUR),
      login('NewYork', 20 * HOUR),
    ]).window!;
    expect(stored).toHaveLength(4);
    const [a, b, c, d] = stored as StoredLogin[];
    const variants: unknown[] = [
      [...stored].reverse(),
      stored.map((t) => unpackLogin(t)),
      [a, [null], b, 'junk', c, d],
      [[a![0], a![1], a![2], a![3] ?? null, null], b, c, d],
      [[a![0], a![1], a![2], '', 0, a![5] ?? null], b, c, d],
      [d, c, b, a],
    ];
    for (const window of variants) {
      const canonical = travelLogins(window).sort(byTime).map(packLogin);
      for (const event of [login('Sydney', 21 * HOUR), login('London', 2 * HOUR), login('NewYork', 20 * HOUR + MIN)]) {
        const input = { event, eventId: event.id! };
        const got = impossibleTravel.detect(window as TravelWindow, input, params, NOW, LIMITS);
        const want = impossibleTravel.detect(canonical, input, params, NOW, LIMITS);
        expect(got).toEqual(want);
      }
    }
  });
});
