/**
 * Partitioning and order keys (pure): the user → partition hash is pinned (a changed hash would
 * move every user's state to another partition), spreads ids evenly, and order keys sort exactly
 * as (source entry id, source index, sub-index) and give their source entry id back.
 */
import { describe, expect, it } from 'vitest';
import { compareKeys, keyId, MAX_SOURCES, MAX_SUBS, orderKey, parseKey, partitionOf, sourceIdOf, ZERO_KEY, type OrderKey } from '../../src/partition.js';
import { prng } from '../helpers/prng.js';

const sign = (n: number): number => (n > 0 ? 1 : n < 0 ? -1 : 0);

describe('partitionOf', () => {
  it('is FNV-1a (32 bits) over the UTF-8 bytes: the published test vectors', () => {
    // With 2^32 "partitions" the modulo is the identity: the raw hash.
    expect(partitionOf('', 2 ** 32)).toBe(0x811c9dc5);
    expect(partitionOf('a', 2 ** 32)).toBe(0xe40c292c);
    expect(partitionOf('foobar', 2 ** 32)).toBe(0xbf9cf968);
  });

  it.each([
    ['alice@example.com', 6, 2],
    ['bob@example.com', 57, 1],
    ['carol@example.com', 27, 3],
    ['josé@example.com', 6, 2],
    ['U-1', 34, 2],
  ])('pinned: %s → %i of 64, %i of 4', (user, of64, of4) => {
    expect(partitionOf(user, 64)).toBe(of64);
    expect(partitionOf(user, 4)).toBe(of4);
  });

  it('hashes UTF-8 bytes, not UTF-16 code units', () => {
    // "é" is one UTF-16 unit (0xe9) but two UTF-8 bytes (0xc3 0xa9).
    expect(partitionOf('josé', 2 ** 32)).not.toBe(partitionOf('jos\u00e9'.normalize('NFD'), 2 ** 32));
    let h = 0x811c9dc5;
    for (const b of [0x6a, 0x6f, 0x73, 0xc3, 0xa9]) h = Math.imul(h ^ b, 0x01000193) >>> 0;
    expect(partitionOf('josé', 2 ** 32)).toBe(h);
  });

  it('is stable: the same id always lands in the same partition, always in range', () => {
    const rand = prng(7);
    for (let i = 0; i < 500; i++) {
      const user = `u-${Math.floor(rand() * 1e9).toString(36)}@corp.example`;
      const p = partitionOf(user, 64);
      expect(p).toBe(partitionOf(user, 64));
      expect(Number.isInteger(p) && p >= 0 && p < 64).toBe(true);
    }
  });

  const families: Array<[string, (i: number) => string]> = [
    ['sequential e-mails', (i) => `user-${i}@example.com`],
    [
      'random hex ids',
      (() => {
        const rand = prng(42);
        return () => Array.from({ length: 16 }, () => Math.floor(rand() * 16).toString(16)).join('');
      })(),
    ],
    [
      'first.last names',
      (i) =>
        `${['ann', 'ben', 'cho', 'dev', 'eli', 'fay', 'gus'][i % 7]}.${['smith', 'ngata', 'okafor', 'li', 'garcia'][Math.floor(i / 7) % 5]}${Math.floor(i / 35)}@corp.example`,
    ],
  ];
  it.each(families)('spreads 10 000 %s over 64 partitions', (_name, id) => {
    const counts = new Array<number>(64).fill(0);
    for (let i = 0; i < 10_000; i++) counts[partitionOf(id(i), 64)]!++;
    const expected = 10_000 / 64;
    // Every partition within ±35 % of the mean, and a chi-square (63 degrees of freedom) well
    // below the 0.1 % tail (≈ 103): a skewed hash fails both.
    expect(Math.min(...counts)).toBeGreaterThan(expected * 0.65);
    expect(Math.max(...counts)).toBeLessThan(expected * 1.35);
    const chi2 = counts.reduce((s, c) => s + (c - expected) ** 2 / expected, 0);
    expect(chi2).toBeLessThan(103);
  });
});

