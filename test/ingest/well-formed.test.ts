/**
 * Lone surrogates (a JSON `\ud800` escape) become U+FFFD at ingest, in every string and key, so a
 * partition entry (MessagePack: UTF-8), a Redis key and the owner's memory hold the same text
 * (found by a review: a session id kept `\ud800` in memory but came back from a partition entry as
 * three U+FFFD — another session). Escaped surrogate pairs stay.
 */
import { describe, expect, it } from 'vitest';
import { decodeRouted, encodeRouted, type RoutedItem } from '../../src/engine/routed.js';
import { decodeEntry } from '../../src/ingest/decode.js';
import { parseWellFormed, userGivenTwice } from '../../src/ingest/well-formed.js';
import type { CanonicalEvent } from '../../src/types.js';

const T = Date.parse('2026-11-23T08:00:00Z');

describe('parseWellFormed', () => {
  it('replaces lone surrogates in strings and keys, keeps pairs and an own __proto__ key as a property', () => {
    const v = parseWellFormed('{"a":"x\\ud800y","b":["\\udc00"],"k\\ud801":1,"ok":"\\ud83d\\ude00","__proto__":"p\\ud800"}') as Record<string, unknown>;
    expect(v.a).toBe('x\ufffdy');
    expect(v.b).toEqual(['\ufffd']);
    expect(v['k\ufffd']).toBe(1);
    expect(v.ok).toBe('😀');
    expect(Object.getPrototypeOf(v)).toBe(Object.prototype);
    expect(Object.getOwnPropertyDescriptor(v, '__proto__')?.value).toBe('p\ufffd');
  });
});

it('an event whose session id holds a lone surrogate routes and comes back with the same id it was applied with', () => {
  const json = `{"type":"login","user":"a@b.c","time":${T},"session":{"id":"s-\\ud800-1"},"device":{"id":"d\\udfff"}}`;
  const d = decodeEntry({ stream: 's', id: `${T}-0`, fields: { event: json }, deliveries: 1 }, {}, T);
  expect(d.ok).toBe(true);
  const e = (d as { event: CanonicalEvent }).event;
  expect(e.session?.id).toBe('s-\ufffd-1');
  const items: RoutedItem[] = [{ k: [T, 0], s: 's', i: `${T}-0`, e }];
  const back = decodeRouted(encodeRouted(items)) as Array<{ e: CanonicalEvent }>;
  expect(back[0]!.e.session?.id).toBe(e.session?.id);
  expect(back[0]!.e.device?.id).toBe('d\ufffd');
});

describe('userGivenTwice', () => {
  it.each([
    ['{"user":"a","user":"b"}', true],
    ['{ "user" : "a" ,\n "type": "x", "user": "b"}', true],
    ['{"user":"a","actor":{"user":"b"}}', false],
    ['{"user":"a","list":[{"user":"b"}]}', false],
    ['{"user":"a","note":"\\"user\\": b"}', false],
    ['{"user":"a","users":"b","x":"user"}', false],
    ['{"a":"\\\\","user":"a","user":"b"}', true],
    ['{"type":"x"}', false],
    // A key spelled with escapes is the same key to JSON.parse (an audit: `"\u0075ser"` re-attributed the event unseen).
    ['{"user":"a","\\u0075ser":"b"}', true],
    ['{"us\\u0065r":"a","user":"b"}', true],
    ['{"\\u0075\\u0073\\u0065\\u0072":"a","\\u0055ser":"b","us\\u0065rs":"c"}', false],
    ['{"user":"a","note":"\\u0075ser","x":{"\\u0075ser":"b"}}', false],
    // The event Filebeat decoded under `json` (decode.ts takes it as the event): its user twice, or two such objects, re-attributed it unseen.
    ['{"json":{"user":"a","type":"login","user":"b"}}', true],
    ['{"json":{"user":"a"},"x":1,"json":{"user":"b"}}', true],
    ['{"js\\u006fn":{"user":"a","\\u0075ser":"b"}}', true],
    ['{"user":"a","json":{"user":"b"},"j":{"user":"c"},"list":[{"user":"d"}]}', false],
    ['{"json":[{"user":"a"},{"user":"b"}]}', false],
  ])('%s → %s', (text, twice) => {
    expect(JSON.parse(text)).toBeTypeOf('object');
    expect(userGivenTwice(text)).toBe(twice);
  });

  it('an entry whose event names "user" twice is dead-lettered, over XADD as over HTTP', () => {
    const entry = { stream: 'riskstream:login', id: '1-0', deliveries: 1 };
    const r = decodeEntry({ ...entry, fields: { event: '{"type":"login","user":"a@example.com","time":"2026-11-23T08:00:00Z","user":"b@example.com"}' } });
    expect(r).toEqual({ ok: false, reason: 'event: key "user" given more than once (which is the subject?)' });
    const escaped = decodeEntry({
      ...entry,
      fields: { event: '{"type":"login","user":"a@example.com","time":"2026-11-23T08:00:00Z","\\u0075ser":"b@example.com"}' },
    });
    expect(escaped).toEqual({ ok: false, reason: 'event: key "user" given more than once (which is the subject?)' });
    const target = decodeEntry({
      ...entry,
      fields: { event: '{"json":{"type":"login","user":"a@example.com","time":"2026-11-23T08:00:00Z","user":"b@example.com"}}' },
    });
    expect(target).toEqual({ ok: false, reason: 'event: key "user" given more than once (which is the subject?)' });
  });
});
