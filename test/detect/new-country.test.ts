import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { MAX_COUNTRIES, newCountry } from '../../src/detect/new-country.js';
import { HOUR, T0, login, run, type Place } from './fixtures.js';

const DAY = 24 * HOUR;
const schema = behaviorSchema('new_country');
const params = schema.parse({ risk_level: 'medium', baseline: '30d', learning: '7d' });
const NOW = T0 + 60 * DAY;

describe('new_country', () => {
  it('defaults: baseline 30d, learning 7d', () => {
    expect(schema.parse({ risk_level: 'medium' })).toMatchObject({ baseline: 30 * DAY, learning: 7 * DAY });
  });

  it('after learning, a login from a country not seen in the baseline: one hit', () => {
    const paris = login('Paris', 8 * DAY);
    const r = run(newCountry, params, [login('London', 0), login('Berlin', 3 * DAY), login('London', 7 * DAY), paris], { now: NOW });
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 1]);
    expect(r.hits[0]).toMatchObject({
      time: T0 + 8 * DAY,
      summary: 'Login from Paris, FR, a country not seen in 30d; known: GB, DE',
      evidence: {
        country: 'FR',
        city: 'Paris',
        ip: paris.ip,
        known_countries: ['GB', 'DE'],
        baseline: '30d',
        learning: '7d',
        history_since: new Date(T0).toISOString(),
      },
      eventIds: [paris.id],
    });
  });

  it('near misses: learning not over, a country seen while learning, a failed login, a login without a country', () => {
    // Day 6: still learning (even from a new country).
    expect(run(newCountry, params, [login('London', 0), login('Paris', 6 * DAY)], { now: NOW }).hits).toEqual([]);
    // Paris was seen while learning: it counts as seen.
    expect(run(newCountry, params, [login('London', 0), login('Paris', DAY), login('Paris', 20 * DAY)], { now: NOW }).hits).toEqual([]);
    expect(run(newCountry, params, [login('London', 0), login('Tokyo', 8 * DAY, { outcome: 'failure' })], { now: NOW }).hits).toEqual([]);
    expect(run(newCountry, params, [login('London', 0), login('London', 8 * DAY, { geo: {} })], { now: NOW }).hits).toEqual([]);
  });

  it('history counts from the first login whatever its outcome (CONTRACT §3); only successes make a country known, and the first success is never flagged', () => {
    // A failed login 10 days ago starts the history: after a success from London, Paris is new.
    const r = run(newCountry, params, [login('London', 0, { outcome: 'failure' }), login('London', 9 * DAY), login('Paris', 10 * DAY)], { now: NOW });
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 1]);
    expect(r.hits[0]!.evidence).toMatchObject({ known_countries: ['GB'], history_since: new Date(T0).toISOString() });
    // Failed attempts (perhaps not the user's) teach no country, and the first success is compared with nothing.
    expect(run(newCountry, params, [login('Tokyo', 0, { outcome: 'failure' }), login('Paris', 10 * DAY)], { now: NOW }).hits).toEqual([]);
    expect(
      run(newCountry, params, [login('Tokyo', 0, { outcome: 'failure' }), login('Paris', 10 * DAY), login('Tokyo', 11 * DAY)], { now: NOW }).perEvent.map(
        (h) => h.length,
      ),
    ).toEqual([0, 0, 1]);
  });

  it('successful logins without a country teach none either: the first located one is compared with nothing (GeoIP turned on for a running deployment)', () => {
    // Weeks of logins nothing located (no geo, no GeoIP), then the first located one: not flagged, it becomes known.
    const unlocated = [0, 3, 9, 20].map((d) => login('London', d * DAY, { geo: {} }));
    const r = run(newCountry, params, [...unlocated, login('London', 21 * DAY), login('London', 22 * DAY), login('Paris', 23 * DAY)], { now: NOW });
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 0, 0, 1]);
    expect(r.hits[0]!.evidence).toMatchObject({ country: 'FR', known_countries: ['GB'], history_since: new Date(T0).toISOString() });
  });

  it('a country last seen longer ago than the baseline is new again', () => {
    const r = run(
      newCountry,
      params,
      [login('London', 0), login('Paris', DAY), login('London', 20 * DAY), login('London', 35 * DAY), login('Paris', 40 * DAY)],
      { now: NOW },
    );
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 1]);
  });

  it('out of order: of two logins from a new country exactly one is flagged, whatever the order', () => {
    const history = [login('London', 0), login('London', 8 * DAY)];
    const a = login('Tokyo', 9 * DAY);
    const b = login('Tokyo', 9 * DAY + 5 * 60_000);
    const inOrder = run(newCountry, params, [...history, a, b], { now: NOW });
    const reversed = run(newCountry, params, [...history, b, a], { now: NOW });
    expect(inOrder.hits).toHaveLength(1);
    expect(reversed.hits).toHaveLength(1);
    expect(reversed.window).toEqual(inOrder.window);
  });

  it('replay: the same login again is not flagged twice; history stays bounded', () => {
    const events = [login('London', 0), login('Paris', 8 * DAY)];
    const first = run(newCountry, params, events, { now: NOW });
    expect(first.hits).toHaveLength(1);
    expect(run(newCountry, params, events, { now: NOW, window: first.window }).hits).toEqual([]);
    const codes = Array.from({ length: 100 }, (_, i) => `C${i}`);
    const many = run(
      newCountry,
      params,
      codes.map((c, i) => login('London', i * HOUR, { geo: { country: c } })),
      { now: NOW },
    );
    expect(Object.keys(many.window!.c)).toHaveLength(MAX_COUNTRIES);
  });

  // Design-level (reported, not fixed): near the end of `learning` or of `baseline`, a login arriving
  // within state.allowed_lateness but after a later one changes the verdict — the later login is judged
  // (and its hit emitted) before the earlier one that would have taught its country arrives. Order-free
  // verdicts there need a verdict held for allowed_lateness (or a retraction), not a cheap fix.
  it.skip('arrival order within allowed_lateness never changes a verdict at the learning or baseline boundary', () => {
    const at = (cases: Array<[Place, number]>) => cases.map(([place, t]) => login(place, t));
    const flagged = (events: ReturnType<typeof at>, order: number[]) =>
      run(
        newCountry,
        params,
        order.map((i) => events[i]!),
        { now: NOW },
      ).hits.length;
    // Learning ends at 7d: Paris 1 min before (seen while learning) and 1 min after (known then).
    const learning = at([
      ['London', 0],
      ['Paris', 7 * DAY - 60_000],
      ['Paris', 7 * DAY + 60_000],
    ]);
    // London last seen 30d + 1 min before the last login, but also 30d - 1 min before it.
    const baseline = at([
      ['London', 0],
      ['Paris', 8 * DAY],
      ['London', 30 * DAY - 60_000],
      ['London', 30 * DAY + 60_000],
    ]);
    expect(flagged(learning, [0, 2, 1])).toBe(flagged(learning, [0, 1, 2]));
    expect(flagged(baseline, [0, 1, 3, 2])).toBe(flagged(baseline, [0, 1, 2, 3]));
  });
});
