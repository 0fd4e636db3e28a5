import { describe, expect, it } from 'vitest';
import { countryCode } from '../src/country-code.js';
import { alpha3Entries } from '../src/country-alpha3.js';
import { toCountry } from '../src/ingest/event-rules.js';

describe('countryCode', () => {
  // Found by an audit: alpha-3 codes were kept as given, so `GBR` and `GB` were two countries to new_country.
  it.each([
    ['GBR', 'GB'],
    ['gbr', 'GB'],
    [' USA ', 'US'],
    ['usa', 'US'],
    ['DEU', 'DE'],
    ['FRA', 'FR'],
    ['CIV', 'CI'],
    ['COD', 'CD'],
    ['KOR', 'KR'],
    ['PRK', 'KP'],
    ['ALA', 'AX'],
    ['ATA', 'AQ'],
    ['SSD', 'SS'],
    ['XKX', 'XK'],
    ['ZWE', 'ZW'],
    // Two letters and names as before.
    ['gb', 'GB'],
    ['UK', 'GB'],
    ['United Kingdom', 'GB'],
    ['Ivory Coast', 'CI'],
    // Three letters that are no code: kept as given.
    ['ABC', 'ABC'],
    ['xyz', 'xyz'],
    ['UKR', 'UA'],
    // ISO 3166-1's own short names, inverted at a comma (pycountry, many SIEM lookups); found by a
    // black-box audit: "Korea, Republic of" and KR were two countries to new_country and session_hijack.
    ['Korea, Republic of', 'KR'],
    ["Korea, Democratic People's Republic of", 'KP'],
    ['Iran, Islamic Republic of', 'IR'],
    ['Moldova, Republic of', 'MD'],
    ['Tanzania, United Republic of', 'TZ'],
    ['Venezuela, Bolivarian Republic of', 'VE'],
    ['Bolivia, Plurinational State of', 'BO'],
    ['Congo, The Democratic Republic of the', 'CD'],
    ['Micronesia, Federated States of', 'FM'],
    ['Virgin Islands, British', 'VG'],
    ['Virgin Islands, U.S.', 'VI'],
    ['Palestine, State of', 'PS'],
    ['Taiwan, Province of China', 'TW'],
    ['Macedonia, the former Yugoslav Republic of', 'MK'],
    ['Holy See (Vatican City State)', 'VA'],
    ['Saint Martin (French part)', 'MF'],
    ['Sint Maarten (Dutch part)', 'SX'],
    // A comma in no country's name: kept as given.
    ['Springfield, Nowhere', 'Springfield, Nowhere'],
  ])('%j → %j', (given, code) => {
    expect(countryCode(given)).toBe(code);
  });

  it('every ISO 3166-1 code: 249 and XKX, each alpha-3 and alpha-2 once, each alpha-2 a region the runtime names, each converted', () => {
    const entries = alpha3Entries();
    expect(entries).toHaveLength(250);
    expect(new Set(entries.map(([a3]) => a3)).size).toBe(250);
    expect(new Set(entries.map(([, a2]) => a2)).size).toBe(250);
    const names = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'none' });
    for (const [a3, a2] of entries) {
      expect(a3).toMatch(/^[A-Z]{3}$/);
      expect(names.of(a2), a2).toBeDefined();
      expect(countryCode(a3)).toBe(a2);
      expect(countryCode(a3.toLowerCase())).toBe(a2);
    }
  });

  it('event ingest (toCountry) takes an alpha-3 code as its alpha-2 code', () => {
    expect(toCountry('GBR', 'geo.country')).toBe('GB');
    expect(toCountry('usa', 'geo.country')).toBe('US');
  });
});
