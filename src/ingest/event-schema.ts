import { z } from 'zod';
import type { CanonicalEvent } from '../types.js';
import { asObject, Invalid, isPlain, kind, toAsn, toCountry, toEpochMs, toEventId, toId, toIp, toOutcome, toText, toUser, type Rule } from './event-rules.js';
import { noneOf, saysNothing } from './no-value.js';
import { coerceGeo, emptyGeo, geoProblem, placelessGeo, toGeoNumber, type GeoCoercion } from './geo-rules.js';

export { Invalid, toAsn, toEpochMs, toId, toIp, toNumber, toOutcome, toText, toUser, type Rule } from './event-rules.js';

/**
 * The canonical event (docs/interfaces.md §2): a zod schema built from its normalisation rules
 * (src/ingest/event-rules.ts; for complete error messages) and `normalizeEvent`, a hand-written
 * fast path applying the very same rule functions. Both keep unknown fields.
 */

/** One known field: its rule, whether it is required, and its full path for messages. */
interface Field {
  key: string;
  rule: Rule<unknown>;
  required: boolean;
  path: string;
  /** A blank string is absent (optional fields but `outcome`: a blank one must not read as a success). */
  blankAbsent: boolean;
  /** Other values that say nothing in this field (`ip`: the `-` of access logs; src/ingest/no-value.ts), absent too. */
  none: ReadonlySet<string> | undefined;
}
type Spec = Record<string, [Rule<unknown>, boolean /* required */]>;

// lat/lon: both, or neither when `country` or `city` is given (country-only geo, issue 14): see geoProblem.
// Out of range or not finite: absent (src/ingest/geo-rules.ts).
const GEO: Spec = {
  lat: [toGeoNumber, false],
  lon: [toGeoNumber, false],
  accuracy_km: [toGeoNumber, false],
  country: [toCountry, false],
  city: [toText, false],
};
const SESSION: Spec = { id: [toId, true], expires_at: [toEpochMs, false], idp: [toText, false], claims: [asObject, false] };
const DEVICE: Spec = { id: [toId, false], posture: [asObject, false] };
const NETWORK: Spec = { asn: [toAsn, false], colo: [toText, false], via: [toText, false] };
const TOP: Spec = {
  type: [toText, true],
  user: [toUser, true],
  time: [toEpochMs, true],
  id: [toEventId, false],
  outcome: [toOutcome, false],
  ip: [toIp, false],
};
const NESTED_SPECS: Record<string, Spec> = { geo: GEO, session: SESSION, device: DEVICE, network: NETWORK };

/** Whether a blank string in the field at `path` is absent: in optional fields but `outcome` (a blank one must not read as a success). */
const blankIsAbsent = (path: string, required: boolean): boolean => !required && path !== 'outcome';

const fields = (spec: Spec, prefix: string): Field[] =>
  Object.entries(spec).map(([key, [rule, required]]) => ({
    key,
    rule,
    required,
    path: prefix + key,
    blankAbsent: blankIsAbsent(prefix + key, required),
    none: noneOf(prefix + key),
  }));
const TOP_FIELDS = fields(TOP, '');
const NESTED: Array<[string, Field[]]> = Object.entries(NESTED_SPECS).map(([k, spec]) => [k, fields(spec, `${k}.`)]);

/**
 * Normalises `src`'s known fields (unknown keys kept; null optional ones dropped) in a copy, or in
 * `src` itself when `owned`.
 */
function applyFields(src: Record<string, unknown>, list: Field[], owned: boolean): Record<string, unknown> | Invalid {
  const out: Record<string, unknown> = owned ? src : { ...src }; // spread: far faster than a for-in copy
  for (let i = 0; i < list.length; i++) {
    const f = list[i]!;
    const v = src[f.key];
    if (v === undefined || v === null || saysNothing(v, f.blankAbsent, f.none)) {
      if (f.required) return new Invalid(`${f.path}: required`);
      if (v !== undefined) delete out[f.key]; // rare: explicit null, or a shipper's empty template field
      continue;
    }
    const r = f.rule(v, f.path);
    if (r instanceof Invalid) return r;
    if (r !== v) out[f.key] = r;
  }
  return out;
}

/**
 * Fast path: validates and normalises a decoded object into a CanonicalEvent, or returns the
 * first problem. Same rules as `canonicalEventSchema`; no zod on the hot path. `obj` is not changed.
 * Geo values taken as absent ({@link coerceGeo}) are told to `coerced`.
 */
export function normalizeEvent(obj: Record<string, unknown>, coerced?: GeoCoercion[]): CanonicalEvent | Invalid {
  return normalize(obj, false, coerced);
}

/**
 * `normalizeEvent` for an object the caller owns (just parsed, shared with nothing): normalised in
 * place, without copies. After a problem `obj` may be partly normalised: do not use it again.
 */
export function normalizeOwned(obj: Record<string, unknown>, coerced?: GeoCoercion[]): CanonicalEvent | Invalid {
  return normalize(obj, true, coerced);
}

