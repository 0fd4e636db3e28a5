/**
 * Randomized (seeded, deterministic) property of window-counter's firings: whatever the arrival order
 * within state.allowed_lateness, the hits are as many as event-time order makes — and, where the
 * bounded state (entry cap, firings kept) forgets something, never more (a double alert).
 */
import { describe, expect, it } from 'vitest';
import { addEvent, type CountSpec, type SlidingCount } from '../../src/detect/window-counter.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { prng as rng } from '../helpers/prng.js';
import { MIN, T0 } from './fixtures.js';

const now = T0 + 24 * 60 * MIN;

/** Feeds events in the given order; returns the end times of the hits (sorted) and how many arrived late. */
function run(events: Array<[number, string]>, spec: CountSpec, limits: DetectorLimits): { hits: number[]; late: number } {
  let state: SlidingCount | undefined;
  const hits: number[] = [];
  let late = 0;
  for (const [t, id] of events) {
    const r = addEvent(state, t, id, spec, now, limits);
    state = JSON.parse(JSON.stringify(r.state)) as SlidingCount; // as stored in Redis
    if (r.late) late++;
    for (const c of r.crossings) hits.push(c.end);
  }
  return { hits: hits.sort((a, b) => a - b), late };
}

interface Case {
  spec: CountSpec;
  limits: DetectorLimits;
  events: Array<[number, string]>;
  arrival: Array<[number, string]>;
}

/** Events (sorted by time) and an arrival order where each arrives at most `allowedLateness` behind the newest. */
function gen(seed: number, o: { n: number; span: number; count: number; window: number; hold?: number; lateness: number; dupTimes?: boolean }): Case {
  const r = rng(seed);
  const times = Array.from({ length: o.n }, () => T0 + Math.floor(r() * o.span));
  if (o.dupTimes) for (let i = 1; i < times.length; i += 3) times[i] = times[i - 1]!;
  const events = times.sort((a, b) => a - b).map((t, i): [number, string] => [t, `e${i}`]);
  const keyed = events.map((e) => ({ e, k: e[0] + Math.floor(r() * o.lateness) }));
  const arrival = keyed.sort((a, b) => a.k - b.k).map((x) => x.e);
  const spec: CountSpec = { count: o.count, window: o.window, expires_after: o.hold ?? null };
  return { spec, limits: { maxLogins: 10, maxAge: 7 * 24 * 60 * MIN, allowedLateness: o.lateness }, events, arrival };
}

/** Hits in event-time order and in the arrival order (every event arriving in time). */
function both(c: Case, seed: number): { ref: number; got: number } {
  const ref = run(c.events, c.spec, c.limits);
  const got = run(c.arrival, c.spec, c.limits);
  expect(got.late, `seed ${seed}`).toBe(0);
  return { ref: ref.hits.length, got: got.hits.length };
}

describe('window-counter: arrival order vs event-time order (randomized, seeded)', () => {
  it('within the entry cap and the firings kept: as many hits as event-time order, none late', () => {
    for (let seed = 1; seed <= 400; seed++) {
      const r = rng(seed * 7919);
      const c = gen(seed, {
        n: 4 + Math.floor(r() * 20),
        span: 30 * MIN,
        count: 2 + Math.floor(r() * 3),
        window: (2 + Math.floor(r() * 8)) * MIN,
        hold: r() < 0.3 ? (1 + Math.floor(r() * 3)) * MIN : undefined,
        lateness: Math.floor(r() * 6) * MIN,
        dupTimes: r() < 0.3,
      });
      const { ref, got } = both(c, seed);
      expect(got, `seed ${seed}`).toBe(ref);
    }
  });

  it('beyond the entry cap or the firings kept (sustained volume, lateness of many windows): never more hits than event-time order', () => {
    for (let seed = 1; seed <= 300; seed++) {
      const r = rng(seed * 104729);
      const c = gen(seed, {
        n: 40 + Math.floor(r() * 160),
        span: 15 * MIN,
        count: 2 + Math.floor(r() * 15),
        window: MIN,
        hold: r() < 0.3 ? 30_000 : undefined,
        lateness: 10 * MIN,
      });
      const { ref, got } = both(c, seed);
      expect(got, `seed ${seed}`).toBeLessThanOrEqual(ref);
    }
  });
});
