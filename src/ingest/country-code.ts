/**
 * Country names to ISO 3166-1 alpha-2 codes, for sources that give a name (Okta's
 * `client.geographicalContext.country`: "United Kingdom"): the canonical `geo.country` is a code,
 * as Entra, GeoIP and the contract give it, so that a session's or a user's countries compare.
 * Names are those of the runtime's ICU data in English (`Intl.DisplayNames`), matched without case.
 */

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
      byName.set(name.toLowerCase(), canonical);
    }
  return byName;
}

/** The ISO code of `v` when it is a country name or code (any case); anything else as it is. */
export function countryCode(v: unknown): unknown {
  if (typeof v !== 'string') return v;
  const t = v.trim();
  if (/^[a-z]{2}$/i.test(t)) return t.toUpperCase();
  return names().get(t.toLowerCase()) ?? v;
}
