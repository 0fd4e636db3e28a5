import { describe, expect, it } from 'vitest';
import { addEvent, isSlidingCount, type CountSpec, type SlidingCount } from '../../src/detect/window-counter.js';
import { LIMITS, MIN, T0 } from './fixtures.js';

const spec: CountSpec = { count: 3, window: MIN };
const now = T0 + 60 * MIN;

/** Feeds (offset ms, id) pairs; returns the end times of the crossings. */
function feed(events: Array<[number, string]>, s = spec, limits = LIMITS): { fired: number[]; state: SlidingCount | undefined } {
  let state: SlidingCount | undefined;
  const fired: number[] = [];
  for (const [at, id] of events) {
    const r = addEvent(state, T0 + at, id, s, now, limits);
    state = r.state;
    for (const c of r.crossings) fired.push(c.end - T0);
  }
  return { fired, state };
}

describe('window-counter', () => {
  it.each([
    {
      name: 'below the count',
      events: [
        [0, 'a'],
        [10_000, 'b'],
      ],
      fired: [],
    },
    {
      name: 'reaching the count fires at the completing event',
      events: [
        [0, 'a'],
        [10_000, 'b'],
        [20_000, 'c'],
      ],
      fired: [20_000],
    },
    {
      name: 'windows are inclusive (span exactly the window)',
      events: [
        [0, 'a'],
        [30_000, 'b'],
        [60_000, 'c'],
      ],
      fired: [60_000],
    },
    {
      name: 'too spread out',
      events: [
        [0, 'a'],
        [30_000, 'b'],
        [60_001, 'c'],
      ],
      fired: [],
    },
    {
      name: 'fires once while above the count',
      events: [
        [0, 'a'],
        [1_000, 'b'],
        [2_000, 'c'],
        [3_000, 'd'],
        [4_000, 'e'],
      ],
      fired: [2_000],
    },
    {
      name: 'a late event completes an earlier window',
      events: [
        [0, 'a'],
        [20_000, 'c'],
        [10_000, 'b'],
      ],
      fired: [20_000],
    },
    {
      name: 'a late event completes a window ending after it',
      events: [
        [100_000, 'b'],
        [150_000, 'c'],
        [90_000, 'a'],
      ],
      fired: [150_000],
    },
    {
      name: 'the earliest window a late event completes is reported',
      events: [
        [50_000, 'b'],
        [70_000, 'c'],
        [0, 'a'],
        [40_000, 'x'],
      ],
      fired: [50_000],
    },
    {
      name: 'repeated (time, id) is ignored',
      events: [
        [0, 'a'],
        [0, 'a'],
        [0, 'a'],
      ],
      fired: [],
    },
    {
      name: 'same time, different ids all count',
      events: [
        [0, 'a'],
        [0, 'b'],
        [0, 'c'],
      ],
      fired: [0],
    },
    {
      name: 'later than the allowed lateness: dropped',
      events: [
        [20 * MIN, 'a'],
        [20 * MIN + 1, 'b'],
        [5 * MIN, 'c'],
      ],
      fired: [],
    },
  ] as Array<{ name: string; events: Array<[number, string]>; fired: number[] }>)('$name', ({ events, fired }) => {
    expect(feed(events).fired).toEqual(fired);
  });

  it('sustained activity fires about once per window length', () => {
    const events = Array.from({ length: 45 }, (_, i) => [i * 4_000, `e${i}`] as [number, string]);
    expect(feed(events, { count: 15, window: MIN }).fired).toEqual([56_000, 116_000, 176_000]);
  });

  it('a firing silences the same window only while its hit counts: expires_after shorter than the window', () => {
    const long = { count: 3, window: 30 * MIN };
    const burst = (at: number, tag: string): Array<[number, string]> => [0, 1000, 2000].map((d, i) => [at + d, `${tag}${i}`] as [number, string]);
    // A backfilled burst (its hit expired on arrival), then live activity 10 minutes later.
    const events = [...burst(0, 'old'), ...burst(10 * MIN, 'new')];
    expect(feed(events, long).fired).toEqual([2000]); // as before: one firing per window length
    expect(feed(events, { ...long, expires_after: 5 * MIN }).fired).toEqual([2000, 10 * MIN]);
    expect(feed(events, { ...long, expires_after: null }).fired).toEqual([2000]); // never expires: the window rules
  });

  it('an id seen again is ignored whatever its time (a retry of an event without a time of its own)', () => {
    expect(
      feed([
        [0, 'a'],
        [10_000, 'b'],
        [20_000, 'a'],
        [30_000, 'b'],
      ]).fired,
    ).toEqual([]);
  });

  it('crossing evidence lists the window’s events', () => {
    let state: SlidingCount | undefined;
    let last;
    for (const [at, id] of [
      [0, 'a'],
      [5_000, 'b'],
      [9_000, 'c'],
    ] as const) {
      last = addEvent(state, T0 + at, id, spec, now, LIMITS);
      state = last.state;
    }
    expect(last!.crossings).toEqual([{ count: 3, start: T0, end: T0 + 9_000, ids: ['a', 'b', 'c'] }]);
  });

  it('keeps state bounded and JSON-safe', () => {
    const events = Array.from({ length: 5_000 }, (_, i) => [i * 100, `id-${i}`] as [number, string]);
    const { state } = feed(events, { count: 5, window: MIN });
    expect(state!.e.length).toBeLessThanOrEqual(32);
    expect(state!.f.length).toBeLessThanOrEqual(32);
    expect(isSlidingCount(JSON.parse(JSON.stringify(state)))).toBe(true);
  });

  it('prunes entries older than window + lateness behind the watermark', () => {
    const { state } = feed([
      [0, 'a'],
      [30 * MIN, 'b'],
    ]);
    expect(state!.e.map((x) => x[1])).toEqual(['b']);
  });

  it('a window longer than limits.maxAge (state.login_max_age, the age of remembered logins) counts its whole window', () => {
    const DAY = 24 * 60 * MIN;
    const long = { count: 3, window: 14 * DAY };
    const later = T0 + 11 * DAY;
    let state: SlidingCount | undefined;
    const fired: number[] = [];
    for (const at of [0, 8 * DAY, 10 * DAY]) {
      const r = addEvent(state, T0 + at, `e${at}`, long, later, LIMITS); // LIMITS.maxAge: 7 days
      state = r.state;
      for (const c of r.crossings) fired.push(c.end - T0);
    }
    expect(fired).toEqual([10 * DAY]);
  });

  it('a burst stamped in the future (a skewed clock) silences the window only from now, as its hit counts: a real burst after that hit expired fires', () => {
    const DAY = 24 * 60 * MIN;
    const s: CountSpec = { count: 3, window: 10 * MIN, expires_after: 60 * MIN };
    // [event time, processing time, id]: three pushes a day ahead, processed at T0 (their hit counts until T0 + 1h) …
    const steps: Array<[number, number, string]> = [
      [DAY, 0, 'f1'],
      [DAY + MIN, 0, 'f2'],
      [DAY + 2 * MIN, 0, 'f3'],
      [DAY + 3 * MIN, MIN, 'f4'], // … the same skewed burst going on: silenced (one firing per window length)
      // … and a day later a real burst, in the window of the skewed one: the skewed hit stopped counting long ago.
      [DAY + 5 * MIN, DAY + 5 * MIN, 'r1'],
      [DAY + 6 * MIN, DAY + 6 * MIN, 'r2'],
      [DAY + 7 * MIN, DAY + 7 * MIN, 'r3'],
    ];
    let state: SlidingCount | undefined;
    const fired: number[] = [];
    for (const [at, processed, id] of steps) {
      const r = addEvent(state, T0 + at, id, s, T0 + processed, LIMITS);
      state = r.state;
      for (const c of r.crossings) fired.push(c.end - T0);
    }
    expect(fired).toEqual([DAY + 2 * MIN, DAY + 5 * MIN]);
  });

  // Events stamped in the future (a skewed agent, up to ingest.max_future ahead) hold at most half of a
  // full cap (bounded-keep.ts), so they never push every real event out: a real burst still fires.
  it('events stamped in the future never push real ones out of the capped state: a real burst still fires', () => {
    const s: CountSpec = { count: 3, window: 10 * MIN, expires_after: 60 * MIN };
    let state: SlidingCount | undefined;
    const fired: number[] = [];
    // 40 events of a skewed agent, a day ahead, 30 min apart (none in a window with another) …
    for (let i = 0; i < 40; i++) {
      const r = addEvent(state, T0 + 24 * 60 * MIN + i * 30 * MIN, `skewed-${i}`, s, T0, LIMITS);
      state = r.state;
      for (const c of r.crossings) fired.push(c.end - T0);
    }
    // … then a real burst of three, live.
    for (let i = 0; i < 3; i++) {
      const r = addEvent(state, T0 + i * MIN, `real-${i}`, s, T0 + i * MIN, LIMITS);
      state = r.state;
      for (const c of r.crossings) fired.push(c.end - T0);
    }
    expect(fired).toEqual([2 * MIN]);
  });

  // The firings are event-time order's whatever the arrival order: a late event completing an earlier
  // window than one that fired moves that firing (and the next ones), rather than silence the next window.
  it('arrival order within allowed_lateness never changes how many times sustained matches fire', () => {
    const s = { count: 2, window: 10 * MIN };
    const at = (mins: number[]): Array<[number, string]> => mins.map((m, i) => [m * MIN, `m${m}-${i}`]);
    // In event-time order: {2, 10} fires at 10, then {12, 21} at 21 (11 min later): two firings.
    expect(feed(at([2, 10, 12, 21]), s).fired).toEqual([10 * MIN, 21 * MIN]);
    // The event at 10 arriving 2 min late: {2, 12} fired at 12; the firing moves to 10, so 21 fires too.
    expect(feed(at([2, 12, 10, 21]), s).fired).toEqual([12 * MIN, 21 * MIN]);
    // One late event completing two windows `window` apart fires twice, as in event-time order.
    const three = { count: 3, window: 10 * MIN };
    expect(feed(at([2, 4, 4, 14]), three).fired).toEqual([4 * MIN, 14 * MIN]);
    expect(feed(at([2, 4, 14, 4]), three).fired).toEqual([4 * MIN, 14 * MIN]);
  });

  it('a late event behind more firings than a handful (lateness of many windows) fires no window again', () => {
    // Two matches each minute for 11 minutes, count 2 in 1m: 11 firings; a match 10½ min behind the newest.
    const s = { count: 2, window: MIN };
    const pairs = Array.from({ length: 11 }, (_, m): Array<[number, string]> => [
      [m * MIN, `a${m}`],
      [m * MIN + 1_000, `b${m}`],
    ]).flat();
    const late: [number, string] = [30_000, 'late'];
    const inOrder = feed([...pairs.slice(0, 2), late, ...pairs.slice(2)], s).fired;
    expect(feed([...pairs, late], s).fired).toHaveLength(inOrder.length);
  });

  it('ignores a corrupt state', () => {
    const r = addEvent({ e: 'x', f: null } as unknown as SlidingCount, T0, 'a', { count: 1, window: MIN }, now, LIMITS);
    expect(r.crossings[0]?.count).toBe(1);
  });
});
