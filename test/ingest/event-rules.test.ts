/**
 * The field rules' character-check fast paths (ISO UTC times, dotted quads, ASCII emails) decide
 * exactly as the parsers and regular expressions they stand in front of.
 */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Invalid, toEpochMs, toIp, toUser } from '../../src/ingest/event-rules.js';
import { isoUtcMs } from '../../src/ingest/iso-time.js';
import { prng } from '../helpers/prng.js';

const pad = (n: number, w: number): string => String(n).padStart(w, '0');

describe('isoUtcMs', () => {
  it('is Date.parse on toISOString shapes, NaN (left to Date.parse) elsewhere', () => {
    const r = prng(11);
    const int = (n: number): number => Math.floor(r() * n);
    let read = 0;
    for (let i = 0; i < 50_000; i++) {
      // Fields slightly beyond their ranges too: month 13, day 31 of 30-day months, Feb 29, hour 24.
      const s = `${pad(r() < 0.5 ? int(10_000) : 1960 + int(100), 4)}-${pad(int(14), 2)}-${pad(int(33), 2)}T${pad(int(26), 2)}:${pad(int(62), 2)}:${pad(int(62), 2)}.${pad(int(1000), 3)}Z`;
      const got = isoUtcMs(s);
      if (Number.isNaN(got)) continue;
      read++;
      expect(got, s).toBe(Date.parse(s));
    }
    for (let i = 0; i < 20_000; i++) {
      const s = new Date(int(253_402_300_800_000)).toISOString();
      expect(isoUtcMs(s), s).toBe(Date.parse(s));
    }
    expect(read).toBeGreaterThan(10_000);
  });

  it.each([
    '2026-11-23T08:00:00Z',
    '2026-11-23T08:00:00.000+00:00',
    '2026-11-23t08:00:00.000z',
    '2100-02-29T00:00:00.000Z',
    '0000-01-01T00:00:00.000Z',
    ' 2026-11-23T08:00:00.000Z',
  ])('leaves %s to the parser', (s) => {
    expect(isoUtcMs(s)).toBeNaN();
  });

  it('toEpochMs reads the same times either way', () => {
    for (const s of ['2024-02-29T23:59:59.999Z', '2100-02-29T00:00:00.000Z', ' 2026-11-23T08:00:00.000Z ', '2026-11-23T08:00:00.000Z']) {
      expect(toEpochMs(s, 'time')).toBe(Date.parse(s.trim()));
    }
    expect(toEpochMs('1969-12-31T23:59:59.999Z', 'time')).toBeInstanceOf(Invalid);
  });
});

describe('toIp', () => {
  it('accepts exactly what net.isIP accepts', () => {
    const r = prng(5);
    const segs = ['0', '00', '1', '9', '10', '01', '99', '100', '199', '200', '249', '250', '255', '256', '300', '1000', '', 'a', '١'];
    for (let i = 0; i < 50_000; i++) {
      const parts = Array.from({ length: 3 + Math.floor(r() * 3) }, () => segs[Math.floor(r() * segs.length)]!);
      const s = parts.join(r() < 0.9 ? '.' : ':');
      expect(toIp(s, 'ip') instanceof Invalid, s).toBe(isIP(s) === 0);
    }
    for (const s of ['::1', '2001:db8::1', '::ffff:1.2.3.4', ' 10.0.0.1 ']) expect(toIp(s, 'ip')).toBe(s.trim());
  });
});

describe('toUser', () => {
  it.each([
    ['U1@Bench.Example', 'u1@bench.example'],
    [' a@B ', 'a@b'],
    ['a\u00a0B@c', 'a\u00a0B@c'],
    ['É@X.FR', 'é@x.fr'],
    ['a@b@C', 'a@b@C'],
    ['@A', '@A'],
    ['A@', 'A@'],
    ['00uABC', '00uABC'],
    [12, '12'],
  ])('%s → %s', (input, want) => {
    expect(toUser(input, 'user')).toBe(want);
  });
});
