/**
 * Numeric strings (epoch times, coordinates, ASNs, …) are recognised in linear time: a long run of
 * digits that is not a number must not hold the worker (found by a black-box review: 300 000
 * digits and a `T` in one event's `time` blocked the event loop for 200 s).
 */
import { describe, expect, it } from 'vitest';
import { decodeObject } from '../../src/ingest/decode.js';
import { Invalid, toEpochMs, toNumber } from '../../src/ingest/event-rules.js';

const LONG = 60_000;

function timed<T>(f: () => T): [T, number] {
  const t = performance.now();
  const v = f();
  return [v, performance.now() - t];
}

describe('numeric strings: linear time', () => {
  it('a long digit run that is no number is refused at once (time, numeric fields, a whole event)', () => {
    for (const s of ['0'.repeat(LONG) + 'T', '9'.repeat(LONG) + '.' + '9'.repeat(LONG) + 'x', '1'.repeat(LONG) + 'e', '-' + '5'.repeat(LONG) + '!']) {
      const [time, ms1] = timed(() => toEpochMs(s, 'time'));
      expect(time).toBeInstanceOf(Invalid);
      expect(ms1).toBeLessThan(250);
      const [num, ms2] = timed(() => toNumber(s, 'geo.lat'));
      expect(num).toBeInstanceOf(Invalid);
      expect(ms2).toBeLessThan(250);
    }
    const [d, ms] = timed(() => decodeObject({ type: 'login', user: 'a@example.com', outcome: 'success', time: '0'.repeat(LONG) + 'T' }, undefined));
    expect(d.ok).toBe(false);
    expect(ms).toBeLessThan(250);
  });

  it('still reads the numbers it read', () => {
    for (const [s, n] of [
      ['12', 12],
      ['12.', 12],
      ['12.5', 12.5],
      ['.5', 0.5],
      ['-0.25', -0.25],
      ['+3', 3],
      ['1e3', 1000],
      ['1.5E-2', 0.015],
      [' 42 ', 42],
    ] as const)
      expect(toNumber(s, 'x'), s).toBe(n);
    for (const s of ['', '.', '1..2', '1.2.3', 'e5', '1e', '0x10', '1 2', '--1']) expect(toNumber(s, 'x'), s).toBeInstanceOf(Invalid);
    expect(toEpochMs('1795420800000', 'time')).toBe(1795420800000);
    expect(toEpochMs('1795420800', 'time')).toBe(1795420800000);
    expect(toEpochMs('1795420800.5', 'time')).toBe(1795420800500);
  });
});
