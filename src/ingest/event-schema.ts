import { isIP } from 'node:net';
import { z } from 'zod';
import type { CanonicalEvent } from '../types.js';
import { isRepresentableTime, TIME_INVALID, TIME_OUT_OF_RANGE } from './time-window.js';

/**
 * The canonical event (docs/interfaces.md §2): its normalisation rules, a zod schema built from them
 * (for complete error messages) and `normalizeEvent`, a hand-written fast path applying the
 * very same rule functions. Both keep unknown fields.
 */

/** A rule's rejection: the message names the field. */
export class Invalid {
  constructor(readonly message: string) {}
}

type Rule<T> = (v: unknown, field: string) => T | Invalid;

const NUMERIC = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?$/i;
const EMAIL = /^[^@\s]+@[^@\s]+$/;
/** Below this an epoch number is taken as seconds (1e11 s is the year 5138; 1e11 ms is 1973). */
const SECONDS_BELOW = 1e11;

const SUCCESS = new Set(['success', 'succeeded', 'successful', 'allow', 'allowed', 'ok', 'pass', 'passed']);
const FAILURE = new Set(['failure', 'failed', 'fail', 'error', 'unsuccessful']);

const kind = (v: unknown): string => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** A finite number, or a numeric string; anything else is rejected. */
export const toNumber: Rule<number> = (v, field) => {
  if (typeof v === 'number') return Number.isFinite(v) ? v : new Invalid(`${field}: must be a finite number`);
  if (typeof v === 'string' && NUMERIC.test(v.trim())) return Number(v.trim());
  return new Invalid(`${field}: must be a number (got ${kind(v) === 'string' ? `a string of ${String(v).length} characters` : kind(v)})`);
};

/**
 * ISO-8601 string, epoch ms, or epoch seconds (< 1e11), as number or numeric string → epoch ms.
 * Refuses times a `Date` cannot hold (`time_out_of_range`) and non-times (`time_invalid`).
 */
export const toEpochMs: Rule<number> = (v, field) => {
  if (v === undefined || v === null || v === '') return new Invalid(`${field}: required (ISO-8601 or epoch ms)`);
  let n: number;
  if (typeof v === 'number') n = v;
  else if (typeof v === 'string') {
    const s = v.trim();
    if (NUMERIC.test(s)) n = Number(s);
    else if (ISO_DATE.test(s)) n = Date.parse(s);
    else return new Invalid(`${field}: not an ISO-8601 time or epoch number (a string of ${v.length} characters) (${TIME_INVALID})`);
  } else return new Invalid(`${field}: must be an ISO-8601 string or epoch ms (got ${kind(v)}) (${TIME_INVALID})`);
  if (Number.isNaN(n)) return new Invalid(`${field}: not a valid time (${TIME_INVALID})`);
  const ms = Math.round(n < SECONDS_BELOW ? n * 1000 : n);
  // 1e21, 1e308, Infinity, negatives: never a time (and never a Redis TTL). The value is not quoted.
  return isRepresentableTime(ms) ? ms : new Invalid(`${field}: ${TIME_OUT_OF_RANGE} (not a representable time)`);
};

/** Non-empty string after trimming. */
export const toText: Rule<string> = (v, field) => {
  if (typeof v !== 'string') return new Invalid(`${field}: must be a string (got ${kind(v)})`);
  const s = v.trim();
  return s ? s : new Invalid(`${field}: must not be empty`);
};

/** Identifier: a non-empty string, numbers accepted and stringified. */
export const toId: Rule<string> = (v, field) => (typeof v === 'number' && Number.isFinite(v) ? String(v) : toText(v, field));

/** The subject: trimmed; email addresses lower-cased. */
export const toUser: Rule<string> = (v, field) => {
  if (v === undefined || v === null) return new Invalid(`${field}: required`);
  const s = toId(v, field);
  return typeof s === 'string' && EMAIL.test(s) ? s.toLowerCase() : s;
};

/** Lower-cased outcome; success and failure aliases collapse to `success` / `failure`. */
export const toOutcome: Rule<string> = (v, field) => {
  const s = toText(v, field);
  if (s instanceof Invalid) return s;
  const l = s.toLowerCase();
  return SUCCESS.has(l) ? 'success' : FAILURE.has(l) ? 'failure' : l;
};

