import { describe, expect, it } from 'vitest';
import { behaviorSchema } from '../../src/config/behaviors-schema.js';
import { decodeEntry } from '../../src/ingest/decode.js';
import { matchesAll, matchValue, type Matcher } from '../../src/detect/threshold.js';
import type { CanonicalEvent } from '../../src/types.js';

/**
 * `match` literals are compared with the event as ingest stored it, so they are spelled as ingest
 * stores the field they name (at load): `geo.country: gb` matches the stored `GB` (a black-box
 * review: it never matched). Each row's event goes through the real decoder, as a flat entry.
 */
const schema = behaviorSchema('threshold');
const matchOf = (match: Record<string, unknown>): Record<string, Matcher> =>
  (schema.parse({ kind: 'threshold', risk_level: 'low', match, count: 1, window: '1m' }) as { match: Record<string, Matcher> }).match;
const T = '2026-11-23T08:00:00Z';

function stored(fields: Record<string, string>): CanonicalEvent {
  const r = decodeEntry({ stream: 'riskstream:login', id: '1-0', deliveries: 1, fields: { type: 'login', user: 'alice@example.com', time: T, ...fields } });
  if (!r.ok) throw new Error(r.reason);
  return r.event;
}

describe('threshold match literals are spelled as ingest stores the field', () => {
  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['a country code in lower case', { 'geo.country': 'gb' }, { 'geo.country': 'GB' }],
    ['a country written lower-case both sides', { 'geo.country': 'gb' }, { 'geo.country': 'gb' }],
    ['a country by name, UK', { 'geo.country': { in: ['United Kingdom', 'fr'] } }, { 'geo.country': 'uk' }],
    ['a country in equals', { 'geo.country': { equals: 'Great Britain' } }, { 'geo.country': 'GB' }],
    ['an ASN written AS2856', { 'network.asn': 'AS2856' }, { 'network.asn': '2856' }],
    ['an ASN against AS2856 sent', { 'network.asn': 2856 }, { 'network.asn': 'as2856' }],
    ['a latitude written 51.50', { 'geo.lat': '51.50' }, { 'geo.lat': '51.5', 'geo.lon': '0' }],
    ['a city with spaces', { 'geo.city': ' London ' }, { 'geo.city': 'London' }],
    ['an outcome alias with spaces', { outcome: ' Failed ' }, { outcome: 'failure' }],
    ['a type in upper case with spaces', { type: ' LOGIN ' }, {}],
    ['an email user in mixed case', { user: 'Alice@Example.COM' }, {}],
    ['a session id with spaces', { 'session.id': ' s-1 ' }, { 'session.id': 's-1' }],
    ['the boolean true against a flat TRUE', { mfa_used: true }, { mfa_used: 'TRUE' }],
    ['the boolean false against a flat False', { mfa_used: { in: [false] } }, { mfa_used: 'False' }],
  ])('%s matches', (_n, match, fields) => {
    expect(matchesAll(stored(fields), matchOf(match))).toBe(true);
  });

  it.each<[string, Record<string, unknown>, Record<string, string>]>([
    ['another country', { 'geo.country': 'fr' }, { 'geo.country': 'GB' }],
    ['a regex sees the stored value, as written', { 'geo.country': { regex: '^gb$' } }, { 'geo.country': 'GB' }],
    ['an attribute is compared as written (ingest keeps it)', { country: 'gb' }, { country: 'GB' }],
    ['true against text that is not a flag', { mfa_used: true }, { mfa_used: 'TRUE ' }],
    ['false against TRUE', { mfa_used: false }, { mfa_used: 'TRUE' }],
    ['a string literal keeps its case against a string', { mfa_used: 'TRUE' }, { mfa_used: 'true' }],
  ])('%s does not match', (_n, match, fields) => {
    expect(matchesAll(stored(fields), matchOf(match))).toBe(false);
  });

  it('the literals are spelled once, at load: the parsed match holds the stored spelling', () => {
    expect(matchOf({ 'geo.country': 'gb', 'network.asn': 'AS2856', outcome: 'Allowed', type: 'LOGIN', note: ' x ', flag: true })).toEqual({
      'geo.country': 'GB',
      'network.asn': 2856,
      outcome: 'success',
      type: 'login',
      note: ' x ',
      flag: true,
    });
  });

  it('a boolean compares without case with text across types only (a JSON true and a string literal TRUE)', () => {
    expect(matchValue(true, 'TRUE')).toBe(true);
    expect(matchValue(false, 'False')).toBe(true);
    expect(matchValue(true, 'false')).toBe(false);
    expect(matchValue('True', true)).toBe(true);
    expect(matchValue('yes', true)).toBe(false);
  });
});
