/**
 * The field rules' character-check fast paths (ISO UTC times, dotted quads, ASCII emails) decide
 * exactly as the parsers and regular expressions they stand in front of.
 */
import { isIP } from 'node:net';
import { describe, expect, it } from 'vitest';
import { Invalid, toEpochMs, toIp, toUser } from '../../src/ingest/event-rules.js';
import { isoMs, isoUtcMs } from '../../src/ingest/iso-time.js';
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
    for (const s of [
      '2024-02-29T23:59:59.999Z',
      ' 2026-11-23T08:00:00.000Z ',
      '2026-11-23T08:00:00.000Z',
      '2026-11-23T08:00:00Z',
      '2026-11-23T09:00:00+01:00',
    ]) {
      expect(toEpochMs(s, 'time')).toBe(Date.parse(s.trim()));
    }
    expect(toEpochMs('1969-12-31T23:59:59.999Z', 'time')).toBeInstanceOf(Invalid);
  });

  it('an epoch time with a fraction of a millisecond is cut to the millisecond, as an ISO time is: the same instant in every form (found by an event-time audit: epoch times were rounded, 1 ms later than the ISO form for half of all microseconds)', () => {
    const T = 1_795_420_800_000; // 2026-11-23T08:00:00Z
    for (const forms of [
      [1795420800.512789, '1795420800.512789', 1795420800512.789, '1795420800512.789', '2026-11-23T08:00:00.512789Z'],
      [1795420800.9999, '1795420800.9999', '2026-11-23T08:00:00.9999Z'],
    ])
      expect(new Set(forms.map((v) => toEpochMs(v, 'time')))).toEqual(new Set([toEpochMs(forms.at(-1), 'time')]));
    expect(toEpochMs(1795420800.512789, 'time')).toBe(T + 512);
    // Every millisecond written as epoch seconds with 3 decimals is that millisecond (binary fractions
    // like 0.512 are a hair below it as doubles: never cut to the one before).
    for (let ms = 0; ms < 1000; ms++) {
      const v = `1795420800.${String(ms).padStart(3, '0')}`;
      expect([toEpochMs(Number(v), 'time'), toEpochMs(v, 'time')]).toEqual([T + ms, T + ms]);
    }
  });
});

