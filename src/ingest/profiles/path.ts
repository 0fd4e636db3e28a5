/** Dotted-path helpers shared by field-mapping profiles and the flat-entry decoder. */

/** A mapping profile: vendor object → partial canonical event, or null when the shape is not its own. */
export type Profile = (obj: Record<string, unknown>) => Record<string, unknown> | null;

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/** True for a non-null, non-array object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const splitCache = new Map<string, string[]>();
/** Paths are few and fixed (profiles, config): split each once. */
function segments(path: string): string[] {
  let segs = splitCache.get(path);
  if (!segs) {
    segs = path.split('.');
    if (splitCache.size < 10_000) splitCache.set(path, segs);
  }
  return segs;
}

/** Reads `a.b.c` from `obj` (own keys only); undefined when any step is missing. */
export function getPath(obj: unknown, path: string): unknown {
  const segs = segments(path);
  let cur: unknown = obj;
  for (let i = 0; i < segs.length; i++) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, segs[i]!)) return undefined;
    cur = cur[segs[i]!];
  }
  return cur;
}

/**
 * Sets `a.b.c` in `obj`, creating intermediate objects (a non-object in the way is replaced).
 * Returns false, changing nothing, for a path touching `__proto__`, `prototype` or `constructor`.
 * With `copy`, intermediate objects are copied before being written (the source stays untouched).
 */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown, copy = false): boolean {
  const segs = path.split('.');
  if (segs.some((s) => FORBIDDEN.has(s) || s === '')) return false;
  let cur = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    const next = cur[seg];
    if (isPlainObject(next)) {
      if (copy) cur[seg] = { ...next };
      cur = cur[seg] as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      cur[seg] = created;
      cur = created;
    }
  }
  cur[segs[segs.length - 1]!] = value;
  return true;
}

/** Copies only the defined (non-null, non-empty-string) values: keeps profile output tidy. */
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v === undefined || v === null || v === '') continue;
    if (isPlainObject(v)) {
      const inner = defined(v);
      if (Object.keys(inner).length) out[k] = inner;
    } else out[k] = v;
  }
  return out;
}

/** The canonical event's own top-level fields: a vendor record's fields of these names never stand in for them. */
const CANONICAL_FIELDS = ['type', 'id', 'user', 'time', 'outcome', 'ip', 'geo', 'session', 'device', 'network'] as const;

/**
 * A vendor profile's output: the record's own fields kept as attributes (as every other input
 * keeps unknown fields; a threshold behavior may match them), but none named as a canonical field,
 * then the mapped fields (their defined values, see {@link defined}) over them.
 */
export function withSource(src: Record<string, unknown>, mapped: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...src };
  for (const k of CANONICAL_FIELDS) delete out[k];
  return Object.assign(out, defined(mapped));
}

/**
 * Canonical `geo` from a vendor's place: coordinates when both are given, with the country and
 * city; the country and city alone otherwise (session checks compare countries); undefined when
 * nothing places it.
 */
export function vendorGeo(lat: unknown, lon: unknown, country: unknown, city: unknown): Record<string, unknown> | undefined {
  const coords = lat != null && lon != null;
  if (!coords && (country == null || country === '') && (city == null || city === '')) return undefined;
  return coords ? { lat, lon, city, country } : { city, country };
}
