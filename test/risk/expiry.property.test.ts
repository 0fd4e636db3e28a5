/**
 * Property: a hit's expiry depends on its event and its behavior only — shuffling the arrival
 * order and splitting the input into batches processed at different (later) times never changes
 * any hit's expiry. Pure reducer, frozen clocks.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { behavior } from '../helpers/behavior-config.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { reduce, type ReduceInput } from '../../src/risk/reducer.js';
import { emptyState, type UserState } from '../../src/risk/state.js';

const USER = 'prop@example.com';
const MIN = 60_000;
const HOUR = 60 * MIN;
const T0 = Date.parse('2026-11-30T00:00:00Z');
const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * 24 * HOUR, allowedLateness: 10 * MIN };

const BEHAVIORS = [
  behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' }),
  behavior('dlp_detection', { enabled: true, risk_level: 'medium', expires_after: '2h', min_severity: 'high', count: 1 }),
  behavior('malicious_file', { enabled: true, risk_level: 'high', expires_after: 'never' }),
];

const eventArb = fc.record({
  kind: fc.constantFrom('endpoint', 'dlp', 'file'),
  at: fc.integer({ min: 0, max: 48 * 60 }).map((m) => m * MIN),
  severity: fc.constantFrom('low', 'high', 'critical'),
});

function input(e: { kind: string; at: number; severity: string }, i: number): ReduceInput {
  const base = { id: `ev-${i}`, user: USER, time: T0 + e.at };
  const event =
    e.kind === 'endpoint'
      ? { ...base, type: 'endpoint', device: { id: 'd-1' }, vendor: 'crowdstrike', detection: 'malware', severity: e.severity }
      : e.kind === 'dlp'
        ? { ...base, type: 'dlp', profile: 'pii', severity: e.severity, action: 'block', app: 'drive' }
        : { ...base, type: 'http', file: { verdict: 'malicious', name: 'x.exe' } };
  return { event, ref: { stream: 'rs:activity', id: `${T0}-${i}` } };
}

/** Hit expiry per triggering event id, over a run of batches. */
function run(batches: ReduceInput[][], nows: number[]): Map<string, number | null | undefined> {
  let state: UserState = emptyState(USER);
  const out = new Map<string, number | null | undefined>();
  batches.forEach((batch, k) => {
    const r = reduce(JSON.parse(JSON.stringify(state)) as UserState, batch, BEHAVIORS, nows[k]!, LIMITS);
    for (const h of r.hits) out.set(`${h.behavior}:${h.eventIds.join(',')}`, h.expiresAt);
    state = r.state;
  });
  return out;
}

describe('expiry is a function of event time (property)', () => {
  it('shuffling arrival order and batching never changes hits’ expiry', () => {
    fc.assert(
      fc.property(
        fc.array(eventArb, { minLength: 1, maxLength: 40 }),
        fc.integer({ min: 0, max: 2 ** 31 - 1 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 8 }),
        fc.array(fc.integer({ min: 0, max: 72 * 60 }), { minLength: 8, maxLength: 8 }),
        (events, seed, sizes, gaps) => {
          const inputs = events.map(input);
          const reference = run([inputs], [T0 + 48 * HOUR]);
          // The model: event time + expires_after (every event time here is at or before now).
          for (const [key, exp] of reference) {
            const [id, ev] = key.split(':') as [string, string];
            const b = BEHAVIORS.find((x) => x.id === id)!;
            const t = inputs.find((x) => x.event.id === ev)!.event.time;
            expect(exp).toBe(b.expires_after === null ? null : t + b.expires_after);
          }
          // A seeded Fisher–Yates shuffle, then batches of the given sizes, each processed later.
          const shuffled = [...inputs];
          let s = seed;
          for (let i = shuffled.length - 1; i > 0; i--) {
            s = (s * 1103515245 + 12345) % 2 ** 31;
            const j = s % (i + 1);
            [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
          }
          const batches: ReduceInput[][] = [];
          for (let i = 0, k = 0; i < shuffled.length; k++) {
            const n = sizes[k % sizes.length]!;
            batches.push(shuffled.slice(i, i + n));
            i += n;
          }
          let now = T0 + 48 * HOUR;
          const nows = batches.map((_, k) => (now += (gaps[k % gaps.length] ?? 0) * MIN));
          expect(run(batches, nows)).toEqual(reference);
        },
      ),
      { numRuns: 300, seed: 19 },
    );
  });
});
