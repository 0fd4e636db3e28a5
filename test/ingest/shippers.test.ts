/**
 * Payloads shaped exactly like each shipper's output (docs/shippers.md), through the path the
 * recipe uses: HTTP body → parseEventsBody, or Redis list → list bridge → stream → decodeEntry.
 */
import { gzipSync } from 'node:zlib';
import { afterAll, describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/ingest/decode.js';
import { parseEventsBody } from '../../src/ingest/http-body.js';
import { bridgeOnce } from '../../src/ingest/list-bridge.js';
import type { CanonicalEvent } from '../../src/types.js';
import { readStream, testRedis } from './helpers/redis.js';

const { redis, prefix, cleanup } = testRedis('shippers');
afterAll(cleanup);

const T = Date.parse('2026-11-23T08:00:00Z');
/** The application's own log line (what the file on disk holds). */
const appLine = JSON.stringify({ type: 'login', user: 'Alice@Example.com', time: '2026-11-23T08:00:00Z', ip: '81.2.69.142', outcome: 'success' });
const want = { type: 'login', user: 'alice@example.com', time: T, ip: '81.2.69.142', outcome: 'success' };

const viaHttp = async (body: string | Buffer, headers: { contentType?: string; contentEncoding?: string }): Promise<CanonicalEvent[]> => {
  const items = await parseEventsBody(Buffer.isBuffer(body) ? body : Buffer.from(body), headers, { maxBytes: 1 << 20 });
  return items.map((i) => {
    if (!i.ok) throw new Error(i.reason);
    return i.event;
  });
};

const viaList = async (name: string, items: string[]): Promise<CanonicalEvent[]> => {
  const list = `${prefix}:${name}:list`;
  const stream = `${prefix}:${name}:stream`;
  await redis.rpush(list, ...items);
  await bridgeOnce(redis, list, stream, 100);
  return (await readStream(redis, stream)).map(({ id, fields }) => {
    const r = decodeEntry({ stream, id, fields, deliveries: 1 });
    if (!r.ok) throw new Error(r.reason);
    return r.event;
  });
};

describe('HTTP shippers → POST /v1/events body', () => {
  // Vector `file` source event: the line in `message`, plus file/host/source_type/timestamp.
  const vectorEvent = { file: '/var/log/idp/events.json', host: 'web-1', message: appLine, source_type: 'file', timestamp: '2026-11-23T08:00:00.512345Z' };

  it('Vector http sink, codec json (default framing: JSON array)', async () => {
    const events = await viaHttp(JSON.stringify([vectorEvent, vectorEvent]), { contentType: 'application/json' });
    expect(events).toEqual([want, want]);
  });

  it('Vector http sink, codec json + framing newline_delimited, gzip', async () => {
    const body = gzipSync(`${JSON.stringify(vectorEvent)}\n${JSON.stringify(vectorEvent)}\n`);
    expect(await viaHttp(body, { contentType: 'application/x-ndjson', contentEncoding: 'gzip' })).toEqual([want, want]);
  });

  it('Vector with a remap `. = parse_json!(.message)`: the event itself', async () => {
    expect(await viaHttp(`${appLine}\n`, { contentType: 'application/x-ndjson' })).toEqual([want]);
  });

  // Fluent Bit tail input: the line in `log`; http output adds `date` (json_date_format double).
  it('Fluent Bit http output, format json_lines (tail, no parser)', async () => {
    const rec = { date: 1795420800.512345, log: appLine };
    expect(await viaHttp(`${JSON.stringify(rec)}\n${JSON.stringify(rec)}\n`, { contentType: 'application/json' })).toEqual([want, want]);
  });

  it('Fluent Bit http output, format json (array), json parser, event without its own time', async () => {
    const rec = { date: 1795420800.25, type: 'dlp', user: 'alice@example.com', severity: 'high', profile: 'credit-cards' };
    expect(await viaHttp(JSON.stringify([rec]), { contentType: 'application/json' })).toEqual([
      { type: 'dlp', user: 'alice@example.com', time: T + 250, severity: 'high', profile: 'credit-cards', date: 1795420800.25 },
    ]);
  });
});

describe('HTTP shippers: formats riskstream reads, and those it does not', () => {
  it('Logstash http output, format json_batch (a JSON array of Logstash events, gzip) and format json (one event a request)', async () => {
    const ls = { '@timestamp': '2026-11-23T08:00:00.601Z', '@version': '1', event: { original: appLine }, host: { name: 'web-1' }, message: appLine };
    expect(await viaHttp(gzipSync(JSON.stringify([ls, ls])), { contentType: 'application/json', contentEncoding: 'gzip' })).toEqual([want, want]);
    expect(await viaHttp(JSON.stringify(ls), { contentType: 'application/json' })).toEqual([want]);
  });

  it("Fluent Bit's every json_date_format is the same time (double, epoch, epoch_ms, iso8601, java_sql_timestamp: UTC)", async () => {
    const dates = [1795420800.512345, 1795420800, 1795420800512, '2026-11-23T08:00:00.512345Z', '2026-11-23 08:00:00.512345'];
    const body = dates.map((date) => JSON.stringify({ date, type: 'dlp', user: 'alice@example.com' })).join('\n');
    const events = await viaHttp(`${body}\n`, { contentType: 'application/x-ndjson' });
    expect(events.map((e) => e.time)).toEqual([T + 512, T, T + 512, T + 512, T + 512]);
  });

  it('GELF (Fluent Bit format gelf, Vector codec gelf) and Vector native_json records are dead-lettered with a reason that says so', async () => {
    // Fluent Bit's gelf: every record field prefixed with _, the line (Gelf_Short_Message_Key log) in short_message.
    const gelf = { version: '1.1', short_message: appLine, timestamp: 1795420800.512, host: 'web-1', level: 6, _source: 'idp' };
    // Vector's native_json codec: the event under its kind.
    const native = {
      log: { file: '/var/log/idp/events.json', host: 'web-1', message: appLine, source_type: 'file', timestamp: '2026-11-23T08:00:00.512345Z' },
    };
    const items = await parseEventsBody(
      Buffer.from(`${JSON.stringify(gelf)}\n${JSON.stringify(native)}\n`),
      { contentType: 'application/json' },
      { maxBytes: 1 << 20 },
    );
    expect(items.map((i) => i.ok || i.reason.slice(i.reason.lastIndexOf('(')))).toEqual(['(gelf_not_read))', '(native_json_not_read))']);
  });
});

describe('Redis-list shippers → list bridge → stream', () => {
  it('Vector redis sink (data_type list, codec json)', async () => {
    const vectorEvent = { file: '/var/log/idp/events.json', host: 'web-1', message: appLine, source_type: 'file', timestamp: '2026-11-23T08:00:00.512345Z' };
    expect(await viaList('vector', [JSON.stringify(vectorEvent)])).toEqual([want]);
  });

  it('Logstash redis output (data_type list, default json codec), plain file input', async () => {
    const ls = {
      '@timestamp': '2026-11-23T08:00:00.601Z',
      '@version': '1',
      event: { original: appLine },
      host: { name: 'web-1' },
      log: { file: { path: '/var/log/idp/events.json' } },
      message: appLine,
    };
    // codec => json_lines on the output: each item ends with a newline; batch => true: one RPUSH of many.
    expect(await viaList('logstash', [JSON.stringify(ls), `${JSON.stringify(ls)}\n`])).toEqual([want, want]);
  });

  it('Logstash with `codec => json` on the input: fields at the top, event.original kept', async () => {
    const ls = { ...JSON.parse(appLine), '@timestamp': '2026-11-23T08:00:00.601Z', '@version': '1', event: { original: appLine }, host: { name: 'web-1' } };
    const [e] = await viaList('logstash-json', [JSON.stringify(ls)]);
    expect(e).toMatchObject(want);
    expect(e!['@version']).toBe('1');
  });

  it('Filebeat redis output (filestream input, line in message)', async () => {
    const fb = {
      '@timestamp': '2026-11-23T08:00:00.734Z',
      '@metadata': { beat: 'filebeat', type: '_doc', version: '8.15.0' },
      log: { offset: 0, file: { path: '/var/log/idp/events.json' } },
      message: appLine,
      input: { type: 'filestream' },
      ecs: { version: '8.0.0' },
      host: { name: 'web-1' },
      agent: { type: 'filebeat', version: '8.15.0', name: 'web-1', id: 'a1b2', ephemeral_id: 'c3d4' },
    };
    expect(await viaList('filebeat', [JSON.stringify(fb)])).toEqual([want]);
  });

  it('Filebeat with the line decoded under `json` (ndjson parser target: json; log input json.* without keys_under_root)', async () => {
    const fb = {
      '@timestamp': '2026-11-23T08:00:00.734Z',
      '@metadata': { beat: 'filebeat', type: '_doc', version: '8.15.0' },
      log: { offset: 0, file: { path: '/var/log/idp/events.json' } },
      json: JSON.parse(appLine) as Record<string, unknown>,
      input: { type: 'filestream' },
      host: { name: 'web-1' },
    };
    expect(await viaList('filebeat-json', [JSON.stringify(fb)])).toEqual([want]);
    // A `json` object that is no event (no user, no vendor shape) is not taken for one.
    const other = { ...fb, json: { note: 'not an event' } };
    const [d] = await viaList('filebeat-json-other', [JSON.stringify(other)]).catch((e: Error) => [e.message]);
    expect(String(d)).toMatch(/user: required/);
  });

  it('Filebeat with the line decoded under `json` into a stream mapped by a generic profile: the profile maps that object, as it maps the line in `message` or decoded to the top (was dead-lettered `user: required`)', async () => {
    const line = { username: 'Alice@Example.com', res: 'success', src_ip: '81.2.69.142' };
    const envelope = {
      '@timestamp': '2026-11-23T08:00:00.000Z',
      '@metadata': { beat: 'filebeat', type: '_doc', version: '8.15.0' },
      log: { offset: 0, file: { path: '/var/log/vpn/events.json' } },
      input: { type: 'filestream' },
      host: { name: 'vpn-1' },
    };
    const list = `${prefix}:vpn:list`;
    const stream = `${prefix}:vpn:stream`;
    // target: json; no parser (the line in message); target: "" (at the top).
    await redis.rpush(
      list,
      JSON.stringify({ ...envelope, json: line }),
      JSON.stringify({ ...envelope, message: JSON.stringify(line) }),
      JSON.stringify({ ...envelope, ...line }),
    );
    await bridgeOnce(redis, list, stream, 100);
    const mapping = { streams: { [stream]: 'generic:vpn' }, generic: { vpn: { type: '=login', user: 'username', time: 'ts', outcome: 'res', ip: 'src_ip' } } };
    const rows = await readStream(redis, stream);
    expect(rows).toHaveLength(3);
    for (const { id, fields } of rows) {
      const r = decodeEntry({ stream, id, fields, deliveries: 1 }, { mapping });
      expect(r.ok ? r.event : r.reason).toMatchObject(want); // time: the envelope's @timestamp
    }
  });

  it("the line's own timestamp, not the shipper's read time: a winston line (`timestamp`) read an hour late by Filebeat and Logstash", async () => {
    // winston's json format names its time `timestamp`; the envelope's @timestamp is when the line was read
    // (a shipper catching up on a backlog). Was the envelope's @timestamp: the login an hour late.
    const line = JSON.stringify({ type: 'login', user: 'alice@example.com', timestamp: '2026-11-23T08:00:00.000Z', ip: '81.2.69.142', outcome: 'success' });
    const fb = {
      '@timestamp': '2026-11-23T09:00:00.734Z',
      '@metadata': { beat: 'filebeat', type: '_doc', version: '8.15.0' },
      message: line,
      input: { type: 'filestream' },
    };
    const ls = { '@timestamp': '2026-11-23T09:00:00.601Z', '@version': '1', event: { original: line }, message: line, host: { name: 'web-1' } };
    const events = await viaList('read-late', [JSON.stringify(fb), JSON.stringify(ls)]);
    expect(events.map((e) => e.time)).toEqual([T, T]);
    // Vector's envelope `timestamp` likewise gives way to the line's `date`.
    const vec = { file: '/var/log/idp/events.json', host: 'web-1', source_type: 'file', timestamp: '2026-11-23T09:00:00.512345Z' };
    const inner = JSON.stringify({ type: 'dlp', user: 'alice@example.com', date: '2026-11-23T08:00:00Z', severity: 'high' });
    const [v] = await viaHttp(JSON.stringify({ ...vec, message: inner }), { contentType: 'application/json' });
    expect(v!.time).toBe(T);
  });

  it('Filebeat shipping ECS documents (an ecs-logging line): the generic profile of docs/shippers.md maps them; unmapped, the reason names the object user', async () => {
    const ecsLine = JSON.stringify({
      '@timestamp': '2026-11-23T08:00:00.000Z',
      'log.level': 'info',
      message: 'login succeeded',
      'ecs.version': '8.11.0',
      event: { id: 'e-1', action: 'user-login', category: ['authentication'], type: ['start'], outcome: 'success' },
      user: { name: 'alice', email: 'Alice@Example.com' },
      source: { ip: '81.2.69.142', geo: { location: { lat: 51.5, lon: -0.12 }, country_iso_code: 'GB', city_name: 'London' }, as: { number: 2856 } },
    });
    const fb = {
      '@timestamp': '2026-11-23T09:00:00.734Z',
      '@metadata': { beat: 'filebeat', type: '_doc', version: '8.15.0' },
      message: ecsLine,
      input: { type: 'filestream' },
    };
    const decoded = JSON.parse(ecsLine) as Record<string, unknown>; // ndjson parser, target: ""
    const list = `${prefix}:ecs:list`;
    const stream = `${prefix}:ecs:stream`;
    await redis.rpush(list, JSON.stringify(fb), JSON.stringify({ ...decoded, '@metadata': fb['@metadata'], input: fb.input }));
    await bridgeOnce(redis, list, stream, 100);
    const mapping = {
      streams: { [stream]: 'generic:ecs' },
      generic: {
        ecs: {
          type: '=login',
          id: 'event.id',
          user: 'user.email|user.name',
          time: '@timestamp',
          outcome: 'event.outcome',
          ip: 'source.ip',
          'geo.lat': 'source.geo.location.lat',
          'geo.lon': 'source.geo.location.lon',
          'geo.country': 'source.geo.country_iso_code',
          'geo.city': 'source.geo.city_name',
          'network.asn': 'source.as.number',
        },
      },
    };
    const rows = await readStream(redis, stream);
    for (const { id, fields } of rows) {
      const r = decodeEntry({ stream, id, fields, deliveries: 1 }, { mapping });
      if (!r.ok) throw new Error(r.reason);
      expect(r.event).toMatchObject({
        ...want,
        id: 'e-1',
        geo: { lat: 51.5, lon: -0.12, country: 'GB', city: 'London' },
        network: { asn: 2856 },
      });
    }
    expect(rows).toHaveLength(2);
    // Without the profile: refused (dead-lettered), never a guess.
    const r = decodeEntry({ stream: `${prefix}:unmapped`, id: rows[0]!.id, fields: rows[0]!.fields, deliveries: 1 });
    expect(r.ok || r.reason).toContain('(ecs_unmapped)');
  });

  it("a line's own timestamp that is no readable time gives way to the envelope's, rather than dead-letter the line", async () => {
    // A syslog-style `timestamp` and a `date` meaning something else in the line; Filebeat's @timestamp
    // and Vector's timestamp readable. Was time_invalid (dead-lettered) once the line's came first.
    const syslog = JSON.stringify({ type: 'login', user: 'alice@example.com', timestamp: 'Nov 23 08:00:00', ip: '81.2.69.142', outcome: 'success' });
    const fb = { '@timestamp': '2026-11-23T08:00:00.000Z', '@metadata': { beat: 'filebeat', type: '_doc', version: '8.15.0' }, message: syslog };
    const [f] = await viaList('unreadable-own', [JSON.stringify(fb)]);
    expect(f!.time).toBe(T);
    const inner = JSON.stringify({ type: 'dlp', user: 'alice@example.com', date: 'Monday', severity: 'high' });
    const vec = { file: '/var/log/idp/events.json', host: 'web-1', source_type: 'file', timestamp: '2026-11-23T08:00:00Z', message: inner };
    const [v] = await viaHttp(JSON.stringify(vec), { contentType: 'application/json' });
    expect(v!.time).toBe(T);
    // A readable one of the line's own still wins, epoch seconds too (structlog's default TimeStamper).
    const secs = JSON.stringify({ type: 'dlp', user: 'alice@example.com', timestamp: T / 1000, severity: 'high' });
    const [s] = await viaHttp(JSON.stringify({ ...vec, timestamp: '2026-11-23T09:00:00Z', message: secs }), { contentType: 'application/json' });
    expect(s!.time).toBe(T);
    // Nothing readable anywhere: still refused as time_invalid, never the time it was received.
    const items = await parseEventsBody(
      Buffer.from(JSON.stringify({ ...vec, timestamp: 'later', message: inner })),
      { contentType: 'application/json' },
      { maxBytes: 1 << 20 },
    );
    expect(items[0]!.ok || items[0]!.reason).toContain('time_invalid');
  });

  it('an Okta System Log event shipped as is (auto-detected)', async () => {
    const okta = {
      uuid: 'u-1',
      published: '2026-11-23T08:00:00.000Z',
      eventType: 'user.session.start',
      actor: { id: '00u1', type: 'User', alternateId: 'alice@example.com' },
      outcome: { result: 'SUCCESS' },
      client: { ipAddress: '81.2.69.142' },
    };
    const [e] = await viaList('okta', [JSON.stringify(okta)]);
    expect(e).toMatchObject({ ...want, id: 'u-1', vendor: 'okta' });
  });
});

describe('XADD straight to the stream', () => {
  it('both shapes: one JSON field, and flat fields with dotted keys', async () => {
    const stream = `${prefix}:xadd`;
    await redis.xadd(stream, '*', 'event', appLine);
    await redis.xadd(
      stream,
      '*',
      'type',
      'login',
      'user',
      'alice@example.com',
      'time',
      '2026-11-23T08:00:00Z',
      'ip',
      '81.2.69.142',
      'outcome',
      'success',
      'geo.lat',
      '51.5',
      'geo.lon',
      '-0.12',
    );
    const events = (await readStream(redis, stream)).map(({ id, fields }) => decodeEntry({ stream, id, fields, deliveries: 1 }));
    expect(events[0]).toEqual({ ok: true, event: want });
    expect(events[1]).toEqual({ ok: true, event: { ...want, geo: { lat: 51.5, lon: -0.12 } } });
  });
});