function normalize(obj: Record<string, unknown>, owned: boolean, coerced: GeoCoercion[] | undefined): CanonicalEvent | Invalid {
  const out = applyFields(obj, TOP_FIELDS, owned);
  if (out instanceof Invalid) return out;
  for (let i = 0; i < NESTED.length; i++) {
    const [key, list] = NESTED[i]!;
    const v = out[key];
    if (v === undefined) continue;
    if (v === null || (key === 'geo' && emptyGeo(v))) {
      if (!(key === 'geo' && (out[key] = placelessGeo(v)))) delete out[key];
      continue;
    }
    if (!isPlain(v)) return new Invalid(`${key}: must be an object (got ${kind(v)})`);
    const r = applyFields(v, list, owned);
    if (r instanceof Invalid) return r;
    if (key === 'geo') {
      // Only coordinates out of range (or accuracy) placed it: as a geo that places nothing.
      if (coerceGeo(r, coerced) && emptyGeo(r)) {
        if (!(out[key] = placelessGeo(r))) delete out[key];
        continue;
      }
      const bad = geoProblem(r);
      if (bad) return bad;
    }
    if (r !== v) out[key] = r;
  }
  return out as CanonicalEvent;
}

/** Wraps a rule as a zod schema; the issue message is the rule's (it names the field). */
function zrule<T>(rule: Rule<T>, field: string, required: boolean): z.ZodType<T | undefined> {
  const blankAbsent = blankIsAbsent(field, required);
  const none = noneOf(field);
  const run = z.unknown().transform((v, ctx) => {
    if ((v === null && !required) || saysNothing(v, blankAbsent, none)) return undefined;
    const r = v === undefined || v === null ? new Invalid(`${field}: required`) : rule(v, field);
    if (r instanceof Invalid) {
      ctx.addIssue({ code: 'custom', message: r.message });
      return z.NEVER;
    }
    return r;
  });
  return (required ? run : run.optional()) as z.ZodType<T | undefined>;
}

function zspec(spec: Spec, prefix: string) {
  const shape: Record<string, z.ZodType> = {};
  for (const key in spec) shape[key] = zrule(spec[key]![0], prefix + key, spec[key]![1]);
  return shape;
}

/** `null` is "absent" for nested objects, like in the fast path. */
const nested = (spec: Spec, key: string) =>
  z.preprocess((v) => (v === null ? undefined : v), z.looseObject(zspec(spec, `${key}.`), { error: `${key}: must be an object` }).optional());

/**
 * The canonical event as a zod schema (passthrough). Used for complete error messages and by
 * anyone wanting a schema; `normalizeEvent` is the equivalent fast path.
 */
export const canonicalEventSchema = z.looseObject({
  ...zspec(TOP, ''),
  geo: z.preprocess(
    (v) => (emptyGeo(v) ? placelessGeo(v) : v),
    z
      .looseObject(zspec(GEO, 'geo.'), { error: 'geo: must be an object' })
      .transform((g) => (coerceGeo(g) && emptyGeo(g) ? placelessGeo(g) : g))
      .superRefine((g, ctx) => {
        if (!g) return;
        const bad = emptyGeo(g) ? null : geoProblem(g);
        if (bad) ctx.addIssue({ code: 'custom', message: bad.message });
      })
      .optional(),
  ),
  session: nested(SESSION, 'session'),
  device: nested(DEVICE, 'device'),
  network: nested(NETWORK, 'network'),
});

/** Drops keys whose value is undefined (zod leaves optional-but-absent keys out already). */
function compact(o: Record<string, unknown>): Record<string, unknown> {
  for (const k in o) if (o[k] === undefined) delete o[k];
  return o;
}

/**
 * Validates `obj` as a canonical event. Fast path first; on failure zod collects every issue
 * so the reason lists all problems (`user: required; time: …`).
 */
export function validateEvent(obj: Record<string, unknown>, coerced?: GeoCoercion[]): { ok: true; event: CanonicalEvent } | { ok: false; reason: string } {
  const fast = normalizeEvent(obj, coerced);
  if (!(fast instanceof Invalid)) return { ok: true, event: fast };
  const r = canonicalEventSchema.safeParse(obj);
  if (r.success) return { ok: true, event: compact(r.data as Record<string, unknown>) as CanonicalEvent };
  return { ok: false, reason: r.error.issues.map((i) => i.message).join('; ') };
}

/**
 * `validateEvent`'s fast path on an object the caller owns (normalised in place): the event, or
 * null when it is refused — then validate a fresh copy of the input with `validateEvent` for the
 * reason (`obj` may be partly normalised).
 */
export function validateOwned(obj: Record<string, unknown>, coerced?: GeoCoercion[]): { ok: true; event: CanonicalEvent } | null {
  const fast = normalizeOwned(obj, coerced);
  return fast instanceof Invalid ? null : { ok: true, event: fast };
}
