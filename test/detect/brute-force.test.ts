import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { bruteForce } from '../../src/detect/brute-force.js';
import type { CanonicalEvent } from '../../src/types.js';
import { MIN, T0, ev, run } from './fixtures.js';

const schema = behaviorSchema('brute_force');
const params = schema.parse({ risk_level: 'high', failures: 5, window: '10m' });

const fail = (at: number, ip = '203.0.113.9'): CanonicalEvent => ev('login', at, { outcome: 'failure', ip });
const ok = (at: number, ip = '203.0.113.9'): CanonicalEvent => ev('login', at, { outcome: 'success', ip });

describe('brute_force', () => {
  it('defaults: 10 failures within 10m', () => {
    expect(schema.parse({ risk_level: 'high' })).toMatchObject({ failures: 10, window: 600_000 });
  });

  it('5 failures then a success: one hit on the success with count, sources and span', () => {
    const fails = [0, 1, 2, 3, 4].map((i) => fail(i * MIN, i < 3 ? '203.0.113.9' : '198.51.100.7'));
    const success = ok(5 * MIN, '203.0.113.9');
    const r = run(bruteForce, params, [...fails, success]);
    expect(r.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 0, 1]);
    const h = r.hits[0]!;
    expect(h.time).toBe(T0 + 5 * MIN);
    expect(h.summary).toBe('5 failed logins in 4m from 2 sources, then a successful login from 203.0.113.9 (threshold 5 in 10m)');
    expect(h.evidence).toMatchObject({
      count: 5,
      threshold: 5,
      sources: [
        { ip: '203.0.113.9', failures: 3 },
        { ip: '198.51.100.7', failures: 2 },
      ],
      distinct_sources: 2,
      first_failure: new Date(T0).toISOString(),
      last_failure: new Date(T0 + 4 * MIN).toISOString(),
      span: '4m',
      success: { time: new Date(T0 + 5 * MIN).toISOString(), ip: '203.0.113.9', id: success.id },
    });
    expect(h.eventIds).toEqual([success.id, ...fails.map((f) => f.id)]);
  });

  it.each(['session_refresh', 'Refresh'])(
    'a session refresh (%s) is no guess and no success: failed refreshes, or a refresh after failures, flag nothing',
    (type) => {
      const refresh = (at: number, outcome: string): CanonicalEvent => ({ ...ev('login', at, { outcome, ip: '203.0.113.9' }), type });
      const failedRefreshes = [0, 1, 2, 3, 4].map((i) => refresh(i * MIN, 'failure'));
      expect(run(bruteForce, params, [...failedRefreshes, ok(5 * MIN)]).hits).toEqual([]);
      const fails = [0, 1, 2, 3, 4].map((i) => fail(i * MIN));
      expect(run(bruteForce, params, [...fails, refresh(5 * MIN, 'success')]).hits).toEqual([]);
      // The same failures then a login: flagged.
      expect(run(bruteForce, params, [...fails, refresh(5 * MIN, 'success'), ok(6 * MIN)]).hits).toHaveLength(1);
    },
  );

  it('a failure seen again by its id counts once, whatever its time (a retry of a failure without a time of its own)', () => {
    const first = [0, 1, 2, 3].map((i) => fail(i * MIN));
    const retried = first.map((e, i) => ({ ...e, time: e.time + 30_000 + i }));
    const { hits } = run(bruteForce, params, [...first, ...retried, ok(8 * MIN)]);
    expect(hits).toEqual([]);
  });

  it('near misses: 4 failures, failures spread over more than the window, failures without a success', () => {
    expect(run(bruteForce, params, [...[0, 1, 2, 3].map((i) => fail(i * MIN)), ok(4 * MIN)]).hits).toEqual([]);
    // 5 failures, but the first is 10m 1s before the success.
    expect(run(bruteForce, params, [fail(0), ...[1, 2, 3, 4].map((i) => fail(i * MIN)), ok(10 * MIN + 1000)]).hits).toEqual([]);
    expect(
      run(
        bruteForce,
        params,
        [0, 1, 2, 3, 4, 5, 6].map((i) => fail(i * MIN)),
      ).hits,
    ).toEqual([]);
    // The success came before the failures.
    expect(run(bruteForce, params, [ok(0), ...[1, 2, 3, 4, 5].map((i) => fail(i * MIN))]).hits).toEqual([]);
  });

  it('out of order: a late failure completes the count for a success that arrived first', () => {
    const fails = [0, 1, 2, 3, 4].map((i) => fail(i * MIN));
    const success = ok(5 * MIN);
    const inOrder = run(bruteForce, params, [...fails, success]).hits;
    const shuffled = run(bruteForce, params, [success, fails[3]!, fails[0]!, fails[4]!, fails[1]!, fails[2]!]);
    expect(shuffled.perEvent.map((h) => h.length)).toEqual([0, 0, 0, 0, 0, 1]);
    expect(shuffled.hits).toEqual(inOrder);
  });

  it('replay: the same events again add no hit', () => {
    const events = [...[0, 1, 2, 3, 4].map((i) => fail(i * MIN)), ok(5 * MIN)];
    const first = run(bruteForce, params, events);
    expect(first.hits).toHaveLength(1);
    expect(run(bruteForce, params, events, { window: first.window }).hits).toEqual([]);
  });

  it('a failure later than the allowed lateness is dropped; state stays bounded', () => {
    const r = run(bruteForce, params, [fail(60 * MIN), ...[0, 1, 2, 3].map((i) => fail(i * MIN)), ok(5 * MIN)]);
    expect(r.hits).toEqual([]);
    const many = run(
      bruteForce,
      params,
      Array.from({ length: 500 }, (_, i) => fail(i * 1000)),
    );
    expect(many.window!.a.length).toBeLessThanOrEqual(32);
  });
});

describe('brute_force: bounded attempts', () => {
  it('failures stamped in the future (a skewed source) never push real ones out: a real brute force is still flagged', () => {
    const now = T0 + 10 * MIN;
    // 40 failures a day ahead, 30 min apart (more than the 32 attempts kept), then 5 real ones and a success.
    const skewed = Array.from({ length: 40 }, (_, i) => fail(24 * 60 * MIN + i * 30 * MIN, '192.0.2.1'));
    const real = [0, 1, 2, 3, 4].map((i) => fail(i * MIN));
    const r = run(bruteForce, params, [...skewed, ...real, ok(5 * MIN)], { now });
    expect(r.hits.map((h) => h.time)).toEqual([T0 + 5 * MIN]);
  });
});
