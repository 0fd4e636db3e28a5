import { describe, expect, it } from 'vitest';
import { rebaseAnchor } from '../../src/ingest/rebase-anchor.js';

const DAY = 86_400_000;
const at = (...t: number[]): Float64Array => Float64Array.from(t);

describe('rebaseAnchor', () => {
  it.each([
    ['no times', at(), 10, undefined],
    ['one time', at(5), 10, { anchor: 5, outside: 0 }],
    ['a clean file: its newest', at(3, 1, 2), 10, { anchor: 3, outside: 0 }],
    ['a future outlier is left out', at(1, 2, 3, 1_000), 10, { anchor: 3, outside: 1 }],
    ['a past outlier is left out', at(-1_000, 1, 2, 3), 10, { anchor: 3, outside: 1 }],
    ['the stretch with most events wins', at(0, 1, 100, 101, 102), 10, { anchor: 102, outside: 2 }],
    ['a tie: the later stretch', at(0, 1, 100, 101), 10, { anchor: 101, outside: 2 }],
    ['times exactly span apart are one stretch', at(0, 10), 10, { anchor: 10, outside: 0 }],
  ])('%s', (_name, times, span, expected) => {
    expect(rebaseAnchor(times, span)).toEqual(expected);
  });

  it('a year of demo data and one typo year: anchored on the data', () => {
    const now = Date.UTC(2026, 11, 1);
    const times = at(now - 300 * DAY, now - 2 * DAY, now - DAY, now, Date.UTC(2099, 0, 1));
    expect(rebaseAnchor(times, 365 * DAY)).toEqual({ anchor: now, outside: 1 });
  });
});
