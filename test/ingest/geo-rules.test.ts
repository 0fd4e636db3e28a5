/**
 * Geo values that place nothing (docs/interfaces.md §2): coordinates out of range or not finite,
 * a negative accuracy. Accepted before as given — impossible_travel then skipped the login without
 * a word, GeoIP only re-placed it when the event named no country — or, for `NaN`-like strings,
 * the whole login dead-lettered. Now taken as absent (the login kept, located from its ip when
 * it can be) and told to the decoder's `onCoerced`.
 */
import { describe, expect, it } from 'vitest';
import { canonicalEventSchema, validateEvent, validateOwned } from '../../src/ingest/event-schema.js';
import { decodeEntry } from '../../src/ingest/decode.js';
import type { GeoCoercion } from '../../src/ingest/geo-rules.js';

const base = { type: 'login', user: 'alice@example.com', time: 1_795_420_800_000, ip: '81.2.69.142' };
const OUT: GeoCoercion = 'geo_coordinates_out_of_range';
const ACC: GeoCoercion = 'geo_accuracy_out_of_range';

// geo given → geo kept (undefined: none), and why values were dropped.
const TABLE: Array<[string, Record<string, unknown>, Record<string, unknown> | undefined, GeoCoercion[]]> = [
  ['lat 200', { lat: 200, lon: 10 }, undefined, [OUT]],
  ['lon 500', { lat: 10, lon: 500 }, undefined, [OUT]],
  ['lat -90.5', { lat: -90.5, lon: 10 }, undefined, [OUT]],
  ['lon -180.01 as text', { lat: '10', lon: '-180.01' }, undefined, [OUT]],
  ['lat "NaN"', { lat: 'NaN', lon: 1 }, undefined, [OUT]],
  ['lat "nan", lon "nan" (pandas)', { lat: 'nan', lon: 'nan' }, undefined, [OUT]],
  ['lon "Infinity"', { lat: 1, lon: 'Infinity' }, undefined, [OUT]],
  ['lat "-inf"', { lat: ' -inf ', lon: 1 }, undefined, [OUT]],
  ['lat "1e400" (beyond a double)', { lat: '1e400', lon: 1 }, undefined, [OUT]],
  ['lat 200 and no lon', { lat: 200 }, undefined, [OUT]],
  [
    'lat 200 with a country, city and region: those kept, accuracy_km dropped with the coordinates',
    { lat: 200, lon: 10, accuracy_km: 5, country: 'gb', city: 'London', region: 'ENG' },
    { country: 'GB', city: 'London', region: 'ENG' },
    [OUT],
  ],
  ['lat 200 with a region only: the region kept as an attribute', { lat: 200, lon: 10, region: 'ENG' }, { region: 'ENG' }, [OUT]],
  ['accuracy_km -3', { lat: 51.5, lon: -0.12, accuracy_km: -3 }, { lat: 51.5, lon: -0.12 }, [ACC]],
  ['accuracy_km "NaN"', { lat: 51.5, lon: -0.12, accuracy_km: 'NaN' }, { lat: 51.5, lon: -0.12 }, [ACC]],
  ['accuracy_km "1e999"', { lat: 51.5, lon: -0.12, accuracy_km: '1e999' }, { lat: 51.5, lon: -0.12 }, [ACC]],
  ['the edges: lat ±90, lon ±180, accuracy 0', { lat: -90, lon: 180, accuracy_km: 0 }, { lat: -90, lon: 180, accuracy_km: 0 }, []],
  ['(0, 0), the unknown place: kept (GeoIP re-places it)', { lat: 0, lon: 0 }, { lat: 0, lon: 0 }, []],
  ['in range', { lat: '51.5', lon: '-0.12', accuracy_km: '20' }, { lat: 51.5, lon: -0.12, accuracy_km: 20 }, []],
];

describe('geo values that place nothing are absent, the event kept', () => {
  it.each(TABLE)('%s', (_, geo, kept, why) => {
    const want = { ...base, ...(kept ? { geo: kept } : {}) };
    const told: GeoCoercion[] = [];
    expect(validateEvent({ ...base, geo: { ...geo } }, told)).toEqual({ ok: true, event: want });
    expect(told).toEqual(why);
    const owned: GeoCoercion[] = [];
    expect(validateOwned(structuredClone({ ...base, geo }), owned)).toEqual({ ok: true, event: want });
    expect(owned).toEqual(why);
    // The zod schema (complete error messages, anyone wanting a schema) reads them alike.
    const z = canonicalEventSchema.safeParse({ ...base, geo });
    expect(z.success && Object.fromEntries(Object.entries(z.data).filter(([, v]) => v !== undefined))).toEqual(want);
  });

  it('text that is no number is refused still (a mapping error, not an unknown place)', () => {
    expect(validateEvent({ ...base, geo: { lat: 'north', lon: 1 } })).toMatchObject({
      ok: false,
      reason: expect.stringMatching(/^geo\.lat: must be a number/),
    });
    expect(validateEvent({ ...base, geo: { lat: 1 } })).toMatchObject({ ok: false, reason: 'geo.lon: required' });
  });

  it("the decoder tells onCoerced once per accepted event's dropped value, and nothing for a refused one", () => {
    const told: string[] = [];
    const opts = { onCoerced: (r: string) => told.push(r) };
    const entry = (fields: Record<string, string>) => ({ stream: 'in', id: '1-0', fields, deliveries: 1 });
    const flat = { type: 'login', user: 'a', time: String(base.time), ip: base.ip };
    expect(decodeEntry(entry({ ...flat, 'geo.lat': '200', 'geo.lon': '10' }), opts)).toEqual({ ok: true, event: { ...base, user: 'a' } });
    expect(told).toEqual([OUT]);
    expect(decodeEntry(entry({ event: JSON.stringify({ ...base, geo: { lat: 1, lon: 2, accuracy_km: -1 } }) }), opts).ok).toBe(true);
    expect(told).toEqual([OUT, ACC]);
    // Refused (for its time; for a session without an id, found after its geo was read): dead-lettered whole, nothing counted.
    expect(decodeEntry(entry({ ...flat, time: 'soon', 'geo.lat': '200', 'geo.lon': '10' }), opts).ok).toBe(false);
    expect(decodeEntry(entry({ event: JSON.stringify({ ...base, geo: { lat: 'NaN', lon: 1 }, session: { idp: 'okta' } }) }), opts).ok).toBe(false);
    expect(told).toEqual([OUT, ACC]);
  });
});
