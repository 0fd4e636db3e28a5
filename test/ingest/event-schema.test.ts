import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { sha256Hex } from '../../src/secrets/secret-values.js';
import { canonicalEventSchema, Invalid, normalizeEvent, toEpochMs, validateEvent } from '../../src/ingest/event-schema.js';

const T = Date.parse('2026-11-23T08:00:00Z');

describe('time normalisation', () => {
  it.each([
    ['ISO Z', '2026-11-23T08:00:00Z', T],
    ['ISO offset', '2026-11-23T09:00:00+01:00', T],
    ['ISO fraction', '2026-11-23T08:00:00.250Z', T + 250],
    ['epoch ms number', T, T],
    ['epoch ms string', String(T), T],
    ['epoch seconds', T / 1000, T],
    ['epoch seconds string', `${T / 1000}`, T],
    ['fractional seconds (Fluent Bit double)', T / 1000 + 0.123456, T + 123],
  ])('%s', (_n, input, want) => {
    expect(toEpochMs(input, 'time')).toBe(want);
  });

  it.each([
    ['garbage', 'yesterday'],
    ['object', {}],
    ['negative', -5],
    ['NaN', Number.NaN],
    ['empty', ''],
    ['month name', 'March 7 2026'],
    ['bad ISO', '2026-13-45T99:00:00Z'],
  ])('rejects %s', (_n, input) => {
    const r = toEpochMs(input, 'time');
    expect(r).toBeInstanceOf(Invalid);
    expect((r as Invalid).message).toMatch(/^time: /);
  });
});

