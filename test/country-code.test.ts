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
