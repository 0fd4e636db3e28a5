/**
 * A threshold's `match` literals spelled as ingest stores the canonical field they name
 * (src/ingest/event-schema.ts): `match` compares them with the normalised event, so a literal
 * spelled otherwise would never match — `geo.country: gb` against the stored `GB`, `network.asn:
 * AS2856` against `2856`. Applied once, when the behaviors are loaded; a `regex` is kept as written
 * (it sees the stored value). Fields ingest keeps as given (attributes) are not touched.
 */
import { countryCode } from '../country-code.js';
import { canonicalOutcome } from '../login.js';
import { DECIMAL_NUMBER, EMAIL_ADDRESS } from '../text.js';

/** A literal of `match`. */
export type Literal = string | number | boolean;
/** A `match` matcher: a literal, `{equals}`, `{in}` or `{regex}`. */
export type LiteralMatcher = Literal | { equals: Literal } | { in: Literal[] } | { regex: string };

type Spell = (v: Literal) => Literal;

/** Text trimmed, as every text field is stored (a blank literal is left: it matches nothing either way). */
const trimmed: Spell = (v) => (typeof v === 'string' && v.trim() !== '' ? v.trim() : v);
const text =
  (f: (s: string) => string): Spell =>
  (v) => {
    const t = trimmed(v);
    return typeof t === 'string' ? f(t) : t;
  };
const numeric: Spell = (v) => {
  const t = trimmed(v);
  return typeof t === 'string' && DECIMAL_NUMBER.test(t) ? Number(t) : t;
};

/** Canonical field → how ingest stores it. */
const STORED: Record<string, Spell> = {
  // `type` is matched without case (lower-cased here and, but for a regex, in the event).
  type: text((s) => s.toLowerCase()),
  outcome: text(canonicalOutcome),
  user: text((s) => {
    const n = s.normalize('NFC');
    return EMAIL_ADDRESS.test(n) ? n.toLowerCase() : n;
  }),
  id: trimmed,
  ip: trimmed,
  'geo.lat': numeric,
  'geo.lon': numeric,
  'geo.accuracy_km': numeric,
  'geo.country': text((s) => countryCode(s) as string),
  'geo.city': trimmed,
  'session.id': trimmed,
  'session.idp': trimmed,
  'device.id': trimmed,
  'network.asn': (v) => (typeof v === 'string' && /^\s*AS\d+\s*$/i.test(v) ? Number(v.trim().slice(2)) : numeric(v)),
  'network.colo': trimmed,
  'network.via': trimmed,
};

/** A matcher's literals (plain, `equals`, `in`) mapped by `f`; a regex is kept. */
function mapLiterals<M extends LiteralMatcher>(m: M, f: Spell): M {
  if (typeof m !== 'object') return f(m) as M;
  if ('equals' in m) return { equals: f(m.equals) } as M;
  if ('in' in m) return { in: m.in.map(f) } as M;
  return m;
}

/** `match` with the literals of canonical fields spelled as ingest stores them ({@link STORED}). */
export function storedMatch<M extends LiteralMatcher>(match: Record<string, M>): Record<string, M> {
  const out = { ...match };
  for (const path of Object.keys(match)) {
    const spell = Object.hasOwn(STORED, path) ? STORED[path] : undefined;
    if (spell) out[path] = mapLiterals(match[path]!, spell);
  }
  return out;
}
