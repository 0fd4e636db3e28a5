import { describe, expect, it } from 'vitest';
import { deeperThan, mayNestDeeperThan, MAX_EVENT_DEPTH, TOO_DEEP } from '../../src/ingest/depth.js';
import { decodeEntry, decodeObject } from '../../src/ingest/decode.js';

/** Objects and arrays nested `levels` deep around a number. */
const nested = (levels: number): unknown => {
  let v: unknown = 1;
  for (let i = 0; i < levels; i++) v = i % 2 ? { a: v } : [v];
  return v;
};
const T = Date.parse('2026-11-23T08:00:00Z');
const entry = (fields: Record<string, string>) => ({ stream: 'riskstream:login', id: `${T}-0`, fields, deliveries: 1 });

describe('deeperThan', () => {
  it.each([
    ['a scalar', 1, 1, false],
    ['an empty object', {}, 1, false],
    ['32 levels', nested(32), 32, false],
    ['33 levels', nested(33), 32, true],
    ['100 000 levels (no stack overflow)', nested(100_000), 32, true],
    ['wide but shallow (4 levels)', { a: Array.from({ length: 10_000 }, () => ({ b: [1] })) }, 4, false],
    ['wide, one branch deeper', { a: [...Array.from({ length: 100 }, () => ({ b: 1 })), { b: [[1]] }] }, 4, true],
  ])('%s', (_n, v, max, expected) => {
    expect(deeperThan(v, max)).toBe(expected);
  });
});

describe('mayNestDeeperThan: the cheap bound before the walk', () => {
  it.each([
    ['a usual JSON event', { event: JSON.stringify({ type: 'login', user: 'u', geo: { lat: 1 }, session: { id: 's', claims: { groups: ['a'] } } }) }, false],
    ['usual flat fields', { type: 'login', user: 'u', 'geo.lat': '1', 'device.posture.os': 'macOS' }, false],
    ['31 brackets in all (the event itself is the 32nd level)', { event: '['.repeat(31) }, false],
    ['32 brackets in all', { event: '['.repeat(20), x: '{'.repeat(12) }, true],
    ['a key of 40 segments', { [Array.from({ length: 40 }, () => 'a').join('.')]: '1' }, true],
  ])('%s', (_n, fields, expected) => {
    expect(mayNestDeeperThan(fields as Record<string, string>)).toBe(expected);
  });

  it('never says no where the walk says yes', () => {
    for (let depth = 1; depth <= 40; depth++) {
      const fields = { event: JSON.stringify({ type: 'dlp', user: 'u', x: nested(depth) }) };
      if (deeperThan(JSON.parse(fields.event))) expect(mayNestDeeperThan(fields), `depth ${depth}`).toBe(true);
    }
  });
});

describe('decoding refuses events nested too deeply', () => {
  const deepJson = (n: number) => '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  it.each([
    ['JSON in the event field', { event: `{"type":"dlp","user":"u@x","x":${deepJson(10_000)}}` }],
    ['JSON in a flat field', { type: 'login', user: 'u@x', 'device.posture': deepJson(8_000) }],
    ['a dotted key of 10 000 segments', { type: 'login', user: 'u@x', [`${'a.'.repeat(10_000)}a`]: '1' }],
    ["JSON in a shipper envelope's message", { event: JSON.stringify({ message: `{"type":"dlp","user":"u@x","x":${deepJson(4_500)}}` }) }],
    ['JSON in a flat log field', { log: `{"type":"dlp","user":"u@x","x":${deepJson(40)}}`, host: 'h' }],
    ['a canonical entry', { event: `{"type":"dlp","user":"u@x","time":${T},"x":${deepJson(5_000)}}`, canonical: '1' }],
  ])('%s', (_n, fields) => {
    expect(decodeEntry(entry(fields as Record<string, string>))).toEqual({ ok: false, reason: TOO_DEEP });
  });

  it(`accepts ${MAX_EVENT_DEPTH} levels, refuses one more (entries and HTTP records alike)`, () => {
    const ok = { type: 'dlp', user: 'u@x', time: T, x: nested(MAX_EVENT_DEPTH - 1) };
    const bad = { type: 'dlp', user: 'u@x', time: T, x: nested(MAX_EVENT_DEPTH) };
    expect(decodeObject(ok, undefined).ok).toBe(true);
    expect(decodeObject(bad, undefined)).toEqual({ ok: false, reason: TOO_DEEP });
    expect(decodeObject({ message: JSON.stringify(bad) }, undefined)).toEqual({ ok: false, reason: TOO_DEEP });
    expect(decodeObject({ message: JSON.stringify(ok) }, undefined).ok).toBe(true);
    expect(decodeEntry(entry({ event: JSON.stringify(ok) })).ok).toBe(true);
    expect(decodeEntry(entry({ event: JSON.stringify(bad) }))).toEqual({ ok: false, reason: TOO_DEEP });
  });
});
