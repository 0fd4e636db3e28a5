import { z } from 'zod';
import type { CanonicalEvent } from '../types.js';
import {
  asObject,
  Invalid,
  isPlain,
  kind,
  toAsn,
  toCountry,
  toEpochMs,
  toEventId,
  toId,
  toIp,
  toNumber,
  toOutcome,
  toText,
  toUser,
  type Rule,
} from './event-rules.js';
import { isBlank, isPlaceholder, noneOf, saysNothing } from './no-value.js';

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
const GEO: Spec = { lat: [toNumber, false], lon: [toNumber, false], accuracy_km: [toNumber, false], country: [toCountry, false], city: [toText, false] };
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

/** Keys of `geo` that place an event; a `geo` with none of them set is no `geo` at all. */
const GEO_PLACES = ['lat', 'lon', 'country', 'city'] as const;

const NO_COUNTRY = noneOf('geo.country');

/** `geo` with nothing that places the event (every place field absent, null, blank or a placeholder country), or null: absent. */
function emptyGeo(v: unknown): boolean {
  if (v === null) return true;
  if (!isPlain(v)) return false;
  for (const k of GEO_PLACES) if (v[k] !== undefined && v[k] !== null && !isBlank(v[k]) && !(k === 'country' && isPlaceholder(v[k], NO_COUNTRY))) return false;
  return true;
}

/** A `geo` placing nothing ({@link emptyGeo}): its other fields (`region` …, as given; no `accuracy_km`), or undefined for none. */
function placelessGeo(v: unknown): Record<string, unknown> | undefined {
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

/**
 * Fast path: validates and normalises a decoded object into a CanonicalEvent, or returns the
 * first problem. Same rules as `canonicalEventSchema`; no zod on the hot path. `obj` is not changed.
 */
export function normalizeEvent(obj: Record<string, unknown>): CanonicalEvent | Invalid {
  return normalize(obj, false);
}

/**
 * `normalizeEvent` for an object the caller owns (just parsed, shared with nothing): normalised in
 * place, without copies. After a problem `obj` may be partly normalised: do not use it again.
 */
export function normalizeOwned(obj: Record<string, unknown>): CanonicalEvent | Invalid {
  return normalize(obj, true);
}

function normalize(obj: Record<string, unknown>, owned: boolean): CanonicalEvent | Invalid {
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
      .superRefine((g, ctx) => {
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
export function validateEvent(obj: Record<string, unknown>): { ok: true; event: CanonicalEvent } | { ok: false; reason: string } {
  const fast = normalizeEvent(obj);
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
export function validateOwned(obj: Record<string, unknown>): { ok: true; event: CanonicalEvent } | null {
  const fast = normalizeOwned(obj);
  return fast instanceof Invalid ? null : { ok: true, event: fast };
}
