import { describe, expect, it } from 'vitest';
import { clampEx, clampPx, clampPxAt, MAX_TTL_MS } from '../../src/redis/ttl.js';

describe('TTL clamps: always an integer Redis accepts', () => {
  it.each([
    [1500.2, 1501],
    [0, 1],
    [-5, 1],
    [1e22, MAX_TTL_MS],
    [Number.POSITIVE_INFINITY, MAX_TTL_MS],
    [Number.NEGATIVE_INFINITY, 1],
    [Number.NaN, 1],
  ])('clampPx(%s) = %s', (input, want) => {
    expect(clampPx(input)).toBe(want);
    expect(Number.isInteger(clampPx(input))).toBe(true);
  });

  it('honours a minimum, seconds and absolute deadlines', () => {
    expect(clampPx(10, 60_000)).toBe(60_000);
    expect(clampEx(1e300)).toBe(MAX_TTL_MS / 1000);
    expect(clampEx(2.1)).toBe(3);
    expect(clampPxAt(1e22, 1000)).toBe(1000 + MAX_TTL_MS);
    expect(String(clampPx(1e22))).not.toMatch(/e/);
  });
});
