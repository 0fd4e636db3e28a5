/** Retry delays of SET delivery: backoff with jitter, and the horizon (pure, frozen clock). */
import { describe, expect, it } from 'vitest';
import { backoffDelay, horizonLeft, retryDelay } from '../../src/ssf/backoff.js';

const cfg = { backoff_base: 100, backoff_max: 1_000, horizon: 10_000 };

describe('backoffDelay', () => {
  it.each([
    [1, 0, 50],
    [1, 0.999, 100],
    [2, 0, 100],
    [3, 0.5, 300],
    [5, 0, 500], // capped at backoff_max: half of it at least
    [60, 0.999, 1_000], // huge attempt numbers stay at the cap
  ])('attempt %i, random %f → %i ms', (attempt, random, ms) => {
    expect(backoffDelay(attempt, cfg, random)).toBe(ms);
  });
});

describe('horizonLeft', () => {
  it('counts down from the enqueue time and never goes below 0', () => {
    expect(horizonLeft(1_000, 1_000, 10_000)).toBe(10_000);
    expect(horizonLeft(1_000, 10_999, 10_000)).toBe(1);
    expect(horizonLeft(1_000, 11_000, 10_000)).toBe(0);
    expect(horizonLeft(1_000, 50_000, 10_000)).toBe(0);
  });
});

describe('retryDelay', () => {
  const enqueued = 1_000;
  it.each([
    // [what, attemptsMade, asked, now, expected]
    ['the delay the processor asked for, well within the horizon', 1, 250, 2_000, 250],
    ['the asked delay, cut at the horizon', 1, 5_000, 8_000, 3_000],
    ['the asked delay when the horizon passed since the processor judged it: 1 ms, so the next attempt audits the expiry', 3, 4, 11_000, 1],
    ['the asked delay long past the horizon: still 1 ms, never given up silently', 3, 300, 20_000, 1],
    ['an unexpected error: backoff within the horizon', 2, undefined, 2_000, 200],
    ['an unexpected error: backoff cut at the horizon', 2, undefined, 10_900, 100],
    ['an unexpected error past the horizon: given up (-1)', 2, undefined, 11_000, -1],
  ] as const)('%s', (_what, attempts, asked, now, expected) => {
    expect(retryDelay(attempts, asked, enqueued, now, cfg, 0.999)).toBe(expected);
  });
});