describe('validateEvent', () => {
  const base = { type: 'login', user: 'alice@example.com', time: T };

  it('an event id longer than 512 characters is read as its hash (kept with every hit: no id as long as the event); up to 512 as given', () => {
    const idOf = (id: string): unknown => {
      const r = validateEvent({ ...base, id });
      return r.ok ? r.event.id : r;
    };
    const long = 'evt ' + 'x'.repeat(509); // 513 characters, not token-shaped (a space)
    expect(idOf(long)).toBe(`sha256:${sha256Hex(long)}`);
    expect(idOf(long)).toBe(idOf(long)); // the same on every delivery: a repeat is still known by it
    expect(idOf(long.slice(0, 512))).toBe(long.slice(0, 512));
  });

  it('normalises user, outcome, nested numbers and keeps unknown fields', () => {
    const r = validateEvent({
      ...base,
      user: '  Alice@Example.COM ',
      outcome: 'SUCCESS',
      geo: { lat: '51.5', lon: '-0.12', accuracy_km: '20', country: 'GB', region: 'ENG' },
      session: { id: 7, expires_at: '2026-11-24T08:00:00Z', claims: { groups: ['eng'] } },
      network: { asn: 'AS2856', colo: 'LHR' },
      app: 'drive',
    });
    expect(r).toEqual({
      ok: true,
      event: {
        type: 'login',
        user: 'alice@example.com',
        time: T,
        outcome: 'success',
        geo: { lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB', region: 'ENG' },
        session: { id: '7', expires_at: T + 86_400_000, claims: { groups: ['eng'] } },
        network: { asn: 2856, colo: 'LHR' },
        app: 'drive',
      },
    });
  });

  it.each([
    ['allow', 'success'],
    ['Succeeded', 'success'],
    ['FAILURE', 'failure'],
    ['failed', 'failure'],
    ['denied', 'denied'],
  ])('outcome %s → %s', (input, want) => {
    const r = validateEvent({ ...base, outcome: input });
    expect(r.ok && r.event.outcome).toBe(want);
  });

  it('keeps opaque user ids as they are', () => {
    const r = validateEvent({ ...base, user: '00uABCdef' });
    expect(r.ok && r.event.user).toBe('00uABCdef');
  });

  it('takes out-of-range coordinates as absent (test/ingest/geo-rules.test.ts): the event is kept, GeoIP may locate it', () => {
    const r = validateEvent({ ...base, geo: { lat: 123, lon: -500 } });
    expect(r.ok && r.event.geo).toBeUndefined();
  });

  it.each([
    ['missing user', { type: 'login', time: T }, /user: required/],
    ['empty type', { ...base, type: ' ' }, /type: must not be empty/],
    ['bad time', { ...base, time: 'soon' }, /time: not an ISO-8601 time/],
    ['bad ip', { ...base, ip: '999.1.1.1' }, /ip: not a valid IPv4\/IPv6 address/],
    // The refused value is described, never quoted (it may hold a secret): its length, in words.
    ['a one-letter time', { ...base, time: 'x' }, /time: not an ISO-8601 time or epoch number \(a string of 1 character\)/],
    ['a one-letter number', { ...base, geo: { lat: 'n', lon: 1 } }, /geo\.lat: must be a number \(got a string of 1 character\)/],
    ['non-numeric lat', { ...base, geo: { lat: 'north', lon: 1 } }, /geo\.lat: must be a number/],
    ['geo without lon', { ...base, geo: { lat: 1 } }, /geo\.lon: required/],
    ['geo not an object', { ...base, geo: 'London' }, /geo: must be an object/],
    ['session without id', { ...base, session: { idp: 'okta' } }, /session\.id: required/],
    ['claims not an object', { ...base, session: { id: 's', claims: 'x' } }, /session\.claims: must be an object/],
  ])('rejects %s', (_n, input, re) => {
    const r = validateEvent(input as Record<string, unknown>);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(re);
  });

  it('lists every problem at once', () => {
    const r = validateEvent({ type: 'login', time: 'x', ip: 'nope' });
    expect(!r.ok && r.reason.split('; ')).toHaveLength(3);
  });

  it.each([
    ['1.2.3.4:443', '1.2.3.4'],
    ['81.2.69.142:0', '81.2.69.142'],
    ['[2001:db8::1]:8443', '2001:db8::1'],
    ['[2001:db8::1]', '2001:db8::1'],
    [' 1.2.3.4:65535 ', '1.2.3.4'],
  ])('an address written with a port (%s, as access logs and proxies write one) is its address', (ip, want) => {
    const r = validateEvent({ ...base, ip });
    expect(r.ok && r.event.ip).toBe(want);
  });

  it.each(['Unknown', 'UNKNOWN', '--', '-', 'N/A', 'ZZ', 'xx', ' unknown '])(
    'geo.country %j (a source\'s "no country": CLDR ZZ, Cloudflare XX) is absent — never a country session_hijack or new_country would compare',
    (country) => {
      const london = { lat: 51.5, lon: -0.12 };
      const placed = validateEvent({ ...base, geo: { ...london, country, city: 'London' } });
      expect(placed).toEqual({ ok: true, event: { ...base, geo: { ...london, city: 'London' } } });
      // Nothing else places it: no geo (GeoIP may then locate it from its ip), not a refused event.
      expect(validateEvent({ ...base, ip: '81.2.69.142', geo: { country } })).toEqual({ ok: true, event: { ...base, ip: '81.2.69.142' } });
      // The slow path (zod, as a refused fast path reports) agrees.
      expect(canonicalEventSchema.safeParse({ ...base, geo: { country } }).data).toMatchObject(base);
      expect(canonicalEventSchema.safeParse({ ...base, geo: { country } }).data?.geo).toBeUndefined();
    },
  );

  it('real codes that look like placeholders stay countries: NA (Namibia), XK (Kosovo), T1 (Tor, Cloudflare)', () => {
    for (const country of ['NA', 'XK', 'T1']) expect(validateEvent({ ...base, geo: { country } })).toEqual({ ok: true, event: { ...base, geo: { country } } });
  });

  it('`-` (access logs\' "no address") is an absent ip, not a refused event', () => {
    const r = validateEvent({ ...base, ip: '-' });
    expect(r).toEqual({ ok: true, event: base });
  });

  it.each([
    '1.2.3.4:65536',
    '1.2.3.4:',
    '1.2.3.4:x',
    '999.1.1.1:80',
    '[1.2.3.4]:80',
    '[2001:db8::1]80',
    '2001:db8::1:80:',
    'host.example:443',
    '--',
    '1.2.3.4, 10.0.0.1',
  ])('refuses %s (not one address, with or without a port)', (ip) => {
    const r = validateEvent({ ...base, ip });
    expect(!r.ok && r.reason).toMatch(/^ip: not a valid IPv4\/IPv6 address/);
  });

  it('accepts IPv6 and null optional fields', () => {
    const r = validateEvent({ ...base, ip: '2001:db8::1', id: null, geo: null });
    expect(r).toEqual({ ok: true, event: { ...base, ip: '2001:db8::1' } });
  });

  it("takes a shipper's blank optional fields as absent, and a geo that places nothing as no geo", () => {
    const obj = {
      ...base,
      ip: '',
      id: ' ',
      geo: { lat: null, lon: '', country: '', city: null },
      device: { id: '', posture: { fw: true } },
      network: { asn: '', colo: 'LHR' },
      session: { id: 's-1', idp: '' },
    };
    const want = { ...base, device: { posture: { fw: true } }, network: { colo: 'LHR' }, session: { id: 's-1' } };
    expect(validateEvent(structuredClone(obj))).toEqual({ ok: true, event: want });
    // The zod schema reads them so too.
    const slow = canonicalEventSchema.safeParse(structuredClone(obj));
    expect(slow.success && JSON.parse(JSON.stringify(slow.data))).toEqual(want);
  });

  it('a geo that places nothing keeps its other fields as attributes (found by a black-box audit: `geo.region` alone, `geo.timezone`, were dropped with it)', () => {
    const obj = { ...base, geo: { lat: '', lon: null, region: 'ENG', timezone: 'Europe/London' } };
    const want = { ...base, geo: { region: 'ENG', timezone: 'Europe/London' } };
    expect(validateEvent(structuredClone(obj))).toEqual({ ok: true, event: want });
    expect(normalizeEvent(structuredClone(obj))).toEqual(want);
    const slow = canonicalEventSchema.safeParse(structuredClone(obj));
    expect(slow.success && JSON.parse(JSON.stringify(slow.data))).toEqual(want);
    // An accuracy without coordinates says nothing (and is not read): it goes with the place, nothing is refused.
    expect(validateEvent({ ...base, geo: { accuracy_km: 'n/a', region: 'ENG' } })).toEqual({ ok: true, event: { ...base, geo: { region: 'ENG' } } });
    expect(normalizeEvent({ ...base, geo: { accuracy_km: 'n/a', region: 'ENG' } })).toEqual({ ...base, geo: { region: 'ENG' } });
    // Nothing but blank places: no geo, as before.
    expect(validateEvent({ ...base, geo: { lat: '', lon: null, country: ' ', accuracy_km: '' } })).toEqual({ ok: true, event: base });
  });

  it.each([
    ['a blank required field', { ...base, user: ' ' }, /^user: /],
    ['a blank outcome (it must not read as a success)', { ...base, outcome: '' }, /^outcome: /],
    ['a blank session id under a session', { ...base, session: { id: '' } }, /^session\.id: /],
    ['a geo with coordinates half blank', { ...base, geo: { lat: 51.5, lon: '' } }, /^geo\.lon: required/],
  ])('still refuses %s', (_n, obj, reason) => {
    const r = validateEvent(obj as Record<string, unknown>);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toMatch(reason);
  });
});

describe('fast path and zod schema agree', () => {
  const junk = fc.oneof(
    fc.constant(undefined),
    fc.constant(null),
    fc.constantFrom('', ' '),
    fc.string({ maxLength: 6 }),
    fc.double(),
    fc.integer(),
    fc.constant([1]),
    fc.constant({}),
  );
  /** Mostly valid values (so both paths often accept), sometimes junk. */
  const field = <T>(good: fc.Arbitrary<T>) => fc.oneof({ arbitrary: good, weight: 6 }, { arbitrary: junk, weight: 1 });
  const num = fc.oneof(fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constantFrom('51.5', '-0.12', ' 7 ', '1e3'));
  const time = fc.oneof(fc.integer({ min: 0, max: 4e12 }), fc.constantFrom('2026-11-23T08:00:00Z', '1795420800000', '1795420800.5', '2026-11-23'));
  const event = fc.record(
    {
      type: field(fc.constantFrom('login', 'dlp', ' access ')),
      user: field(fc.constantFrom('alice@EXAMPLE.com', ' bob ', '00u1', 42)),
      time: field(time),
      id: fc.option(field(fc.constantFrom('e-1', 5)), { nil: undefined }),
      outcome: fc.option(field(fc.constantFrom('SUCCESS', 'deny', 'failed')), { nil: undefined }),
      ip: fc.option(field(fc.constantFrom('81.2.69.142', '2001:db8::1')), { nil: undefined }),
      geo: fc.option(
        field(
          fc.record({
            lat: field(num),
            lon: field(num),
            accuracy_km: fc.option(field(num), { nil: undefined }),
            city: fc.option(field(fc.constant('London')), { nil: undefined }),
            country: fc.option(field(fc.constant('GB')), { nil: undefined }),
          }),
        ),
        { nil: undefined },
      ),
      session: fc.option(
        field(
          fc.record({
            id: field(fc.constantFrom('s1', 9)),
            expires_at: fc.option(field(time), { nil: undefined }),
            claims: fc.option(field(fc.constant({ g: ['x'] })), { nil: undefined }),
          }),
        ),
        { nil: undefined },
      ),
      device: fc.option(
        field(
          fc.record({ id: fc.option(field(fc.constant('d-9')), { nil: undefined }), posture: fc.option(field(fc.constant({ fw: true })), { nil: undefined }) }),
        ),
        { nil: undefined },
      ),
      network: fc.option(
        field(
          fc.record({
            asn: fc.option(field(fc.constantFrom(2856, '13335', 'AS1')), { nil: undefined }),
            via: fc.option(field(fc.constant('warp')), { nil: undefined }),
          }),
        ),
        { nil: undefined },
      ),
      extra: fc.option(junk, { nil: undefined }),
    },
    { requiredKeys: ['type', 'user', 'time'] },
  );

  it('accepts and rejects the same objects, with the same output', () => {
    let accepted = 0;
    fc.assert(
      fc.property(event, (obj) => {
        const fast = normalizeEvent(obj as Record<string, unknown>);
        const slow = canonicalEventSchema.safeParse(obj);
        expect(fast instanceof Invalid).toBe(!slow.success);
        if (slow.success && !(fast instanceof Invalid)) {
          accepted++;
          expect(JSON.parse(JSON.stringify(fast))).toEqual(JSON.parse(JSON.stringify(slow.data)));
        }
      }),
      { numRuns: 3000 },
    );
    expect(accepted).toBeGreaterThan(300); // the property is not vacuous
  });
});

describe('geo.country', () => {
  const base = { type: 'login', user: 'alice@example.com', time: T };
  it.each([
    ['a code in capitals', 'GB', 'GB'],
    ['a code in small letters', 'gb', 'GB'],
    ['UK, reserved for the United Kingdom', 'uk', 'GB'],
    ['an English name', 'United Kingdom', 'GB'],
    ['a name in another case, with "the"', 'the netherlands', 'NL'],
    ['something else, kept as given', 'Atlantis', 'Atlantis'],
  ])('%s: %s → %s', (_n, country, want) => {
    const event = { ...base, geo: { country } };
    expect(validateEvent(event)).toMatchObject({ ok: true, event: { geo: { country: want } } });
    expect(normalizeEvent(event)).toMatchObject({ geo: { country: want } });
  });

  it('a country that is not a string is refused as before', () => {
    expect(validateEvent({ ...base, geo: { country: 7 } })).toMatchObject({ ok: false });
    expect(normalizeEvent({ ...base, geo: { country: 7 } })).toBeInstanceOf(Invalid);
  });
});
