import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { mfaFatigue } from '../../src/detect/mfa-fatigue.js';
import type { CanonicalEvent } from '../../src/types.js';
import { MIN, T0, ev, run } from './fixtures.js';

const schema = behaviorSchema('mfa_fatigue');
const params = schema.parse({ risk_level: 'high', count: 5, window: '10m' });

const push = (at: number, outcome: string, extra: Record<string, unknown> = {}): CanonicalEvent => ev('mfa', at, { outcome, factor: 'push', ...extra });
const burst = (n: number, step = MIN): CanonicalEvent[] => Array.from({ length: n }, (_, i) => push(i * step, i % 2 ? 'timeout' : 'denied'));

describe('mfa_fatigue', () => {
  it('defaults: 5 pushes within 10m, factor push', () => {
    expect(schema.parse({ risk_level: 'high' })).toMatchObject({ count: 5, window: 600_000, factors: ['push'] });
  });

  it('5 denied or unanswered pushes in the window: one hit, approved false', () => {
    const events = burst(5);
    const r = run(mfaFatigue, params, events);
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 1]);
    expect(r.hits[0]).toMatchObject({
      time: T0 + 4 * MIN,
      summary: '5 MFA pushes refused in 4m (3 denied, 2 unanswered; threshold 5 in 10m)',
      evidence: { count: 5, denied: 3, timeout: 2, approved: false, first: new Date(T0).toISOString(), span: '4m' },
    });
    expect(r.hits[0]!.eventIds).toEqual(events.map((e) => e.id));
    // A 6th push in the same window does not fire again.
    expect(run(mfaFatigue, params, burst(6)).hits).toHaveLength(1);
  });

  it('a burst whose hit expired (expires_after shorter than the window) does not hold off a live one', () => {
    const short = schema.parse({ risk_level: 'high', count: 3, window: '10m', expires_after: '1m' });
    const expired = [0, 6_000, 12_000].map((at) => push(at, 'denied'));
    const live = [8.5 * MIN, 8.6 * MIN, 8.7 * MIN].map((at) => push(at, 'denied'));
    const { hits } = run(mfaFatigue, short, [...expired, ...live], { now: T0 + 9 * MIN });
    expect(hits.map((h) => h.time - T0)).toEqual([12_000, 8.5 * MIN]); // the live burst's first push: 4 in its window
  });

  it('an approval after the burst is flagged again, approved true (the dangerous case)', () => {
    const approval = push(6 * MIN, 'success');
    const r = run(mfaFatigue, params, [...burst(5), approval]);
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 1, 1]);
    expect(r.hits[1]).toMatchObject({
      time: T0 + 6 * MIN,
      evidence: { count: 5, approved: true, approved_at: new Date(T0 + 6 * MIN).toISOString(), approval_id: approval.id },
    });
    expect(r.hits[1]!.summary).toContain('then a push was approved at');
    expect(r.hits[1]!.eventIds[0]).toBe(approval.id);
  });

  it('near misses: 4 pushes, 5 spread over more than the window, other factors, successes alone', () => {
    expect(run(mfaFatigue, params, [...burst(4), push(5 * MIN, 'success')]).hits).toEqual([]);
    expect(run(mfaFatigue, params, burst(5, 2.6 * MIN)).hits).toEqual([]);
    expect(
      run(
        mfaFatigue,
        params,
        [0, 1, 2, 3, 4].map((i) => push(i * MIN, 'denied', { factor: 'totp' })),
      ).hits,
    ).toEqual([]);
    expect(
      run(
        mfaFatigue,
        params,
        [0, 1, 2, 3, 4].map((i) => push(i * MIN, 'success')),
      ).hits,
    ).toEqual([]);
    // Logins with the same outcomes are not MFA pushes.
    expect(
      run(
        mfaFatigue,
        params,
        [0, 1, 2, 3, 4].map((i) => ev('login', i * MIN, { outcome: 'denied' })),
      ).hits,
    ).toEqual([]);
  });

  it('out of order: the approval arriving first gives the same two hits', () => {
    const events = [...burst(5), push(6 * MIN, 'success')];
    const inOrder = run(mfaFatigue, params, events).hits;
    const shuffled = run(mfaFatigue, params, [events[5]!, events[2]!, events[0]!, events[4]!, events[1]!, events[3]!]);
    expect(shuffled.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 0, 2]);
    expect(shuffled.hits).toEqual(inOrder);
  });

  it('a push later than the allowed lateness behind an approval is dropped by the burst too: no hit claiming fewer pushes than count', () => {
    // 4 refused pushes, an approval 25 min on (no 5th push yet: nothing fires), then the 5th push
    // at 4 min arrives, 21 min behind the newest event (allowed lateness 10 min): too late for the
    // approval's verdict, so too late for the burst as well.
    const events = [...burst(4), push(25 * MIN, 'success'), push(4 * MIN, 'denied')];
    const r = run(mfaFatigue, schema.parse({ risk_level: 'high', count: 5, window: '30m' }), events);
    for (const h of r.hits) expect(h.evidence.count).toBeGreaterThanOrEqual(5);
    expect(r.hits).toEqual([]);
  });

  it('replay: the same events again add no hit', () => {
    const events = [...burst(5), push(6 * MIN, 'success')];
    const first = run(mfaFatigue, params, events);
    expect(first.hits).toHaveLength(2);
    expect(run(mfaFatigue, params, events, { window: first.window }).hits).toEqual([]);
  });
});
