import { gzipSync, deflateSync, brotliCompressSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { decompressBody, parseEventsBody, routeEvent } from '../../src/ingest/http-body.js';
import { splitBody } from '../../src/ingest/body-records.js';
import { riskstreamSchema } from '../../src/config/schema.js';

const T = Date.parse('2026-11-23T08:00:00Z');
const ev = (i: number, type = 'login') => ({ type, user: `u${i}@example.com`, time: T + i });
const LIMIT = 1024 * 1024;
const parse = (body: string | Buffer, contentEncoding?: string, contentType = 'application/json', maxBytes = LIMIT) =>
  parseEventsBody(Buffer.isBuffer(body) ? body : Buffer.from(body), { contentType, contentEncoding }, { maxBytes });

describe('parseEventsBody: framings', () => {
  it.each([
    ['NDJSON', [ev(1), ev(2), ev(3)].map((e) => JSON.stringify(e)).join('\n') + '\n'],
    ['NDJSON with CRLF and blank lines', '\r\n' + [ev(1), ev(2), ev(3)].map((e) => JSON.stringify(e)).join('\r\n\r\n') + '\r\n'],
    ['JSON array', JSON.stringify([ev(1), ev(2), ev(3)])],
    ['pretty JSON array', JSON.stringify([ev(1), ev(2), ev(3)], null, 2)],
    ['wrapped in events', JSON.stringify({ events: [ev(1), ev(2), ev(3)] })],
    ['wrapped in records (Azure export)', JSON.stringify({ records: [ev(1), ev(2), ev(3)] })],
    ['UTF-8 BOM', '\ufeff' + JSON.stringify([ev(1), ev(2), ev(3)])],
    ["Fluent Bit's json_stream (objects back to back)", [ev(1), ev(2), ev(3)].map((e) => JSON.stringify(e)).join('')],
  ])('%s', async (_n, body) => {
    const items = await parse(body);
    expect(items.map((i) => i.ok && i.event.user)).toEqual(['u1@example.com', 'u2@example.com', 'u3@example.com']);
  });

  it('a record naming "user" twice is refused (JSON.parse would keep the last); a nested "user" is no second one', async () => {
    const body = [
      '{"type":"access","user":"a@example.com","user":"b@example.com"}',
      '{"type":"access", "user" :"c@example.com", "actor": {"user": "x"}, "note": "\\"user\\": y"}',
      // The same key spelled with an escape (JSON.parse reads both as "user").
      '{"type":"access","user":"a@example.com","\\u0075ser":"b@example.com"}',
    ].join('\n');
    const items = await parse(body, undefined, 'application/x-ndjson');
    expect(items.map((i) => (i.ok ? i.event.user : i.reason))).toEqual([
      'line 1: key "user" given more than once (which is the subject?)',
      'c@example.com',
      'line 3: key "user" given more than once (which is the subject?)',
    ]);
  });

  it('accepts a single object, compact or pretty-printed', async () => {
    for (const body of [JSON.stringify(ev(1)), JSON.stringify(ev(1), null, 2)]) {
      const items = await parse(body);
      expect(items).toHaveLength(1);
      expect(items[0]).toMatchObject({ ok: true, event: { user: 'u1@example.com', time: T + 1 } });
    }
  });

  it('gives an event with no time the time it was received', async () => {
    const before = Date.now();
    const [item] = await parse(JSON.stringify({ type: 'login', user: 'u1@example.com' }));
    expect(item).toMatchObject({ ok: true, event: { user: 'u1@example.com' } });
    const time = item!.ok ? item!.event.time : NaN;
    expect(time).toBeGreaterThanOrEqual(before);
    expect(time).toBeLessThanOrEqual(Date.now());
  });

  it('returns nothing for an empty body', async () => {
    expect(await parse('  \n')).toEqual([]);
  });

  it('reports bad lines and bad events per item, keeping the raw text', async () => {
    const body = [JSON.stringify(ev(1)), '{"type":"login",', JSON.stringify({ type: 'login', time: T }), '[1]'].join('\n');
    const items = await parse(body);
    expect(items.map((i) => i.ok)).toEqual([true, false, false, false]);
    expect(items[1]).toEqual({ ok: false, reason: 'line 2: invalid JSON', raw: '{"type":"login",' });
    expect(items[2]).toMatchObject({ ok: false, reason: 'user: required' });
    // A line that is an array is its elements, each a record.
    expect(items[3]).toEqual({ ok: false, reason: 'event must be a JSON object (got number)', raw: '1' });
  });

  it('a record a vendor profile throws on (an object with toString where text is expected) is refused on its own', async () => {
    const entra = {
      userPrincipalName: 'x@example.com',
      createdDateTime: '2026-11-23T08:00:00Z',
      status: { errorCode: { toString: 1, valueOf: 1 } },
      ipAddress: '81.2.69.142',
    };
    const items = await parse([JSON.stringify(ev(1)), JSON.stringify(entra), JSON.stringify(ev(2))].join('\n'));
    expect(items.map((i) => i.ok)).toEqual([true, false, true]);
    expect(items[1]).toMatchObject({ ok: false, reason: expect.stringMatching(/^decode_failed: /) });
  });

  it('rejects an unreadable JSON array as a whole', async () => {
    await expect(parse('[{"a":1},')).rejects.toMatchObject({ code: 'BAD_REQUEST' });
  });

  it('rejects msgpack (Fluent Bit default format) as an unsupported media type, with a hint', async () => {
    await expect(parse('\x93', undefined, 'application/msgpack')).rejects.toMatchObject({
      code: 'UNSUPPORTED_MEDIA_TYPE',
      message: expect.stringMatching(/json_lines/),
    });
  });

  it("rejects Protocol Buffers (Vector's otlp codec, OTLP/HTTP exporters: application/x-protobuf) as an unsupported media type (was split on its newline bytes into garbage records, each dead-lettered)", async () => {
    for (const type of ['application/x-protobuf', 'application/protobuf', 'application/vnd.google.protobuf; proto=x']) {
      await expect(parse('\x0a\x8a\x01\n\x0a', undefined, type)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    }
    // A JSON type that merely contains the word is read as JSON.
    await expect(parse('{"type":"dlp","user":"a@example.com"}', undefined, 'application/x-protobuf-json-ish+json')).resolves.toHaveLength(1);
  });

  it('applies vendor detection and stream profiles', async () => {
    const okta = {
      uuid: 'u',
      published: '2026-11-23T08:00:00Z',
      eventType: 'user.session.start',
      actor: { alternateId: 'a@b.c' },
      outcome: { result: 'SUCCESS' },
    };
    const [auto] = await parse(JSON.stringify(okta));
    expect(auto).toMatchObject({ ok: true, event: { type: 'login', user: 'a@b.c' } });
    const [mapped] = await parseEventsBody(
      Buffer.from(JSON.stringify({ who: 'x', ts: T })),
      {},
      {
        maxBytes: LIMIT,
        stream: 'custom',
        decode: { mapping: { streams: { custom: 'generic:c' }, generic: { c: { type: '=dlp', user: 'who', time: 'ts' } } } },
      },
    );
    expect(mapped).toMatchObject({ ok: true, event: { type: 'dlp', user: 'x' } });
  });
});

describe('compression and limits', () => {
  const ndjson = Array.from({ length: 200 }, (_, i) => JSON.stringify(ev(i))).join('\n');

  it.each([
    ['gzip', gzipSync],
    ['x-gzip', gzipSync],
    ['deflate', deflateSync],
    ['br', brotliCompressSync],
  ] as const)('%s', async (enc, fn) => {
    const items = await parse(fn(Buffer.from(ndjson)), enc);
    expect(items).toHaveLength(200);
    expect(items.every((i) => i.ok)).toBe(true);
  });

  it('recognises gzip by its magic bytes when Content-Encoding is missing (Content-Type: application/gzip)', async () => {
    const items = await parse(gzipSync(Buffer.from(ndjson)), undefined, 'application/gzip');
    expect(items).toHaveLength(200);
    expect(items.every((i) => i.ok)).toBe(true);
  });

  it('refuses a gzip bomb past the decompressed-size limit', async () => {
    const bomb = gzipSync(Buffer.alloc(16 * 1024 * 1024, 0x20));
    expect(bomb.length).toBeLessThan(64 * 1024);
    await expect(parse(bomb, 'gzip', 'application/json', LIMIT)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('refuses an uncompressed body past the limit', async () => {
    await expect(parse(ndjson, undefined, 'application/json', 100)).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it("the default http.max_records takes a Vector http sink's default batch of the smallest events (10 MB by Vector's estimate, no event limit: 434 783 records; was refused 413 past 100 000, and Vector drops such a batch)", () => {
    const smallest = '{"type":"x","user":"u"}';
    const records = Math.floor(10_000_000 / smallest.length);
    const body = `${smallest}\n`.repeat(records);
    expect(splitBody(body, riskstreamSchema.parse({}).http.max_records).spans.length / 2).toBe(records);
  });

  it('refuses too many records', async () => {
    await expect(parseEventsBody(Buffer.from(ndjson), {}, { maxBytes: LIMIT, maxEvents: 10 })).rejects.toMatchObject({ code: 'PAYLOAD_TOO_LARGE' });
  });

  it('rejects corrupt gzip as BAD_REQUEST and unknown encodings as UNSUPPORTED_MEDIA_TYPE (415, RFC 9110); identity in a list changes nothing', async () => {
    await expect(decompressBody(Buffer.from('nope'), 'gzip', LIMIT)).rejects.toMatchObject({ code: 'BAD_REQUEST' });
    for (const enc of ['zstd', 'snappy', 'gzip, br'])
      await expect(decompressBody(Buffer.from('x'), enc, LIMIT)).rejects.toMatchObject({ code: 'UNSUPPORTED_MEDIA_TYPE' });
    expect((await decompressBody(Buffer.from('x'), ' Identity ', LIMIT)).toString()).toBe('x');
    expect((await decompressBody(gzipSync(Buffer.from('y')), 'gzip, identity', LIMIT)).toString()).toBe('y');
  });
});

describe('routeEvent', () => {
  const streams = { login: 'rs:login', activity: 'rs:activity' };
  it.each([
    ['login', 'rs:login'],
    ['session_refresh', 'rs:login'],
    ['dlp', 'rs:activity'],
    ['access', 'rs:activity'],
  ])('%s → %s', (type, want) => {
    expect(routeEvent({ type }, streams)).toBe(want);
  });
});
