import { describe, expect, it } from 'vitest';
import { asnIn, ipInNetworks, isValidCidr } from '../../src/detect/allow-list.js';
import { getPath, toNumber } from '../../src/detect/fields.js';
import { groupDigits, isoTime, round } from '../../src/detect/format.js';
import { normalizeSeverity } from '../../src/detect/severity.js';

describe('getPath', () => {
  const obj = { a: { b: { c: 1 } }, 'geo.lat': 51.5, list: [{ x: 'y' }], d: { 'e.f': 2 } };
  it.each([
    ['a.b.c', 1],
    ['a.b', { c: 1 }],
    ['geo.lat', 51.5],
    ['list.0.x', 'y'],
    ['d.e.f', 2],
    ['a.x', undefined],
    ['a.b.c.d', undefined],
    ['__proto__', undefined],
    ['constructor', undefined],
    ['a.constructor.name', undefined],
  ])('%s', (path, value) => expect(getPath(obj, path)).toEqual(value));
  it('non-objects', () => {
    expect(getPath(null, 'a')).toBeUndefined();
    expect(getPath('str', 'length')).toBeUndefined();
  });
});

describe('toNumber', () => {
  it.each([
    [5, 5],
    ['5.5', 5.5],
    [' 7 ', 7],
    ['', undefined],
    ['abc', undefined],
    [Number.NaN, undefined],
    [Infinity, undefined],
    [null, undefined],
  ])('%s → %s', (v, n) => expect(toNumber(v)).toBe(n));
});

describe('normalizeSeverity', () => {
  it.each([
    ['info', 'info'],
    ['Informational', 'info'],
    ['LOW', 'low'],
    ['moderate', 'medium'],
    ['Medium', 'medium'],
    ['severe', 'high'],
    ['High', 'high'],
    ['critical', 'critical'],
    ['very high', 'critical'],
    [0, 'info'],
    [2, 'low'],
    [5, 'medium'],
    ['7.5', 'high'],
    [9, 'critical'],
    [10, 'critical'],
    [11, undefined],
    [-1, undefined],
    ['banana', undefined],
    [undefined, undefined],
    ['', undefined],
  ])('%s → %s', (v, s) => expect(normalizeSeverity(v)).toBe(s));
});

describe('allow-list', () => {
  const nets = ['10.0.0.0/8', '192.0.2.0/24', '2001:db8::/32', 'not-a-cidr', '300.0.0.0/8'];
  it.each([
    ['10.1.2.3', true],
    ['11.1.2.3', false],
    ['192.0.2.200', true],
    ['2001:db8:1::1', true],
    ['2001:db9::1', false],
    ['::ffff:10.9.9.9', true],
    ['garbage', false],
    [undefined, false],
  ])('%s → %s', (ip, ok) => expect(ipInNetworks(ip, nets)).toBe(ok));
  it('IPv4-mapped IPv6 CIDRs match IPv4 addresses', () => expect(ipInNetworks('10.1.1.1', ['::ffff:10.0.0.0/104'])).toBe(true));
  it('validates CIDRs', () => {
    expect(isValidCidr('10.0.0.0/8')).toBe(true);
    expect(isValidCidr('10.0.0.0/33')).toBe(false);
  });
  it('ASNs', () => {
    expect(asnIn(13335, [13335])).toBe(true);
    expect(asnIn('13335', [13335])).toBe(true);
    expect(asnIn(undefined, [13335])).toBe(false);
  });
});

describe('format', () => {
  it('groups digits with spaces', () => {
    expect(groupDigits(16994)).toBe('16 994');
    expect(groupDigits(999)).toBe('999');
    expect(groupDigits(1234567.6)).toBe('1 234 568');
  });
  it('is JSON-safe', () => {
    expect(round(Infinity)).toBeNull();
    expect(round(1.256, 2)).toBe(1.26);
    expect(isoTime(Number.NaN)).toBeNull();
    expect(isoTime(8.64e15 + 1)).toBeNull();
  });
});
