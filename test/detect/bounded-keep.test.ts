import { describe, expect, it } from 'vitest';
import { futureShare, keptRange } from '../../src/detect/bounded-keep.js';

const NOW = 100;

describe('bounded-keep: which entries a full cap keeps', () => {
  it.each([
    [1, 1],
    [2, 1],
    [3, 1],
    [10, 5],
    [32, 16],
    [33, 16],
  ])('a cap of %i holds at most %i entries stamped after now', (cap, share) => {
    expect(futureShare(cap)).toBe(share);
  });

  // [name, times (sorted), start, cap, kept times]
  const cases: Array<[string, number[], number, number, number[]]> = [
    ['under the cap: all, whatever their times', [90, 200, 300], 0, 3, [90, 200, 300]],
    ['all at or before now: the newest', [10, 20, 30, 40, 50], 0, 3, [30, 40, 50]],
    ['all after now: the nearest half, the furthest ahead go first', [110, 120, 130, 140, 150], 0, 4, [110, 120]],
    ['future ones over half: the newest past ones fill the rest', [10, 20, 30, 110, 120, 130], 0, 4, [20, 30, 110, 120]],
    ['few future ones: the past ones take the rest', [10, 20, 30, 40, 110], 0, 4, [20, 30, 40, 110]],
    ['few past ones: the future ones keep only their half', [10, 110, 120, 130, 140], 0, 4, [10, 110, 120]],
    ['an entry at now counts as at or before it', [60, 80, 100, 101, 102, 103], 0, 4, [80, 100, 101, 102]],
    ['a cap of 1: the nearest future one', [10, 20, 110, 120], 0, 1, [110]],
    ['from `start` only (older ones already pruned)', [1, 2, 50, 60, 70, 110, 120, 130], 2, 4, [60, 70, 110, 120]],
    ['a cap of 0: nothing', [10, 110], 0, 0, []],
  ];
  it.each(cases)('%s', (_name, times, start, cap, kept) => {
    const [from, to] = keptRange(start, times.length, cap, NOW, (i) => times[i]!);
    expect(to - from).toBeLessThanOrEqual(Math.max(0, cap));
    expect(times.slice(from, to)).toEqual(kept);
  });
});