/** A valid IPv4 or IPv6 address. */
export const toIp: Rule<string> = (v, field) => {
  const s = toText(v, field);
  if (s instanceof Invalid) return s;
  return isIP(s) ? s : new Invalid(`${field}: not a valid IPv4/IPv6 address (a string of ${s.length} characters)`);
};

/** Autonomous system number: a number, numeric string or `AS1234`. */
export const toAsn: Rule<number> = (v, field) => (typeof v === 'string' && /^AS\d+$/i.test(v.trim()) ? Number(v.trim().slice(2)) : toNumber(v, field));

const isPlain = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

const asObject = (v: unknown, field: string): Record<string, unknown> | Invalid =>
  isPlain(v) ? v : new Invalid(`${field}: must be an object (got ${kind(v)})`);

/** One known field: its rule, whether it is required, and its full path for messages. */
interface Field {
  key: string;
  rule: Rule<unknown>;
  required: boolean;
  path: string;
}
type Spec = Record<string, [Rule<unknown>, boolean /* required */]>;

// lat/lon: both, or neither when `country` or `city` is given (country-only geo, issue 14): see geoProblem.
const GEO: Spec = { lat: [toNumber, false], lon: [toNumber, false], accuracy_km: [toNumber, false], country: [toText, false], city: [toText, false] };
const SESSION: Spec = { id: [toId, true], expires_at: [toEpochMs, false], idp: [toText, false], claims: [asObject, false] };
const DEVICE: Spec = { id: [toId, false], posture: [asObject, false] };
const NETWORK: Spec = { asn: [toAsn, false], colo: [toText, false], via: [toText, false] };
const TOP: Spec = { type: [toText, true], user: [toUser, true], time: [toEpochMs, true], id: [toId, false], outcome: [toOutcome, false], ip: [toIp, false] };
const NESTED_SPECS: Record<string, Spec> = { geo: GEO, session: SESSION, device: DEVICE, network: NETWORK };

const fields = (spec: Spec, prefix: string): Field[] => Object.entries(spec).map(([key, [rule, required]]) => ({ key, rule, required, path: prefix + key }));
const TOP_FIELDS = fields(TOP, '');
const NESTED: Array<[string, Field[]]> = Object.entries(NESTED_SPECS).map(([k, spec]) => [k, fields(spec, `${k}.`)]);

/** Copies `src` normalising its known fields (unknown keys kept; null optional ones dropped). */
function applyFields(src: Record<string, unknown>, list: Field[]): Record<string, unknown> | Invalid {
  const out: Record<string, unknown> = { ...src }; // spread: far faster than a for-in copy
  for (let i = 0; i < list.length; i++) {
    const f = list[i]!;
    const v = src[f.key];
    if (v === undefined || v === null) {
      if (f.required) return new Invalid(`${f.path}: required`);
      if (v === null) delete out[f.key]; // rare: explicit null
      continue;
    }
    const r = f.rule(v, f.path);
    if (r instanceof Invalid) return r;
    out[f.key] = r;
  }
  return out;
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
 * first problem. Same rules as `canonicalEventSchema`; no zod on the hot path.
 */
export function normalizeEvent(obj: Record<string, unknown>): CanonicalEvent | Invalid {
  const out = applyFields(obj, TOP_FIELDS);
  if (out instanceof Invalid) return out;
  for (let i = 0; i < NESTED.length; i++) {
    const [key, list] = NESTED[i]!;
    const v = obj[key];
    if (v === undefined) continue;
    if (v === null) {
      delete out[key];
      continue;
    }
    if (!isPlain(v)) return new Invalid(`${key}: must be an object (got ${kind(v)})`);
    const r = applyFields(v, list);
    if (r instanceof Invalid) return r;
    if (key === 'geo') {
      const bad = geoProblem(r);
      if (bad) return bad;
    }
    out[key] = r;
  }
  return out as CanonicalEvent;
}

/** Wraps a rule as a zod schema; the issue message is the rule's (it names the field). */
function zrule<T>(rule: Rule<T>, field: string, required: boolean): z.ZodType<T | undefined> {
  const run = z.unknown().transform((v, ctx) => {
    if (v === null && !required) return undefined;
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
    (v) => (v === null ? undefined : v),
    z
      .looseObject(zspec(GEO, 'geo.'), { error: 'geo: must be an object' })
      .superRefine((g, ctx) => {
        const bad = geoProblem(g);
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
