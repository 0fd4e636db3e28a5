import { alpha2Of } from './country-alpha3.js';

/**
 * Country names to ISO 3166-1 alpha-2 codes, for sources that give a name (Okta's
 * `client.geographicalContext.country`: "United Kingdom"), and alpha-3 codes (`GBR`: src/country-alpha3.ts)
 * to alpha-2 codes, for sources that give those: the canonical `geo.country` is a code,
 * as Entra, GeoIP and the contract give it, so that a session's or a user's countries compare.
 * Names are those of the runtime's ICU data in English (`Intl.DisplayNames`) and the other English
 * spellings sources use (MaxMind's GeoIP names, which Okta's resemble: "Hong Kong", "Turkey",
 * "Ivory Coast", "DR Congo" …), compared loosely: without case, accents, dots, commas or "the",
 * `&` as "and", "Saint" as "St"; ISO's own names inverted at a comma ("Korea, Republic of") too.
 */

/** Names ICU spells otherwise, by code (compared as {@link loose} makes them). */
const ALIASES: Record<string, readonly string[]> = {
  AX: ['Aland'],
  BO: ['Plurinational State of Bolivia'],
  BQ: ['Bonaire, Sint Eustatius, and Saba', 'Bonaire, Sint Eustatius and Saba', 'Bonaire'],
  CD: ['DR Congo', 'Democratic Republic of the Congo', 'Congo, Democratic Republic', 'Congo (Kinshasa)'],
  CG: ['Congo Republic', 'Republic of the Congo', 'Congo', 'Congo (Brazzaville)'],
  CI: ['Ivory Coast', "Cote d'Ivoire"],
  CV: ['Cabo Verde'],
  CZ: ['Czech Republic'],
  FM: ['Federated States of Micronesia'],
  GB: ['Great Britain', 'England', 'Scotland', 'Wales', 'Northern Ireland'],
  HK: ['Hong Kong'],
  IR: ['Islamic Republic of Iran'],
  JO: ['Hashemite Kingdom of Jordan'],
  KP: ["Democratic People's Republic of Korea"],
  KR: ['Republic of Korea', 'Korea'],
  LA: ["Lao People's Democratic Republic"],
  LT: ['Republic of Lithuania'],
  MD: ['Republic of Moldova'],
  MF: ['Saint Martin (French part)'],
  MK: ['Macedonia', 'Former Yugoslav Republic of Macedonia'],
  MM: ['Myanmar', 'Burma'],
  MO: ['Macao', 'Macau'],
  PS: ['Palestine', 'State of Palestine', 'Palestinian Territory', 'Palestinian Territories'],
  RU: ['Russian Federation'],
  SX: ['Sint Maarten (Dutch part)'],
  SY: ['Syrian Arab Republic'],
  SZ: ['Swaziland'],
  TL: ['East Timor'],
  TR: ['Turkey'],
  TW: ['Republic of China', 'Taiwan, Province of China'],
  TZ: ['United Republic of Tanzania'],
  UM: ['United States Minor Outlying Islands'],
  US: ['United States of America', 'USA'],
  VA: ['Holy See', 'Vatican', 'Holy See (Vatican City State)'],
  VE: ['Bolivarian Republic of Venezuela'],
  VI: ['US Virgin Islands'],
  VN: ['Viet Nam'],
};

/** A name as names are compared: lower case, no accents or dots or commas, `&` = and, no "the", "saint" = "st". */
function loose(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[’']/g, "'")
    .replace(/&/g, ' and ')
    .replace(/[.,()]/g, ' ')
    .replace(/\bthe\b/g, ' ')
    .replace(/\bsaint\b/g, 'st')
    .replace(/\s+/g, ' ')
    .trim();
}

let byName: Map<string, string> | undefined;

function names(): Map<string, string> {
  if (byName) return byName;
  byName = new Map();
  const display = new Intl.DisplayNames(['en'], { type: 'region', fallback: 'code' });
  const A = 'A'.charCodeAt(0);
  for (let i = 0; i < 26; i++)
    for (let j = 0; j < 26; j++) {
      const code = String.fromCharCode(A + i, A + j);
      const name = display.of(code);
      if (!name || name === code) continue;
      // A deprecated code (UK, BU …) names its successor's country: the current code (GB, MM …).
      const canonical = Intl.getCanonicalLocales(`und-${code}`)[0]?.slice(4) ?? code;
      if (!byName.has(loose(name)) || canonical === code) byName.set(loose(name), canonical);
    }
  for (const [code, list] of Object.entries(ALIASES)) for (const name of list) byName.set(loose(name), code);
  return byName;
}

/** The ISO alpha-2 code of `v` when it is a country name or an alpha-2 or alpha-3 code (any case); anything else as it is. */
export function countryCode(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  // UK: reserved for the United Kingdom, whose code is GB (what GeoIP and Entra give).
  if (/^[a-z]{2}$/i.test(t)) return t.toUpperCase() === 'UK' ? 'GB' : t.toUpperCase();
  const alpha2 = /^[a-z]{3}$/i.test(t) ? alpha2Of(t.toUpperCase()) : undefined;
  return alpha2 ?? names().get(loose(t)) ?? inverted(t) ?? v;
}

/**
 * The code of an ISO 3166-1 short name written inverted at its comma, as ISO and its copies
 * (pycountry, SIEM lookups) list them: "Korea, Republic of" is "Republic of Korea", "Virgin
 * Islands, British" "British Virgin Islands". Undefined for anything else.
 */
function inverted(t: string): string | undefined {
  const comma = t.indexOf(',');
  if (comma <= 0) return undefined;
  return names().get(loose(`${t.slice(comma + 1)} ${t.slice(0, comma)}`));
}
