import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isRiskstreamError } from '../../src/errors.js';
import { GeoIp, openGeoIp } from '../../src/ingest/geoip.js';
import type { CanonicalEvent, StreamEvent } from '../../src/types.js';
import { buildMmdb, cityRecord, Typed } from './helpers/mmdb-writer.js';

const dir = mkdtempSync(join(tmpdir(), 'rs-geoip-'));
const file = join(dir, 'city.mmdb');
let geo: GeoIp;

beforeAll(async () => {
  writeFileSync(
    file,
    buildMmdb([
      { cidr: '81.2.69.0/24', data: cityRecord({ lat: 51.5142, lon: -0.0931, radius: 20, country: 'GB', city: 'London' }) },
      { cidr: '81.0.0.0/8', data: cityRecord({ lat: 54, lon: -2, radius: 500, country: 'GB' }) },
      { cidr: '1.128.0.0/11', data: cityRecord({ lat: -33.8591, lon: 151.2002, radius: 100, country: 'AU', city: 'Sydney' }) },
      { cidr: '2001:db8::/32', data: cityRecord({ lat: 52.37, lon: 4.89, radius: 50, country: 'NL', city: 'Amsterdam' }) },
    ]),
  );
  geo = await GeoIp.open(file, { cacheSize: 100 });
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const login = (over: Partial<CanonicalEvent> = {}): CanonicalEvent => ({ type: 'login', user: 'a@b.c', time: 1, ip: '81.2.69.142', ...over });

describe('GeoIp.lookup', () => {
  it.each([
    ['most specific network', '81.2.69.142', { lat: 51.5142, lon: -0.0931, accuracy_km: 20, country: 'GB', city: 'London' }],
    ['covering network', '81.200.1.1', { lat: 54, lon: -2, accuracy_km: 500, country: 'GB' }],
    ['another /11', '1.130.5.6', { lat: -33.8591, lon: 151.2002, accuracy_km: 100, country: 'AU', city: 'Sydney' }],
    ['IPv4-mapped IPv6', '::ffff:81.2.69.142', { lat: 51.5142, lon: -0.0931, accuracy_km: 20, country: 'GB', city: 'London' }],
    ['IPv6', '2001:db8::42', { lat: 52.37, lon: 4.89, accuracy_km: 50, country: 'NL', city: 'Amsterdam' }],
    ['not in the database', '8.8.8.8', null],
    ['private', '10.1.2.3', null],
    ['not an IP', 'nope', null],
  ])('%s', (_n, ip, want) => {
    expect(geo.lookup(ip)).toEqual(want);
    expect(geo.lookup(ip)).toEqual(want); // cached answer is the same
  });
});

describe('GeoIp.enrich', () => {
  it('fills geo on a login with an ip and no geo', () => {
    expect(geo.enrich(login()).geo).toEqual({ lat: 51.5142, lon: -0.0931, accuracy_km: 20, country: 'GB', city: 'London' });
    expect(geo.enrich(login({ type: 'session_refresh' })).geo).toBeDefined();
  });

  it("adds coordinates to a country-only geo, keeping the event's own country and city", () => {
    expect(geo.enrich(login({ geo: { country: 'UK', city: 'City of London' } })).geo).toEqual({
      lat: 51.5142,
      lon: -0.0931,
      accuracy_km: 20,
      country: 'UK',
      city: 'City of London',
    });
  });

  it("takes neither coordinates nor city from a lookup in another country than the event's own", () => {
    const e = login({ geo: { country: 'US' } }); // 81.2.69.142 is London in the database
    expect(geo.enrich(e)).toBe(e);
    const bad = login({ geo: { country: 'us', lat: 0, lon: 0 } });
    expect(geo.enrich(bad)).toBe(bad);
  });

  it.each([
    ['out of range', { lat: 200, lon: 500, accuracy_km: 5 }],
    ['(0, 0): an unknown place', { lat: 0, lon: 0 }],
    ['not numbers', { lat: Number.NaN, lon: 1 }],
  ])("replaces unusable coordinates (%s) with the ip's", (_n, bad) => {
    expect(geo.enrich(login({ ip: '1.128.0.1', geo: bad as CanonicalEvent['geo'] })).geo).toEqual({
      lat: -33.8591,
      lon: 151.2002,
      accuracy_km: 100,
      country: 'AU',
      city: 'Sydney',
    });
  });

  it('locates another use of a session (its country for session_hijack), not an event without one', () => {
    const use = login({ type: 'access', session: { id: 's-1' } });
    expect(geo.enrich(use).geo).toMatchObject({ country: 'GB' });
    const plain = login({ type: 'access' });
    expect(geo.enrich(plain)).toBe(plain);
  });

  it('leaves other events untouched (same object)', () => {
    for (const e of [login({ geo: { lat: 1, lon: 2 } }), login({ ip: undefined }), login({ type: 'dlp' }), login({ ip: '8.8.8.8' })]) {
      expect(geo.enrich(e)).toBe(e);
    }
  });

  it('does not share the cached geo object between events', () => {
    const a = geo.enrich(login());
    a.geo!.city = 'changed';
    expect(geo.enrich(login()).geo!.city).toBe('London');
  });

  it('enriches a batch in place', () => {
    const batch: StreamEvent[] = [login(), login({ ip: '8.8.8.8' }), login({ type: 'dlp' })].map((event, i) => ({
      ref: { stream: 's', id: `${i}-0` },
      event,
      deliveries: 1,
    }));
    expect(geo.enrichEvents(batch)).toBe(1);
    expect(batch[0]!.event.geo?.country).toBe('GB');
  });
});

describe('a Country database (no coordinates)', () => {
  const countryFile = join(dir, 'country.mmdb');
  let cdb: GeoIp;
  beforeAll(async () => {
    const country = (iso: string) => ({ country: { geoname_id: new Typed('uint32', 1), iso_code: iso, names: { en: iso } } });
    writeFileSync(
      countryFile,
      buildMmdb([
        { cidr: '81.2.69.0/24', data: country('GB') },
        { cidr: '1.128.0.0/11', data: country('AU') },
      ]),
    );
    cdb = await GeoIp.open(countryFile, { cacheSize: 10 });
  });

  it('locates a login by its country alone', () => {
    expect(cdb.lookup('1.128.0.1')).toEqual({ country: 'AU' });
    expect(cdb.enrich(login({ ip: '1.128.0.1' })).geo).toEqual({ country: 'AU' });
    expect(cdb.enrich(login({ ip: '1.128.0.1', type: 'access', session: { id: 's-1' } })).geo).toEqual({ country: 'AU' });
  });

  it("adds a missing country to the event's own geo, and leaves a complete one as it is", () => {
    expect(cdb.enrich(login({ geo: { city: 'London' } })).geo).toEqual({ country: 'GB', city: 'London' });
    const own = login({ geo: { country: 'GB' } });
    expect(cdb.enrich(own)).toBe(own);
  });
});

describe('opening', () => {
  it('rejects a missing or corrupt file with CONFIG_INVALID', async () => {
    const bad = join(dir, 'bad.mmdb');
    writeFileSync(bad, 'not a database');
    for (const p of [join(dir, 'missing.mmdb'), bad]) {
      const err = await GeoIp.open(p).catch((e: unknown) => e);
      expect(isRiskstreamError(err, 'CONFIG_INVALID')).toBe(true);
    }
  });

  it('openGeoIp resolves geoip.mmdb relative to the config dir, null when unset', async () => {
    expect(await openGeoIp({ dir, raw: { geoip: { cache_size: 10 } } })).toBeNull();
    const g = await openGeoIp({ dir, raw: { geoip: { mmdb: 'city.mmdb', cache_size: 10 } } });
    expect(g?.lookup('81.2.69.1')?.city).toBe('London');
  });
});
