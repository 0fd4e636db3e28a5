/**
 * Turning a behavior off and on again (a reload with `enabled: false`, later `true`), through the
 * pure reducer with a frozen clock. Found by a black-box review: an off behavior kept what it had
 * remembered, frozen while it saw nothing, so new_country turned on again after more than its
 * `baseline` flagged every user's first login — from their usual country — as a new country.
 */
import { describe, expect, it } from 'vitest';
import { behavior } from '../helpers/behavior-config.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { reduce, type ReduceInput } from '../../src/risk/reducer.js';
import { emptyState, type UserState } from '../../src/risk/state.js';

const USER = 'carol@example.com';
const DAY = 86_400_000;
const T0 = Date.parse('2026-09-01T08:00:00Z');
const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * DAY, allowedLateness: 600_000 };

const config = (enabled: boolean) => [behavior('new_country', { enabled, risk_level: 'medium', baseline: '30d', learning: '7d' })];

let seq = 0;
const homeLogin = (day: number): ReduceInput => ({
  event: { type: 'login', id: `l-${day}`, user: USER, time: T0 + day * DAY, outcome: 'success', ip: '81.2.69.142', geo: { country: 'GB' } },
  ref: { stream: 'rs:login', id: `${T0 + day * DAY}-${++seq}` },
});

/** The user logs in from home every day from `from` to `to` (inclusive), under `enabled`; the state after each step goes through JSON, as through Redis. */
function days(state: UserState, from: number, to: number, enabled: boolean): { state: UserState; hits: number } {
  let hits = 0;
  for (let d = from; d <= to; d++) {
    const r = reduce(state, [homeLogin(d)], config(enabled), T0 + d * DAY + 1000, LIMITS);
    hits += r.hits.length;
    state = JSON.parse(JSON.stringify(r.state)) as UserState;
  }
  return { state, hits };
}

describe('a behavior turned off, then on again', () => {
  it('new_country off for longer than its baseline: the usual country is not flagged when it is on again', () => {
    const learned = days(emptyState(USER), 0, 20, true);
    expect(learned.hits).toBe(0);
    const off = days(learned.state, 21, 70, false);
    expect(off.hits).toBe(0);
    // On again: the user goes on logging in from home.
    const on = days(off.state, 71, 90, true);
    expect(on.hits).toBe(0);
    expect(on.state.level).toBe('low');
  });

  it('what it remembered goes while it is off (at the user’s next event); its active hit stays until it expires', () => {
    const learned = days(emptyState(USER), 0, 20, true);
    const trip: ReduceInput = { ...homeLogin(21), event: { ...homeLogin(21).event, id: 'trip', geo: { country: 'FR' } } };
    const flagged = reduce(learned.state, [trip], config(true), T0 + 21 * DAY + 1000, LIMITS);
    expect(flagged.state.level).toBe('medium');
    // Turned off an hour later: the window goes with the user's next event, the hit stays.
    const off = reduce(
      flagged.state,
      [{ ...homeLogin(21), event: { ...homeLogin(21).event, id: 'later', time: T0 + 21 * DAY + 3_600_000 } }],
      config(false),
      T0 + 21 * DAY + 3_601_000,
      LIMITS,
    );
    expect(off.state.windows.new_country).toBeUndefined();
    expect(off.state.behaviors.new_country).toBeDefined();
    expect(off.state.level).toBe('medium');
  });
});
