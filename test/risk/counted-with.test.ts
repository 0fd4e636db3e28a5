/**
 * A counting behavior applied with other parameters deciding which events it counts (a threshold's
 * `match`, mfa_fatigue's `factors`: a reload, a restart) starts afresh for the user; one whose count,
 * window or level changed, or whose match lists the same fields in another order, goes on counting;
 * a window stored before its digest was kept is kept. The pure reducer, the state through its
 * stored bytes after each event.
 */
import { describe, expect, it } from 'vitest';
import { behavior } from '../helpers/behavior-config.js';
import type { BehaviorConfig } from '../../src/config/behaviors-schema.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { reduce, type ReduceInput } from '../../src/risk/reducer.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { decodeState, encodeState } from '../../src/risk/state-codec.js';
import { COUNTED_WITH } from '../../src/risk/counted-with.js';

const USER = 'erin@example.com';
const MIN = 60_000;
const T0 = Date.parse('2026-10-01T08:00:00Z');
const NOW = T0 + 60 * MIN;
const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * 86_400_000, allowedLateness: 3_600_000 };
const burst = (raw: Record<string, unknown>): BehaviorConfig =>
  behavior('burst', { kind: 'threshold', risk_level: 'high', match: { type: 'access', app: 'payroll' }, count: 3, window: '1h', ...raw });

let seq = 0;
const access = (app: string): ReduceInput => ({
  event: { type: 'access', id: `e-${++seq}`, user: USER, time: T0 + seq * MIN, outcome: 'failure', app },
  ref: { stream: 'rs:activity', id: `${T0 + seq * MIN}-${seq}` },
});

function apply(state: UserState, inputs: ReduceInput[], behaviors: BehaviorConfig[]): { state: UserState; hits: string[][] } {
  const hits: string[][] = [];
  for (const input of inputs) {
    const r = reduce(state, [input], behaviors, NOW, LIMITS);
    hits.push(...r.hits.map((h) => h.eventIds));
    state = decodeState(encodeState(r.state), USER)!;
  }
  return { state, hits };
}

describe('a counting behavior applied with other counting parameters', () => {
  it('match changed: what it counted goes; the new rule counts from its first matching event', () => {
    const first = apply(emptyState(USER), [access('payroll'), access('payroll')], [burst({})]);
    const hr = [access('hr'), access('hr'), access('hr')];
    const r = apply(first.state, hr, [burst({ match: { type: 'access', app: 'hr' } })]);
    expect(r.hits).toEqual([hr.map((i) => i.event.id)]);
  });

  it('count, window, level or the order of match fields changed: it goes on counting', () => {
    const first = apply(emptyState(USER), [access('payroll'), access('payroll')], [burst({})]);
    const third = access('payroll');
    const r = apply(first.state, [third], [burst({ match: { app: 'payroll', type: 'access' }, count: 3, window: '2h', risk_level: 'medium' })]);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]).toContain(third.event.id);
    expect(r.hits[0]).toHaveLength(3);
  });

  it('a window stored without a digest (before they were kept) goes on counting, and is stamped', () => {
    const first = apply(emptyState(USER), [access('payroll'), access('payroll')], [burst({})]);
    const { [COUNTED_WITH]: stamped, ...older } = first.state.windows;
    expect(stamped).toEqual({ burst: expect.any(String) });
    const r = apply({ ...first.state, windows: older }, [access('payroll')], [burst({})]);
    expect(r.hits).toHaveLength(1);
    expect(r.state.windows[COUNTED_WITH]).toEqual(stamped);
  });

  it('mfa_fatigue factors changed: the pushes counted before go', () => {
    const mfa = (factors: string[]): BehaviorConfig => behavior('mfa_fatigue', { risk_level: 'high', count: 3, window: '1h', factors });
    const push = (factor: string): ReduceInput => ({
      event: { type: 'mfa', id: `m-${++seq}`, user: USER, time: T0 + seq * MIN, outcome: 'denied', factor },
      ref: { stream: 'rs:login', id: `${T0 + seq * MIN}-${seq}` },
    });
    const first = apply(emptyState(USER), [push('push'), push('push')], [mfa(['push', 'sms'])]);
    const third = push('sms');
    expect(apply(first.state, [third], [mfa(['sms'])]).hits).toEqual([]);
    // The factors as they were: the third push completes the count.
    expect(apply(first.state, [third], [mfa(['push', 'sms'])]).hits).toHaveLength(1);
  });
});
