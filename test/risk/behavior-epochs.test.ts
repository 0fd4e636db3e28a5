/**
 * A behavior turned off and on again with no event of the user in between (a reload off then on, a
 * worker restarted while it was off): what it remembered goes at the user's next event, by the
 * behaviors' on-epochs (src/risk/behavior-epochs.ts), through the pure reducer with a frozen clock.
 * Found by a review: the windows were dropped only by an event applied while it was off, so
 * brute_force's 4 failures from before it was turned off counted after it was on again.
 */
import { FLOAT32_OPTIONS, Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { behavior } from '../helpers/behavior-config.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { reduce, type ReduceInput } from '../../src/risk/reducer.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { decodeState, encodeState } from '../../src/risk/state-codec.js';
import type { BehaviorEpochs } from '../../src/risk/behavior-epochs.js';

const USER = 'dave@example.com';
const MIN = 60_000;
const T0 = Date.parse('2026-10-01T08:00:00Z');
const NOW = T0 + 60 * MIN; // frozen processing time
const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * 86_400_000, allowedLateness: 3_600_000 };
const BEHAVIORS = [
  behavior('brute_force', { enabled: true, risk_level: 'high', failures: 5, window: '30m' }),
  behavior('new_country', { enabled: true, risk_level: 'medium', baseline: '30d', learning: '0s' }),
];

let seq = 0;
const login = (minute: number, outcome: 'success' | 'failure'): ReduceInput => ({
  event: { type: 'login', id: `e-${++seq}`, user: USER, time: T0 + minute * MIN, outcome, ip: '81.2.69.142', geo: { country: 'GB' } },
  ref: { stream: 'rs:login', id: `${T0 + minute * MIN}-${seq}` },
});

/** Applies `inputs` one at a time (as the owner does), the state through its stored bytes after each. */
function apply(state: UserState, inputs: ReduceInput[], epochs?: BehaviorEpochs): { state: UserState; hits: string[] } {
  const hits: string[] = [];
  for (const input of inputs) {
    const r = reduce(state, [input], BEHAVIORS, NOW, LIMITS, [], epochs);
    hits.push(...r.hits.map((h) => h.behavior));
    state = decodeState(encodeState(r.state), USER)!;
  }
  return { state, hits };
}

/** 4 failures (brute_force needs 5 before a success), a login that trained new_country, with no epoch known. */
const before = apply(
  emptyState(USER),
  [0, 1, 2, 3].map((m) => login(m, 'failure')),
);

/** One row: the state's stored epoch, the epochs known, whether brute_force then flags, whose windows go. */
interface Row {
  name: string;
  stateEpoch: number | undefined;
  on: Record<string, number>;
  current: number;
  flagged: boolean;
  dropped: string[];
}

describe('behaviors turned on again since the state was applied (on-epochs)', () => {
  it.each<Row>([
    {
      name: 'state epoch older than brute_force’s on-epoch: its window goes',
      stateEpoch: 2,
      on: { brute_force: 3, new_country: 0 },
      current: 3,
      flagged: false,
      dropped: ['brute_force'],
    },
    { name: 'state epoch equal to its on-epoch: kept', stateEpoch: 3, on: { brute_force: 3, new_country: 0 }, current: 3, flagged: true, dropped: [] },
    { name: 'state epoch newer than every on-epoch: kept', stateEpoch: 5, on: { brute_force: 3, new_country: 1 }, current: 5, flagged: true, dropped: [] },
    {
      name: 'both turned on again: both go',
      stateEpoch: 1,
      on: { brute_force: 4, new_country: 2 },
      current: 4,
      flagged: false,
      dropped: ['brute_force', 'new_country'],
    },
    {
      name: 'a state stored without an epoch (before): reads as 0, turned on again at 1 → goes',
      stateEpoch: undefined,
      on: { brute_force: 1 },
      current: 1,
      flagged: false,
      dropped: ['brute_force'],
    },
    { name: 'no behavior ever turned on again (epoch 0): kept, no epoch stored', stateEpoch: undefined, on: {}, current: 0, flagged: true, dropped: [] },
  ])('$name', ({ stateEpoch, on, current, flagged, dropped }) => {
    const start: UserState = { ...before.state };
    if (stateEpoch === undefined) delete start.epoch;
    else start.epoch = stateEpoch;
    const epochs: BehaviorEpochs = { current, on };
    // One more failure: each window is what a fresh state makes of it (dropped) or what the state remembered makes of it (kept).
    const next = login(10, 'failure');
    const one = apply(start, [next], epochs);
    const fresh = apply(emptyState(USER), [next]).state.windows;
    const remembered = apply(before.state, [next]).state.windows;
    for (const b of BEHAVIORS) expect(one.state.windows[b.id], b.id).toEqual((dropped.includes(b.id) ? fresh : remembered)[b.id]);
    for (const b of BEHAVIORS) expect(fresh[b.id], b.id).not.toEqual(remembered[b.id]);
    expect(one.state.epoch).toBe(current > (stateEpoch ?? 0) ? current : stateEpoch);
    const r = apply(one.state, [login(11, 'success')], epochs);
    expect(r.hits.includes('brute_force')).toBe(flagged);
  });

  it('recorded hits and the level stay; new failures after it is on again still flag', () => {
    const flagged = apply(before.state, [login(4, 'failure'), login(5, 'success')]);
    expect(flagged.hits).toEqual(['brute_force']);
    const epochs: BehaviorEpochs = { current: 1, on: { brute_force: 1 } };
    const next = apply(flagged.state, [login(10, 'failure')], epochs);
    expect(next.state.level).toBe('high');
    expect(next.state.behaviors.brute_force).toEqual(flagged.state.behaviors.brute_force);
    const again = apply(next.state, [11, 12, 13, 14].map((m) => login(m, 'failure')).concat(login(15, 'success')), epochs);
    expect(again.hits).toEqual(['brute_force']);
    expect(again.state.behaviors.brute_force!.hits).toBe(2);
  });

  it('the epoch is stored in a few bytes, and a state stored without it reads as before', () => {
    const plain = encodeState(before.state);
    const withEpoch = encodeState({ ...before.state, epoch: 7 });
    expect(withEpoch.length - plain.length).toBeLessThanOrEqual(8);
    expect(decodeState(withEpoch, USER)!.epoch).toBe(7);
    expect(decodeState(plain, USER)!.epoch).toBeUndefined();
    // The same bytes as msgpackr's own packing of the stored object (its fallback path).
    const { user: _user, ...stored } = { ...before.state, epoch: 7 };
    expect(withEpoch.equals(new Packr({ useRecords: false, moreTypes: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT }).pack(stored))).toBe(true);
  });
});
