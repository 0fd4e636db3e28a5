/**
 * Every counting window includes both its ends (README, "How time works"): events `window` apart are
 * within one window, 1 ms more and they are not. One table over the detectors that count, with a
 * frozen clock.
 */
import { describe, expect, it } from 'vitest';
import { behaviorSchema, type BehaviorKind } from '../../src/config/behaviors-schema.js';
import { bruteForce } from '../../src/detect/brute-force.js';
import { dlpDetection } from '../../src/detect/dlp-detection.js';
import { highDlp } from '../../src/detect/high-dlp.js';
import { mfaFatigue } from '../../src/detect/mfa-fatigue.js';
import { newCountry } from '../../src/detect/new-country.js';
import { sprayVerdict, type IpFailure } from '../../src/detect/password-spray.js';
import { threshold } from '../../src/detect/threshold.js';
import type { Detector } from '../../src/detect/types.js';
import type { CanonicalEvent } from '../../src/types.js';
import { HOUR, MIN, T0, ev, run } from './fixtures.js';

const W = 10 * MIN;
const DAY = 24 * HOUR;
const parse = (kind: BehaviorKind, p: Record<string, unknown>) =>
  behaviorSchema(kind).parse({ risk_level: 'high', ...p }) as unknown as Record<string, unknown>;
const login = (at: number, outcome: string, country?: string): CanonicalEvent => ev('login', at, { outcome, ...(country ? { geo: { country } } : {}) });

/** [name, detector, params, events given the span between the first and the deciding one]. */
const cases: Array<[string, Detector<never, never>, Record<string, unknown>, (span: number) => CanonicalEvent[]]> = [
  [
    'threshold',
    threshold as never,
    parse('threshold', { kind: 'threshold', match: { type: 'access' }, count: 2, window: '10m' }),
    (s) => [ev('access', 0), ev('access', s)],
  ],
  [
    'dlp_detection',
    dlpDetection as never,
    parse('dlp_detection', { count: 2, window: '10m' }),
    (s) => [ev('dlp', 0, { severity: 'high' }), ev('dlp', s, { severity: 'high' })],
  ],
  [
    'mfa_fatigue (burst)',
    mfaFatigue as never,
    parse('mfa_fatigue', { count: 2, window: '10m' }),
    (s) => [ev('mfa', 0, { outcome: 'denied' }), ev('mfa', s, { outcome: 'denied' })],
  ],
  [
    'mfa_fatigue (approved)',
    mfaFatigue as never,
    parse('mfa_fatigue', { count: 1, window: '10m' }),
    (s) => [ev('mfa', 0, { outcome: 'denied' }), ev('mfa', s, { outcome: 'success' })],
  ],
  ['brute_force', bruteForce as never, parse('brute_force', { failures: 1, window: '10m' }), (s) => [login(0, 'failure'), login(s, 'success')]],
];

describe('counting windows include both ends', () => {
  it.each(cases)('%s: an event exactly `window` after the first is in its window; 1 ms later it is not', (_name, d, params, events) => {
    const last = (span: number) => run(d, params as never, events(span), { now: T0 + HOUR }).perEvent.at(-1)!;
    // The approved mfa case fires also for the burst of one; its last event is the approval.
    expect(last(W).length).toBeGreaterThan(0);
    expect(last(W + 1)).toEqual([]);
  });

  it('password_spray: failures exactly `window` before the success count; 1 ms earlier they do not', () => {
    const params = parse('password_spray', { users: 2, window: '10m' }) as never;
    const fails = (before: number): IpFailure[] => [
      [T0 - before, 'a@example.com', 'f1'],
      [T0, 'b@example.com', 'f2'],
    ];
    expect(sprayVerdict(fails(W), T0, params)).toBeDefined();
    expect(sprayVerdict(fails(W + 1), T0, params)).toBeUndefined();
  });

  it('new_country: a country seen exactly `baseline` before is known, 1 ms earlier it is not; `learning` counts exactly', () => {
    const params = parse('new_country', { baseline: '30d', learning: '7d' }) as never;
    const again = (gap: number) =>
      run(newCountry, params, [login(0, 'success', 'GB'), login(8 * DAY, 'success', 'FR'), login(8 * DAY + gap, 'success', 'FR')], {
        now: T0 + 60 * DAY,
      }).perEvent.at(-1)!;
    expect(again(30 * DAY)).toEqual([]);
    expect(again(30 * DAY + 1)).toHaveLength(1);
    const learned = (after: number) =>
      run(newCountry, params, [login(0, 'success', 'GB'), login(after, 'success', 'FR')], { now: T0 + 60 * DAY }).perEvent.at(-1)!;
    expect(learned(7 * DAY)).toHaveLength(1);
    expect(learned(7 * DAY - 1)).toEqual([]);
  });
});

/** [name, detector, params, an event at `at` ms after T0]: the counting detectors whose repeat firings hold off once per window. */
const repeating: Array<[string, Detector<never, never>, Record<string, unknown>, (at: number) => CanonicalEvent]> = [
  ['threshold', threshold as never, parse('threshold', { kind: 'threshold', match: { type: 'access' }, count: 2, window: '10m' }), (at) => ev('access', at)],
  ['dlp_detection', dlpDetection as never, parse('dlp_detection', { count: 2, window: '10m' }), (at) => ev('dlp', at, { severity: 'high' })],
  ['high_dlp', highDlp as never, parse('high_dlp', { count: 2, window: '10m' }), (at) => ev('dlp', at, { severity: 'high' })],
  ['mfa_fatigue (burst)', mfaFatigue as never, parse('mfa_fatigue', { count: 2, window: '10m' }), (at) => ev('mfa', at, { outcome: 'denied' })],
];

describe('repeat firings do not depend on arrival order', () => {
  it.each(repeating)('%s: an event arriving late within state.allowed_lateness makes as many hits as in event-time order', (_name, d, params, make) => {
    // Matches at 2, 10, 12 and 21 min: {2, 10} fires, then {12, 21} 11 min later.
    const [a, b, c, e] = [2, 10, 12, 21].map((m) => make(m * MIN));
    const hits = (order: CanonicalEvent[]) => run(d, params as never, order, { now: T0 + HOUR }).hits.length;
    expect(hits([a!, b!, c!, e!])).toBe(2);
    // The match at 10 arriving 2 min late: {2, 12} fires first.
    expect(hits([a!, c!, b!, e!])).toBe(2);
  });
});
