/**
 * Property: the plain writer (src/risk/state-pack.ts) gives msgpackr's bytes for every plain value
 * — numbers of every width and fraction, strings of every length and script (lone surrogates
 * too), nested maps and arrays, undefined — and leaves every other value to msgpackr.
 */
import fc from 'fast-check';
import { FLOAT32_OPTIONS, Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { packPlain } from '../../src/risk/state-pack.js';

const packr = new Packr({ useRecords: false, moreTypes: false, useFloat32: FLOAT32_OPTIONS.DECIMAL_FIT });

const numberArb = fc.oneof(
  fc.integer(),
  fc.integer({ min: -0x80000000, max: 0xffffffff }),
  fc.constantFrom(0, -0, 0x7f, 0x80, 0xff, 0x100, 0xffff, 0x10000, -0x20, -0x21, -0x80, -0x81, -0x8000, -0x8001, 2 ** 32, -(2 ** 31) - 1),
  fc.double(),
  fc.double({ min: -200, max: 200, noNaN: true }).map((n) => Math.round(n * 1e4) / 1e4),
  fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
);
const stringArb = fc.oneof(
  fc.string({ maxLength: 80 }),
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc.string({ unit: 'grapheme', maxLength: 40 }),
  fc.constantFrom(
    '\ud800',
    'a\udc00b',
    'b'.repeat(50) + '\ud800',
    '\udfff'.repeat(63),
    'c'.repeat(64) + '\ud800',
    '€'.repeat(30),
    'é'.repeat(100),
    'ü'.repeat(200),
  ),
);
const { value: valueArb } = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    numberArb,
    stringArb,
    fc.boolean(),
    fc.constant(null),
    fc.constant(undefined),
    fc.array(tie('value'), { maxLength: 20 }),
    fc.dictionary(fc.oneof(stringArb, fc.nat().map(String)), tie('value'), { maxKeys: 20, noNullPrototype: true }),
  ),
}));

describe('packPlain', () => {
  it('gives msgpackr’s bytes for plain values', () => {
    fc.assert(
      fc.property(valueArb, (v) => {
        expect(packPlain(v)?.equals(packr.pack(v))).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('gives msgpackr’s bytes for large arrays and maps', () => {
    const arr = Array.from({ length: 70_000 }, (_, i) => i * 1.5);
    const map = Object.fromEntries(Array.from({ length: 300 }, (_, i) => [`k${i}`, [i, `v${i}`, i / 7]]));
    const strings = ['x'.repeat(70_000), 'é'.repeat(40_000), '😀'.repeat(21_000), '€'.repeat(30_000)];
    for (const v of [{ arr, map }, strings]) expect(packPlain(v)?.equals(packr.pack(v))).toBe(true);
  });

  it('never overwrites what it returned earlier', () => {
    const values = Array.from({ length: 3000 }, (_, i) => ({ i, s: 'é'.repeat(i % 300), a: Array.from({ length: i % 50 }, (_, j) => j / 3) }));
    const packed = values.map((v) => packPlain(v));
    values.forEach((v, i) => expect(packed[i]?.equals(packr.pack(v))).toBe(true));
  });

  it('leaves other values to msgpackr', () => {
    for (const v of [new Map([[1, 2]]), new Date(0), Buffer.from('x'), 1n, { a: new Set([1]) }, [Symbol('s')], Object.create(null), { hasOwnProperty: 1 }]) {
      expect(packPlain(v)).toBeUndefined();
    }
  });
});
