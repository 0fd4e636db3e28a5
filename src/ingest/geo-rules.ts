/**
 * The rules of a canonical event's `geo` beyond its fields' own: a `geo` that places nothing is
 * none; coordinates come in pairs; and values that place nothing are taken as absent, not refused
 * (docs/interfaces.md §2). A `geo.lat` outside [-90, 90] or `geo.lon` outside [-180, 180], or either
 * not a finite number (`NaN`, `Infinity`, a numeral beyond a double), drops both coordinates and
 * `accuracy_km` with them (it was theirs): a login then placed by nothing else has no `geo`, and is
 * located from its `ip` when a MaxMind database is configured, as a login without one. A negative
 * or non-finite `geo.accuracy_km` drops that alone. The event and its other fields are kept; each
 * drop is counted (`riskstream_events_coerced_total{reason}`) where events are decoded.
 */
import { DECIMAL_NUMBER } from '../text.js';
import { Invalid, isPlain, toNumber, type Rule } from './event-rules.js';
import { isBlank, isPlaceholder, noneOf } from './no-value.js';

/** Why a geo value was taken as absent: the `reason` of riskstream_events_coerced_total. */
export type GeoCoercion = 'geo_coordinates_out_of_range' | 'geo_accuracy_out_of_range';

/** Spellings of a number that is none: `NaN` (JavaScript, pandas' `nan`), `Infinity`, `inf`. */
const NOT_FINITE = /^[+-]?(?:nan|inf|infinity)$/i;

/**
 * A geo number: {@link toNumber}, except that a non-finite one (a spelling of NaN or infinity, a
 * numeral beyond a double) is NaN, which {@link coerceGeo} drops — never a refused event. Text that
 * is no number at all (`north`) is refused still.
 */
export const toGeoNumber: Rule<number> = (v, field) => {
  if (typeof v === 'number' && !Number.isFinite(v)) return NaN;
  if (typeof v === 'string') {
    const s = v.trim();
    if (NOT_FINITE.test(s) || (DECIMAL_NUMBER.test(s) && !Number.isFinite(Number(s)))) return NaN;
  }
  return toNumber(v, field);
};

/** Absent, or a finite number within ±`max`. */
const within = (v: unknown, max: number): boolean => v === undefined || (typeof v === 'number' && v >= -max && v <= max);

/**
 * Drops from a normalised `geo` (its numbers read by {@link toGeoNumber}, so NaN for a non-finite
 * one) the values that place nothing, in place, pushing why onto `coerced`; true when it dropped any.
 */
export function coerceGeo(g: Record<string, unknown>, coerced?: GeoCoercion[]): boolean {
  let dropped = false;
  if (!within(g.lat, 90) || !within(g.lon, 180)) {
    delete g.lat;
    delete g.lon;
    delete g.accuracy_km;
    coerced?.push('geo_coordinates_out_of_range');
    dropped = true;
  }
  const acc = g.accuracy_km;
  if (acc !== undefined && !(typeof acc === 'number' && Number.isFinite(acc) && acc >= 0)) {
    delete g.accuracy_km;
    coerced?.push('geo_accuracy_out_of_range');
    dropped = true;
  }
  return dropped;
}

/** Keys of `geo` that place an event; a `geo` with none of them set is no `geo` at all. */
const GEO_PLACES = ['lat', 'lon', 'country', 'city'] as const;

const NO_COUNTRY = noneOf('geo.country');

/** `geo` with nothing that places the event (every place field absent, null, blank or a placeholder country), or null: absent. */
export function emptyGeo(v: unknown): boolean {
  if (v === null) return true;
  if (!isPlain(v)) return false;
  for (const k of GEO_PLACES) if (v[k] !== undefined && v[k] !== null && !isBlank(v[k]) && !(k === 'country' && isPlaceholder(v[k], NO_COUNTRY))) return false;
  return true;
}

/** A `geo` placing nothing ({@link emptyGeo}): its other fields (`region` …, as given; no `accuracy_km`), or undefined for none. */
export function placelessGeo(v: unknown): Record<string, unknown> | undefined {
  const rest = isPlain(v) ? Object.entries(v).filter(([k]) => k !== 'accuracy_km' && !(GEO_PLACES as readonly string[]).includes(k)) : [];
  return rest.length ? Object.fromEntries(rest) : undefined;
}

/**
 * A normalised `geo` object's coordinates rule: `lat` and `lon` together, or neither when
 * `country` or `city` locates it (country-only geo is what many logs carry).
 */
export function geoProblem(g: Record<string, unknown>): Invalid | null {
  const hasLat = g.lat !== undefined;
  const hasLon = g.lon !== undefined;
  if (hasLat && !hasLon) return new Invalid('geo.lon: required');
  if (hasLon && !hasLat) return new Invalid('geo.lat: required');
  if (!hasLat && g.country === undefined && g.city === undefined) return new Invalid('geo.lat: required (or geo.country / geo.city)');
  return null;
}
