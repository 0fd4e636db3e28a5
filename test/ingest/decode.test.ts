import { describe, expect, it } from 'vitest';
import { canonicalEntryFields, decodeEntry, decodeObject, type DecodeOptions } from '../../src/ingest/decode.js';
import { TOO_DEEP } from '../../src/ingest/depth.js';
import { flatToObject } from '../../src/ingest/entry-object.js';
import type { RawEntry } from '../../src/types.js';

const T = Date.parse('2026-11-23T08:00:00Z');
const entry = (fields: Record<string, string>, stream = 'riskstream:login'): RawEntry => ({ stream, id: '1-0', fields, deliveries: 1 });
const login = { type: 'login', user: 'alice@example.com', time: '2026-11-23T08:00:00Z' };

describe('decodeEntry: accepted shapes', () => {
  it.each([
    ['event field', { event: JSON.stringify(login) }],
    ['data field', { data: JSON.stringify(login) }],
    ['message field', { message: JSON.stringify(login) }],
    ['msg field (rsyslog omhiredis stream mode default)', { msg: JSON.stringify(login) }],
    ['event field with leading whitespace', { event: `  ${JSON.stringify(login)}` }],
    ['event field after a byte-order mark', { event: `\ufeff${JSON.stringify(login)}` }],
    ['flat fields', { type: 'login', user: 'alice@example.com', time: '2026-11-23T08:00:00Z' }],
    ['flat epoch ms', { type: 'login', user: 'alice@example.com', time: String(T) }],
    ['flat epoch seconds', { type: 'login', user: 'Alice@Example.com', time: String(T / 1000) }],
  ])('%s', (_n, fields) => {
    expect(decodeEntry(entry(fields))).toEqual({ ok: true, event: { type: 'login', user: 'alice@example.com', time: T } });
  });

  it('nests dotted keys and coerces numbers and posture booleans', () => {
    const r = decodeEntry(
      entry({
        type: 'login',
        user: 'alice@example.com',
        time: String(T),
        ip: '81.2.69.142',
        'geo.lat': '51.5',
        'geo.lon': '-0.12',
        'geo.accuracy_km': '20',
        'geo.country': 'GB',
        'session.id': 's-123',
        'session.expires_at': '2026-11-24T08:00:00Z',
        'session.claims': '{"groups":["eng"]}',
        'device.id': 'd-9',
        'device.posture.os': 'macOS 15.1',
        'device.posture.disk_encrypted': 'true',
        'device.posture.firewall': 'FALSE',
        'device.posture.mdm': 'True',
        'device.posture.agent': 'truest',
        'network.asn': '2856',
        'network.colo': 'LHR',
      }),
    );
    expect(r).toEqual({
      ok: true,
      event: {
        type: 'login',
        user: 'alice@example.com',
        time: T,
        ip: '81.2.69.142',
        geo: { lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB' },
        session: { id: 's-123', expires_at: T + 86_400_000, claims: { groups: ['eng'] } },
        // true / false in any case are booleans; other text stays text.
        device: { id: 'd-9', posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: false, mdm: true, agent: 'truest' } },
        network: { asn: 2856, colo: 'LHR' },
      },
    });
  });

  it('keeps unknown fields, flat and JSON', () => {
    const flat = decodeEntry(entry({ type: 'dlp', user: 'a@b.c', time: String(T), profile: 'credit-cards', 'x.y': '1' }, 'riskstream:activity'));
    expect(flat.ok && flat.event).toMatchObject({ profile: 'credit-cards', x: { y: '1' } });
    const json = decodeEntry(entry({ event: JSON.stringify({ ...login, severity: 'high', app: { name: 'drive' } }) }));
    expect(json.ok && json.event).toMatchObject({ severity: 'high', app: { name: 'drive' } });
  });

  it('merges the other fields of an envelope entry as attributes (the JSON wins)', () => {
    const r = decodeEntry(entry({ event: JSON.stringify(login), source: 'vector', type: 'ignored' }));
    expect(r.ok && r.event).toMatchObject({ type: 'login', source: 'vector' });
  });

  it("keeps a dotted field beside the envelope under a key the JSON also has (an audit: `host.name` beside the JSON's `host` was lost)", () => {
    const event = { ...login, host: { ip: '10.0.0.1' }, app: 'drive' };
    const fields = { event: JSON.stringify(event), 'host.name': 'web-1', 'app.id': '42', 'geo.city': 'London', 'login.source': 'syslog-ng' };
    // Nested where the JSON leaves the place free, else under its dotted name; the JSON's own values win.
    expect(decodeEntry(entry(fields))).toEqual({
      ok: true,
      event: {
        type: 'login',
        user: 'alice@example.com',
        time: T,
        host: { ip: '10.0.0.1', name: 'web-1' },
        app: 'drive',
        'app.id': '42',
        geo: { city: 'London' },
        login: { source: 'syslog-ng' },
      },
    });
    const both = decodeEntry(entry({ event: JSON.stringify({ ...login, host: { name: 'json' } }), 'host.name': 'flat' }));
    expect(both.ok && both.event).toMatchObject({ host: { name: 'json' }, 'host.name': 'flat' });
  });

  it('a flat dotted field beside the envelope does not override the same dotted key in the JSON (the JSON wins where both name one)', () => {
    // ECS-style keys in the JSON nest as nested ones do: the flat field naming the same key lost to it — it won instead.
    const r = decodeEntry(
      entry({
        event: JSON.stringify({ ...login, 'session.id': 'json', 'geo.country': 'GB' }),
        'session.id': 'flat',
        'geo.country': 'RU',
        'geo.city': 'London',
      }),
    );
    expect(r.ok && r.event).toMatchObject({ session: { id: 'json' }, geo: { country: 'GB', city: 'London' } });
    expect(r.ok && Object.keys(r.event).filter((k) => k.includes('.'))).toEqual([]);
  });

  it('treats a plain-text message in a flat entry as an attribute', () => {
    const r = decodeEntry(entry({ ...login, message: '{oops not json' }));
    expect(r.ok && r.event.message).toBe('{oops not json');
  });

  it('a flat entry with its own user keeps a JSON message or msg as text: the line never replaces the event', () => {
    const line = JSON.stringify({ type: 'endpoint', user: 'ceo@example.com', severity: 'critical' });
    for (const name of ['message', 'msg']) {
      const r = decodeEntry(entry({ ...login, outcome: 'failure', [name]: line }));
      expect(r.ok && r.event).toMatchObject({ type: 'login', user: 'alice@example.com', outcome: 'failure', [name]: line });
    }
    // Without a user of its own the flat fields are an envelope: the line is the event.
    const env = decodeEntry(entry({ host: 'h1', message: line }));
    expect(env.ok && env.event).toMatchObject({ type: 'endpoint', user: 'ceo@example.com', host: 'h1' });
  });

  it('two payload fields holding events of different users are refused (neither is guessed); of one user, the second is an attribute', () => {
    for (const [a, b] of [
      ['event', 'data'],
      ['event', 'msg'],
      ['data', 'message'],
    ]) {
      const r = decodeEntry(entry({ [a!]: JSON.stringify(login), [b!]: JSON.stringify({ ...login, user: 'other@example.com' }) }));
      expect(r.ok, `${a} + ${b}`).toBe(false);
      expect(!r.ok && r.reason).toBe(`${a}, ${b}: two events of different users in one entry (neither is guessed)`);
    }
    const same = decodeEntry(entry({ event: JSON.stringify(login), data: JSON.stringify({ note: 'x', user: 'ALICE@example.com' }) }));
    expect(same.ok && same.event).toMatchObject({ user: 'alice@example.com' });
    // A log line's text beside the event is an attribute, as before.
    expect(decodeEntry(entry({ event: JSON.stringify(login), message: 'user logged in' })).ok).toBe(true);
  });

  it('a user is counted in characters, not UTF-16 units: 600 emoji are a user', () => {
    const r = decodeEntry(entry({ type: 'login', user: '\u{1F600}'.repeat(600), time: String(T) }));
    expect(r.ok && r.event.user).toBe('\u{1F600}'.repeat(600));
  });

  it('an event or data field whose user differs from the entry’s user field is refused (two subjects)', () => {
    for (const name of ['event', 'data']) {
      const r = decodeEntry(entry({ user: 'attacker@example.com', [name]: JSON.stringify({ ...login, user: 'victim@example.com' }) }));
      expect(r.ok).toBe(false);
      expect(!r.ok && r.reason).toMatch(new RegExp(`^${name}: `));
      // One user as ingest stores it: an e-mail's case, NFC/NFD; an opaque id's case is another user.
      expect(decodeEntry(entry({ user: 'Alice@Example.com', [name]: JSON.stringify(login) })).ok).toBe(true);
      expect(decodeEntry(entry({ user: 'José', [name]: JSON.stringify({ ...login, user: 'Jose\u0301' }) })).ok).toBe(true);
      expect(decodeEntry(entry({ user: 'alice', [name]: JSON.stringify({ ...login, user: 'Alice' }) })).ok).toBe(false);
      // The same user, or none beside it: the JSON is the event.
      const same = decodeEntry(entry({ user: 'alice@example.com', source: 'x', [name]: JSON.stringify(login) }));
      expect(same.ok && same.event).toMatchObject({ user: 'alice@example.com', source: 'x' });
    }
  });

  it('unwraps a shipper envelope whose message holds the JSON line (Filebeat/Logstash)', () => {
    const filebeat = {
      '@timestamp': '2026-11-23T08:00:01.000Z',
      message: JSON.stringify({ type: 'dlp', user: 'alice@example.com', severity: 'high' }),
      agent: { type: 'filebeat' },
      log: { file: { path: '/var/log/dlp.json' } },
    };
    const r = decodeEntry(entry({ event: JSON.stringify(filebeat) }));
    expect(r).toEqual({ ok: true, event: { type: 'dlp', user: 'alice@example.com', severity: 'high', time: T + 1000 } });
  });

  it('falls back to shipper timestamps when the event has no time', () => {
    const r = decodeEntry(entry({ event: JSON.stringify({ type: 'dlp', user: 'a@b.c', date: T / 1000 }) }));
    expect(r.ok && r.event.time).toBe(T);
  });

  it("takes the entry id's time (when Redis received it) for an event with no time at all", () => {
    const flat = decodeEntry({ ...entry({ type: 'login', user: 'a@b.c' }), id: `${T + 5}-3` });
    expect(flat).toEqual({ ok: true, event: { type: 'login', user: 'a@b.c', time: T + 5 } });
    const json = decodeEntry({ ...entry({ event: JSON.stringify({ type: 'dlp', user: 'a@b.c' }) }), id: `${T}-0` });
    expect(json.ok && json.event.time).toBe(T);
    // A shipper's timestamp still wins over the entry's.
    const shipped = decodeEntry({ ...entry({ event: JSON.stringify({ type: 'dlp', user: 'a@b.c', '@timestamp': T - 60_000 }) }), id: `${T}-0` });
    expect(shipped.ok && shipped.event.time).toBe(T - 60_000);
  });

  it('one user whether their name is written composed or decomposed (Unicode NFC)', () => {
    const composed = decodeEntry(entry({ ...login, user: 'Alice.LK@ex\u00e1mple.com' }));
    const decomposed = decodeEntry(entry({ ...login, user: 'alice.lk@exa\u0301mple.com' }));
    expect(composed.ok && composed.event.user).toBe('alice.lk@ex\u00e1mple.com');
    expect(decomposed.ok && decomposed.event.user).toBe('alice.lk@ex\u00e1mple.com');
    // The length limit counts the stored (NFC) spelling: 600 é decomposed are 1 200 characters raw, 600 stored.
    const long = decodeEntry(entry({ ...login, user: 'e\u0301'.repeat(600) }));
    expect(long.ok && long.event.user).toBe('\u00e9'.repeat(600));
  });

  it('ignores __proto__ keys', () => {
    const r = decodeEntry(entry({ ...login, '__proto__.polluted': 'yes', 'a.__proto__.b': 'x' }));
    expect(r.ok).toBe(true);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });
});