describe('order keys', () => {
  it('orderKey encodes (seq·64 + source)·16 + sub, and sourceIdOf gives the entry id back', () => {
    expect(orderKey('1700000000000-5', 3, 2)).toEqual({ ms: 1700000000000, seq: (5 * 64 + 3) * 16 + 2 });
    expect(orderKey('1700000000000', 0)).toEqual({ ms: 1700000000000, seq: 0 });
    const rand = prng(1);
    for (let i = 0; i < 2000; i++) {
      const id = `${Math.floor(rand() * 2e12)}-${Math.floor(rand() * 1e6)}`;
      const source = Math.floor(rand() * MAX_SOURCES);
      const sub = Math.floor(rand() * MAX_SUBS);
      const k = orderKey(id, source, sub);
      expect(sourceIdOf(k)).toBe(id);
      expect(parseKey(keyId(k))).toEqual(k);
      expect(k.seq % MAX_SUBS).toBe(sub);
      expect(Math.floor(k.seq / MAX_SUBS) % MAX_SOURCES).toBe(source);
    }
  });

  it('a sub-index past the last one is clamped (never spills into the next source)', () => {
    expect(orderKey('10-1', 2, MAX_SUBS + 5)).toEqual(orderKey('10-1', 2, MAX_SUBS - 1));
    expect(compareKeys(orderKey('10-1', 2, 99), orderKey('10-1', 3, 0))).toBeLessThan(0);
  });

  it('key order is (source entry id, source index, sub-index) order', () => {
    const rand = prng(99);
    const tuples = Array.from({ length: 400 }, () => ({
      ms: 1000 + Math.floor(rand() * 4),
      seq: Math.floor(rand() * 4),
      source: Math.floor(rand() * MAX_SOURCES),
      sub: Math.floor(rand() * MAX_SUBS),
    }));
    const lex = (a: (typeof tuples)[0], b: (typeof tuples)[0]): number => a.ms - b.ms || a.seq - b.seq || a.source - b.source || a.sub - b.sub;
    const key = (t: (typeof tuples)[0]): OrderKey => orderKey(`${t.ms}-${t.seq}`, t.source, t.sub);
    for (let i = 0; i + 1 < tuples.length; i += 2) {
      const [a, b] = [tuples[i]!, tuples[i + 1]!];
      expect(sign(compareKeys(key(a), key(b)))).toBe(sign(lex(a, b)));
    }
    const byKeys = [...tuples].sort((a, b) => compareKeys(key(a), key(b)));
    const byTuple = [...tuples].sort(lex);
    expect(byKeys.map(key)).toEqual(byTuple.map(key));
  });

  it('keys are valid stream entry ids that sort in Redis as they compare here', () => {
    // Redis orders entry ids by (ms, seq) numerically: the same as compareKeys.
    const ks = [orderKey('5-0', 0), orderKey('5-0', 63, 15), orderKey('5-1', 0), orderKey('6-0', 0)];
    for (const k of ks) expect(keyId(k)).toMatch(/^\d+-\d+$/);
    for (let i = 0; i + 1 < ks.length; i++) expect(compareKeys(ks[i]!, ks[i + 1]!)).toBeLessThan(0);
  });
});

describe('compareKeys', () => {
  it.each<[OrderKey, OrderKey, number]>([
    [{ ms: 1, seq: 0 }, { ms: 2, seq: 0 }, -1],
    [{ ms: 2, seq: 0 }, { ms: 1, seq: 999 }, 1],
    [{ ms: 5, seq: 3 }, { ms: 5, seq: 4 }, -1],
    [{ ms: 5, seq: 4 }, { ms: 5, seq: 4 }, 0],
    [ZERO_KEY, { ms: 0, seq: 1 }, -1],
    [ZERO_KEY, ZERO_KEY, 0],
  ])('%o vs %o → %i', (a, b, want) => {
    expect(sign(compareKeys(a, b))).toBe(want);
    expect(sign(compareKeys(b, a))).toBe(want === 0 ? 0 : -want);
  });
});