describe('isoMs: ISO-8601 date-times, never in the host’s time zone', () => {
  const utc = Date.UTC;
  it.each([
    ['2026-12-02T20:18:52', utc(2026, 11, 2, 20, 18, 52)],
    ['2026-12-02 20:18:52', utc(2026, 11, 2, 20, 18, 52)],
    ['2026-12-02T20:18', utc(2026, 11, 2, 20, 18)],
    ['2026-12-02', utc(2026, 11, 2)],
    ['2026-12-02T20:18:52.5', utc(2026, 11, 2, 20, 18, 52, 500)],
    ['2026-12-02T20:18:52,5Z', utc(2026, 11, 2, 20, 18, 52, 500)],
    ['2026-12-02T20:18:52.123456789Z', utc(2026, 11, 2, 20, 18, 52, 123)],
    ['2026-12-02T19:19:00+05', utc(2026, 11, 2, 14, 19)],
    ['2026-12-02T19:19:00+0530', utc(2026, 11, 2, 13, 49)],
    ['2026-12-02T19:19:00-03:30', utc(2026, 11, 2, 22, 49)],
    ['20261202T201852Z', utc(2026, 11, 2, 20, 18, 52)],
    ['20261202T2018+01', utc(2026, 11, 2, 19, 18)],
    ['2026-12-02T24:00:00Z', utc(2026, 11, 3)],
    ['2024-02-29T00:00:00Z', utc(2024, 1, 29)],
  ])('%s', (s, ms) => {
    expect(isoMs(s)).toBe(ms);
    expect(toEpochMs(s, 'time')).toBe(ms);
  });

  it.each([
    '2026-11-31T10:00:00Z',
    '2100-02-29T00:00:00Z',
    '2026-13-01',
    '2026-12-02T25:00:00Z',
    '2026-12-02T24:00:01Z',
    '2026-12-02T20:60:00Z',
    '2026-12-02T20:18:60Z',
    '2026-12-02T20:18:52+24:00',
    '2026-12-02T20:18:52+05:60',
    '2026-12-02T20',
    '2026-12-02T',
    '20261202',
    'yesterday',
  ])('refuses %s', (s) => {
    expect(isoMs(s)).toBeNaN();
  });

  it('an offset-less time is UTC whatever the host’s zone (TZ); epoch numbers are unchanged', () => {
    const tz = process.env.TZ;
    try {
      for (const zone of ['Asia/Tokyo', 'America/New_York', 'UTC']) {
        process.env.TZ = zone;
        expect(toEpochMs('2026-12-02T20:18:52', 'time')).toBe(utc(2026, 11, 2, 20, 18, 52));
        expect(toEpochMs('2026-12-02 20:18:52.250', 'time')).toBe(utc(2026, 11, 2, 20, 18, 52, 250));
        expect(toEpochMs('1795420800', 'time')).toBe(1_795_420_800_000);
      }
    } finally {
      if (tz === undefined) delete process.env.TZ;
      else process.env.TZ = tz;
    }
  });

  it('agrees with Date.parse on extended date-times that carry an offset', () => {
    const r = prng(12);
    const int = (n: number): number => Math.floor(r() * n);
    for (let i = 0; i < 20_000; i++) {
      const zone = r() < 0.3 ? 'Z' : `${r() < 0.5 ? '+' : '-'}${pad(int(24), 2)}:${pad(int(60), 2)}`;
      const s = `${pad(1980 + int(100), 4)}-${pad(1 + int(12), 2)}-${pad(1 + int(28), 2)}T${pad(int(24), 2)}:${pad(int(60), 2)}:${pad(int(60), 2)}.${pad(int(1000), 3)}${zone}`;
      expect(isoMs(s), s).toBe(Date.parse(s));
    }
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

  // A JSON number past 2^53 was rounded when its JSON was read (12345678901234567891 and …892 both
  // read 12345678901234567000): distinct users would be one, named by an id neither has. Refused.
  it.each([JSON.parse('12345678901234567891') as number, 2 ** 53, 1e21, 1.5, -(2 ** 60)])('the number %s is refused (its digits are lost)', (input) => {
    const r = toUser(input, 'user');
    expect(r).toBeInstanceOf(Invalid);
    expect((r as Invalid).message).toMatch(/^user: .*send the id as a string/);
  });
  it.each([
    [2 ** 53 - 1, '9007199254740991'],
    [0, '0'],
    [-7, '-7'],
  ])('the number %s is the user %s', (input, want) => {
    expect(toUser(input, 'user')).toBe(want);
  });

  // Lower-casing can leave a text that is not NFC (Ϊ́ → ΐ, which composes to ΐ): the stored user is
  // NFC, and a user read back (GET /v1/users) and asked about again is the same user.
  it.each(['\u03aa\u0301@X.com', '\u0390@x.com', '\u1fbb\u0345@x.com', '\u1ffb\u0345@X.COM'])('%s is stored in NFC, and reads the same again', (input) => {
    const once = toUser(input, 'user') as string;
    expect(once).toBe(once.normalize('NFC'));
    expect(toUser(once, 'user')).toBe(once);
  });
  it('a capital and a small Greek ΐ are one email user', () => {
    expect(toUser('\u03aa\u0301@x.com', 'user')).toBe(toUser('\u0390@x.com', 'user'));
  });

  // Bytes that were not UTF-8 reach us as U+FFFD, as a lone surrogate (a JSON `\\ud800` escape)
  // becomes: all such users would be one, so they are refused.
  it.each(['a\ud800b', '\udc00A@X', 'w\ufffd@t.com', '\ufffd'])('%s is refused', (input) => {
    const r = toUser(input, 'user');
    expect(r).toBeInstanceOf(Invalid);
    expect((r as Invalid).message).toMatch(/^user: not valid UTF-8/);
  });
});