describe('decodeEntry: rejected entries carry a reason naming the field', () => {
  it.each([
    ['bad JSON in event', { event: '{"type":' }, /^event: invalid JSON \(it ends before its JSON does: cut short/],
    // A line a shipper cut at its size limit (rsyslog: 8 096 bytes) is said to be cut short; other broken JSON is not.
    [
      'JSON cut inside a string',
      { event: `{"type":"login","pad":"${'y'.repeat(8073)}` },
      /^event: invalid JSON at position 8096 \(it ends before its JSON does: cut short/,
    ],
    ['broken JSON, not cut', { event: '{"type":"login",,"user":"a@b.c"}' }, /^event: invalid JSON at position 16$/],
    // What it holds instead is said (a list bridge item is any string a shipper pushed).
    ['JSON array in event', { event: '[1,2]' }, /^event: must hold a JSON object \(got array\)$/],
    ['event not JSON', { event: 'hello' }, /^event: must hold a JSON object \(got text, not JSON\)$/],
    ['empty event', { event: '' }, /^event: must hold a JSON object \(got an empty string\)$/],
    ['blank event', { event: ' \n' }, /^event: must hold a JSON object \(got only white space\)$/],
    ['a number in event', { event: '42' }, /^event: must hold a JSON object \(got number\)$/],
    ['a JSON string in event', { event: '"{}"' }, /^event: must hold a JSON object \(got string\)$/],
    ['null in msg', { msg: 'null' }, /^msg: must hold a JSON object \(got null\)$/],
    ['bad JSON in lone message', { message: '{nope' }, /^message: invalid JSON/],
    ['missing user', { type: 'login', time: String(T) }, /user: required/],
    ['empty user', { type: 'login', user: '  ', time: String(T) }, /user: must not be empty/],
    ['user of 1 025 characters', { type: 'login', user: 'u'.repeat(1025), time: String(T) }, /^user: longer than 1024 characters$/],
    ['user of 1 024 characters NFC makes 2 048', { type: 'login', user: '\u0958'.repeat(1024), time: String(T) }, /^user: longer than 1024 characters$/],
    ['user of 1 025 emoji', { type: 'login', user: '\u{1F600}'.repeat(1025), time: String(T) }, /^user: longer than 1024 characters$/],
    ['bad time', { ...login, time: 'last tuesday' }, /time: not an ISO-8601 time/],
    // A blank time is refused, never filled from the entry's id or a shipper's timestamp (found by a black-box review).
    ['empty time (flat)', { ...login, time: '' }, /time: required/],
    ['empty time beside @timestamp', { event: JSON.stringify({ ...login, time: '', '@timestamp': '2026-12-01T00:00:00Z' }) }, /time: required/],
    ['blank time', { ...login, time: '   ' }, /time: not an ISO-8601 time/],
    ['missing type', { user: 'a@b.c', time: String(T) }, /type: required/],
    ['non-numeric lat', { ...login, 'geo.lat': 'abc', 'geo.lon': '1' }, /geo\.lat: must be a number/],
    ['bad ip', { ...login, ip: '10.0.0.300' }, /ip: not a valid/],
    ['empty entry', {}, /type: required/],
  ])('%s', (_n, fields, re) => {
    const r = decodeEntry(entry(fields as Record<string, string>));
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(re);
  });
});

describe('decodeEntry: events are normalised in place', () => {
  it('a refusal found after some fields were normalised still lists every problem of the entry as sent', () => {
    const bad = { ...login, user: 'Alice@Example.com', ip: '10.0.0.300', geo: { lat: 'north', lon: 1 } };
    const r = decodeEntry(entry({ event: JSON.stringify(bad) }));
    expect(r).toEqual({ ok: false, reason: expect.stringMatching(/ip: not a valid.*; geo\.lat: must be a number/) });
    const canonical = decodeEntry(entry({ event: JSON.stringify({ ...bad, time: T }), canonical: '1' }));
    expect(canonical).toEqual(r);
  });

  it('keeps the key order and unknown fields of the entry', () => {
    const r = decodeEntry(entry({ event: JSON.stringify({ z: 1, ...login, outcome: ' OK ', geo: { city: ' Paris ', extra: [1] }, a: null }) }));
    expect(r.ok && JSON.stringify(r.event)).toBe(
      JSON.stringify({ z: 1, type: 'login', user: 'alice@example.com', time: T, outcome: 'success', geo: { city: 'Paris', extra: [1] }, a: null }),
    );
  });
});

describe('decodeEntry: review findings', () => {
  it('a user that was not valid UTF-8 (U+FFFD as Redis hands it over) is refused, not merged with others', () => {
    for (const user of ['w\ufffd@t.com', 'w\ufffd\ufffd@t.com']) {
      const r = decodeEntry(entry({ type: 'dlp', user, time: String(T), severity: 'high' }));
      expect(r).toEqual({ ok: false, reason: expect.stringMatching(/^user: not valid UTF-8/) });
    }
  });

  it('a number written as text beyond a double (1e400, AS followed by 400 digits) is refused as the same number in JSON is, never kept as Infinity (stored as null); in geo it places nothing: absent', () => {
    const flat = { ...login, 'session.id': 's-1' };
    for (const [fields, re] of [
      [{ ...flat, 'network.asn': '1e400' }, /^network\.asn: must be a finite number$/],
      [{ ...flat, 'network.asn': `AS${'9'.repeat(400)}` }, /^network\.asn: must be a finite number$/],
    ] as const)
      expect(decodeEntry(entry(fields))).toEqual({ ok: false, reason: expect.stringMatching(re) });
    // Geo (test/ingest/geo-rules.test.ts): the coordinates (or the accuracy) dropped, the event kept.
    for (const [fields, geo] of [
      [{ ...flat, 'geo.lat': '1e400', 'geo.lon': '2' }, undefined],
      [{ ...flat, 'geo.lat': '1', 'geo.lon': '-1e400' }, undefined],
      [{ ...flat, 'geo.country': 'GB', 'geo.accuracy_km': '1e999' }, { country: 'GB' }],
      [{ event: JSON.stringify({ ...login, geo: { lat: '1e400', lon: 2 } }) }, undefined],
      [{ event: `{"type":"login","user":"a@b.c","time":${T},"geo":{"lat":1e400,"lon":2}}` }, undefined],
    ] as const) {
      const r = decodeEntry(entry(fields));
      expect(r.ok, JSON.stringify(fields)).toBe(true);
      expect(r.ok && r.event.geo).toEqual(geo);
    }
  });

  it('the canonical marker counts only on an entry as riskstream writes it (event + canonical, nothing else)', () => {
    const event = JSON.stringify({ type: 'dlp', user: 'c01@t.com', severity: 'high' });
    // A shipper's entry with its own `canonical` field: decoded as any other (time from the entry id), the field kept.
    const r = decodeEntry(entry({ event, canonical: '1', app: 'drive' }));
    expect(r.ok).toBe(true);
    expect(r.ok && r.event).toMatchObject({ user: 'c01@t.com', app: 'drive', canonical: '1' });
    // riskstream's own: the event must be complete.
    expect(decodeEntry(entry({ event, canonical: '1' }))).toEqual({ ok: false, reason: expect.stringMatching(/time/) });
  });
});

describe('decodeEntry: mapping profiles', () => {
  const okta = {
    uuid: 'b6a3c1f0-0000-11ef-8000-000000000001',
    published: '2026-11-23T08:00:00.000Z',
    eventType: 'user.session.start',
    actor: { id: '00u1', type: 'User', alternateId: 'Alice@Example.com', displayName: 'Alice' },
    outcome: { result: 'SUCCESS' },
    client: { ipAddress: '81.2.69.142' },
  };

  it('auto-detects a vendor shape without configuration', () => {
    const r = decodeEntry(entry({ event: JSON.stringify(okta) }));
    expect(r.ok && r.event).toMatchObject({ type: 'login', user: 'alice@example.com', time: T, outcome: 'success', vendor: 'okta' });
  });

  it('applies the profile configured for the stream', () => {
    const opts: DecodeOptions = {
      mapping: { streams: { 'idp:raw': 'generic:idp' }, generic: { idp: { type: '=login', user: 'who.email|who.id', time: 'ts', ip: 'src' } } },
    };
    const r = decodeEntry(entry({ event: JSON.stringify({ who: { id: 'u-1' }, ts: T, src: '81.2.69.142' }) }, 'idp:raw'), opts);
    expect(r.ok && r.event).toMatchObject({ type: 'login', user: 'u-1', time: T, ip: '81.2.69.142' });
    const other = decodeEntry(entry({ event: JSON.stringify({ who: { id: 'u-1' }, ts: T }) }, 'elsewhere'), opts);
    expect(other.ok).toBe(false);
  });

  it('prefixes the reason with the profile and dead-letters foreign shapes', () => {
    const opts: DecodeOptions = { mapping: { streams: { s: 'okta' }, generic: {} } };
    const r = decodeEntry(entry({ event: JSON.stringify({ foo: 1 }) }, 's'), opts);
    // The reason says what the profile needs of an object.
    expect(!r.ok && r.reason).toMatch(/^profile okta: object is not of its shape: .*eventType.*actor.*published or uuid/);
    const ct = decodeEntry(entry({ event: JSON.stringify({ eventSource: 'signin.amazonaws.com' }) }, 's'), {
      mapping: { streams: { s: 'cloudtrail' }, generic: {} },
    });
    expect(!ct.ok && ct.reason).toMatch(/^profile cloudtrail: .*eventName/);
    const noUser = decodeEntry(entry({ event: JSON.stringify({ ...okta, actor: { type: 'User' } }) }, 's'), opts);
    expect(!noUser.ok && noUser.reason).toMatch(/^profile okta: user: required/);
  });

  it('reports an unknown configured profile as a reason, never a throw', () => {
    const r = decodeEntry(entry({ event: JSON.stringify(login) }, 's'), { mapping: { streams: { s: 'nope' }, generic: {} } });
    expect(!r.ok && r.reason).toMatch(/unknown mapping profile "nope"/);
  });

  it('does not re-map entries marked canonical (written by the HTTP ingest)', () => {
    const opts: DecodeOptions = { mapping: { streams: { s: 'okta' }, generic: {} } };
    const first = decodeEntry(entry({ event: JSON.stringify(okta) }, 's'), opts);
    expect(first.ok).toBe(true);
    const fields = canonicalEntryFields(first.ok ? first.event : ({} as never));
    const again = decodeEntry(
      entry(
        Object.fromEntries([
          [fields[0]!, fields[1]!],
          [fields[2]!, fields[3]!],
        ]),
        's',
      ),
      opts,
    );
    expect(again).toEqual(first);
    // without the marker the stream's profile would reject a canonical shape
    expect(decodeEntry(entry({ event: JSON.stringify(login) }, 's'), opts).ok).toBe(false);
  });

  it('does not auto-detect when disabled or when the object has a canonical user', () => {
    expect(decodeEntry(entry({ event: JSON.stringify(okta) }), { autodetect: false }).ok).toBe(false);
    const r = decodeEntry(entry({ event: JSON.stringify({ ...login, eventType: 'x', actor: {}, published: 'y' }) }));
    expect(r.ok && r.event.type).toBe('login');
  });
});

describe('flatToObject', () => {
  it('keeps a plain value and a dotted key under it both, in either order (a black-box review: one of them was lost, by order)', () => {
    for (const fields of [
      { app: 'drive', 'app.id': '42' },
      { 'app.id': '42', app: 'drive' },
    ])
      expect(flatToObject(fields)).toEqual({ app: 'drive', 'app.id': '42' });
    expect(flatToObject({ 'rule.a.b': '2', 'rule.a': 'x', rule: 'r1' })).toEqual({ rule: 'r1', 'rule.a': 'x', 'rule.a.b': '2' });
    // A JSON object field and dotted keys into it merge, whatever the order; a key it holds already stays its own.
    expect(flatToObject({ 'geo.country': 'GB', 'geo.lat': '2', geo: '{"lat":1,"lon":2}' })).toEqual({ geo: { lat: 1, lon: 2, country: 'GB' }, 'geo.lat': '2' });
  });
  it('an entry whose attribute and a dotted key under it clash keeps both; a canonical field so given is refused, in either order', () => {
    const a = decodeEntry(entry({ type: 'dlp', user: 'a@b.c', time: String(T), 'app.id': '42', app: 'drive' }, 'riskstream:activity'));
    expect(a.ok && a.event).toMatchObject({ app: 'drive', 'app.id': '42' });
    for (const fields of [
      { type: 'login', user: 'a@b.c', time: String(T), device: 'd-9', 'device.posture.os': 'macOS' },
      { type: 'login', user: 'a@b.c', time: String(T), 'device.posture.os': 'macOS', device: 'd-9' },
    ])
      expect(decodeEntry(entry(fields))).toEqual({ ok: false, reason: expect.stringMatching(/^device: must be an object/) });
  });
  it('parses JSON objects in object fields only', () => {
    expect(flatToObject({ geo: '{"lat":1,"lon":2}', note: '{"a":1}' })).toEqual({ geo: { lat: 1, lon: 2 }, note: '{"a":1}' });
  });
});

describe('JSON events with dotted top-level keys (ECS-style documents)', () => {
  const ecs = { ...login, ip: '81.2.69.142', 'geo.lat': 51.5, 'geo.lon': -0.12, 'geo.country': 'gb', 'session.id': 's-1', 'device.posture.firewall': true };
  const nested = {
    ...login,
    time: T,
    ip: '81.2.69.142',
    geo: { lat: 51.5, lon: -0.12, country: 'GB' },
    session: { id: 's-1' },
    device: { posture: { firewall: true } },
  };

  it('nest as flat fields do, in an event field, over POST /v1/events (decodeObject) and beside flat attributes', () => {
    expect(decodeEntry(entry({ event: JSON.stringify(ecs) }))).toEqual({ ok: true, event: nested });
    const input = structuredClone(ecs);
    expect(decodeObject(input, undefined, {}, T)).toEqual({ ok: true, event: nested });
    expect(input).toEqual(ecs); // the caller's object is not changed
    const mixed = decodeEntry(entry({ event: JSON.stringify(ecs), source: 'filebeat' }));
    expect(mixed).toEqual({ ok: true, event: { ...nested, source: 'filebeat' } });
  });

  it('a value given in nested form wins; the dotted key is then kept under its dotted name, in either order', () => {
    for (const ev of [
      { ...login, geo: { lat: 1, lon: 2 }, 'geo.lat': 3, 'geo.city': 'London' },
      { ...login, 'geo.lat': 3, 'geo.city': 'London', geo: { lat: 1, lon: 2 } },
    ]) {
      const r = decodeEntry(entry({ event: JSON.stringify(ev) }));
      expect(r.ok && r.event).toMatchObject({ geo: { lat: 1, lon: 2, city: 'London' }, 'geo.lat': 3 });
    }
    // A plain value in the way is kept, and so is the dotted key.
    const app = decodeEntry(entry({ event: JSON.stringify({ ...login, app: 'drive', 'app.id': 42 }) }));
    expect(app.ok && app.event).toMatchObject({ app: 'drive', 'app.id': 42 });
    // Deeper keys after shallower ones, whatever the order: `a.b` is placed, then `a.b.c` cannot be.
    const deep = decodeEntry(entry({ event: JSON.stringify({ ...login, 'a.b.c': 2, 'a.b': 1 }) }));
    expect(deep.ok && deep.event).toMatchObject({ a: { b: 1 }, 'a.b.c': 2 });
  });

  it('a dotted key that cannot nest stays as it is; nothing reaches a prototype', () => {
    const r = decodeEntry(entry({ event: JSON.stringify({ ...login, '__proto__.polluted': 'yes', 'x..y': 1, 'z.': 2 }) }));
    expect(r.ok && r.event).toMatchObject({ '__proto__.polluted': 'yes', 'x..y': 1, 'z.': 2 });
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('an event a dotted key nests too deeply is refused', () => {
    const key = Array.from({ length: 40 }, (_, i) => `k${i}`).join('.');
    expect(decodeEntry(entry({ event: JSON.stringify({ ...login, [key]: 1 }) }))).toEqual({ ok: false, reason: TOO_DEEP });
    expect(decodeObject({ ...login, [key]: 1 }, undefined, {}, T)).toEqual({ ok: false, reason: TOO_DEEP });
  });

  it('a generic profile maps a JSON event with dotted keys as it maps the same flat fields', () => {
    const opts: DecodeOptions = {
      mapping: {
        streams: { 'vpn:raw': 'generic:vpn' },
        generic: { vpn: { type: '=login', user: 'client.email', time: 'ts', 'session.id': 'client.session' } },
      },
    };
    const flat = decodeEntry(entry({ 'client.email': 'u@x.com', 'client.session': 's-1', ts: String(T) }, 'vpn:raw'), opts);
    expect(flat.ok && flat.event).toMatchObject({ type: 'login', user: 'u@x.com', session: { id: 's-1' } });
    const json = decodeEntry(entry({ event: JSON.stringify({ 'client.email': 'u@x.com', 'client.session': 's-1', ts: T }) }, 'vpn:raw'), opts);
    expect(json.ok && json.event).toMatchObject({ type: 'login', user: 'u@x.com', session: { id: 's-1' } });
  });

  it('an event mapped by a profile is left to it: the profile reads its source paths', () => {
    const opts: DecodeOptions = { mapping: { streams: { 'vpn:raw': 'generic:vpn' }, generic: { vpn: { type: '=login', user: 'who', time: 'ts' } } } };
    const r = decodeEntry(entry({ event: JSON.stringify({ who: 'u-1', ts: T, 'geo.lat': 1, 'geo.lon': 2 }) }, 'vpn:raw'), opts);
    expect(r.ok && r.event).toMatchObject({ type: 'login', user: 'u-1', 'geo.lat': 1, 'geo.lon': 2 });
    expect(r.ok && r.event.geo).toBeUndefined();
  });
});
