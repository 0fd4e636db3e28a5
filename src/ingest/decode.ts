import type { CanonicalEvent, RawEntry } from '../types.js';
import { validateEvent, validateOwned } from './event-schema.js';
import type { GeoCoercion } from './geo-rules.js';
import { applyTimeWindow, type TimeWindow } from './time-window.js';
import { deeperThan, mayNestDeeperThan, TOO_DEEP } from './depth.js';
import { detectProfile, resembledShape, shapeReason, streamProfiles, type MappingConfig, type Profile } from './profiles/index.js';
import { isPlainObject } from './profiles/path.js';
import { removePaths } from '../secrets/scrub.js';
import { entryObject, parseJsonObject } from './entry-object.js';
import { expandDottedKeys } from './dotted-keys.js';
import { shipperFormatHint } from './shipper-format.js';
import { profiledTarget, shipperInner, shipperTime } from './shipper-envelope.js';

/** Options for decoding. Pass the same `mapping` object every time: its profiles are cached. */
export interface DecodeOptions {
  /** `Config.raw.mapping`: stream → profile id, generic field maps. */
  mapping?: MappingConfig;
  /** The profile every object is mapped with, whatever its stream (`POST /v1/events?profile=`). */
  profile?: { id: string; profile: Profile };
  /** Detect Okta / Entra / CloudTrail shapes when the stream has no profile. Default true. */
  autodetect?: boolean;
  /** `ingest` time bounds: times outside [now - maxPast, now + maxFuture] are refused, session lifetimes capped. */
  window?: TimeWindow;
  /** `ingest.scrub_fields`: canonical field paths removed from every event before it is used or stored. */
  scrubFields?: readonly string[];
  /** `ingest.max_event_size`: an entry's (or record's) characters beyond this are refused. */
  maxEventSize?: number;
  /** Told of each geo value an accepted event's decode took as absent (out of range: src/ingest/geo-rules.ts). */
  onCoerced?: (reason: GeoCoercion) => void;
}

export type DecodeResult = { ok: true; event: CanonicalEvent } | { ok: false; reason: string };

/**
 * Marker field of entries holding an already decoded canonical event (written by riskstream's
 * own HTTP ingest, beside `event` and nothing else): no mapping profile is applied to them again.
 */
export const CANONICAL_FIELD = 'canonical';

/**
 * True for an entry as {@link canonicalEntryFields} writes it: those two fields and no other. A
 * shipper's entry that happens to carry a `canonical` field among its own is decoded as any other
 * (the field kept as an attribute).
 */
function isCanonicalEntry(f: Record<string, string>): boolean {
  let n = 0;
  for (const _ in f) if (++n > 2) return false;
  return n === 2;
}

function profileFor(stream: string | undefined, opts: DecodeOptions): Profile | undefined {
  if (!opts.mapping || stream === undefined) return undefined;
  return streamProfiles(opts.mapping).get(stream);
}

/**
 * Decodes an object (already parsed) into a canonical event: unwraps a shipper envelope,
 * applies the stream's mapping profile (or a detected vendor profile), fills a missing `time`
 * from shipper timestamps (`@timestamp`, `timestamp`, `date`), else with `now` (the time it was
 * received), and validates (with `opts.window`: against the time bounds around `now`).
 */
export function decodeObject(input: unknown, stream: string | undefined, opts: DecodeOptions = {}, now: number = Date.now()): DecodeResult {
  if (deeperThan(input)) return { ok: false, reason: TOO_DEEP };
  return decodeAny(input, stream, opts, now, false, now)!;
}

/**
 * `decodeObject`; with `owned` (an object just parsed from the entry, shared with nothing) the
 * event is normalised in place, and null means it was refused: decode the entry again, not owned,
 * for the reason.
 */
function decodeAny(
  input: unknown,
  stream: string | undefined,
  opts: DecodeOptions,
  now: number,
  owned: boolean,
  received: number | undefined,
): DecodeResult | null {
  if (!isPlainObject(input))
    return { ok: false, reason: `event must be a JSON object (got ${Array.isArray(input) ? 'array' : input === null ? 'null' : typeof input})` };
  const inner = shipperInner(input);
  // A shipper's line (`message`, `log`) parsed just now: its depth is checked here, the envelope's before.
  if (inner && deeperThan(inner)) return { ok: false, reason: TOO_DEEP };
  let obj = inner ?? input;
  let envelope = inner ? input : undefined;
  let ev: Record<string, unknown> = obj;
  let profileName: string | undefined;
  let profile: Profile | undefined;
  if (opts.profile) ({ id: profileName, profile } = opts.profile);
  else {
    try {
      profile = profileFor(stream, opts);
    } catch (e) {
      return { ok: false, reason: (e as Error).message };
    }
    if (profile) profileName = opts.mapping?.streams[stream!];
    else if (opts.autodetect !== false) {
      const d = detectProfile(obj);
      if (d) ({ id: profileName, profile } = d);
    }
  }
  if (profile) {
    let mapped = profile(obj);
    // A configured profile maps the object Filebeat decoded under `json` as it maps the line in `message`.
    const target = inner ? undefined : profiledTarget(input, profile, mapped);
    if (target) [obj, envelope, mapped] = [target.obj, input, target.mapped];
    if (!mapped) return { ok: false, reason: `profile ${profileName}: ${shapeReason(profileName ?? '')}` };
    ev = mapped;
  } else {
    // A canonical event's top-level dotted keys (ECS-style `geo.lat`) nest as flat fields' do; a
    // profile reads its source paths itself. Nesting deepens the event: checked again when it did.
    const nested = expandDottedKeys(obj, owned);
    if (nested) {
      if (deeperThan(nested)) return { ok: false, reason: TOO_DEEP };
      ev = nested;
    }
  }
  if (ev.time === undefined || ev.time === null) {
    // The line's own timestamps before the envelope's: the shipper's is when it read the line.
    const t = shipperTime(ev, envelope);
    // No time at all: the time riskstream received the event (an entry's id, fixed on every replay).
    const time = t ?? received;
    if (time !== undefined) ev = { ...ev, time };
  }
  if (opts.scrubFields?.length) removePaths(ev, opts.scrubFields);
  // A profile's output may share objects with anything: only a parsed object is normalised in place.
  const v = owned && !profile ? validateOwned(ev, coerced) : validateEvent(ev, coerced);
  const r = told(v && bounded(v, opts, now), opts);
  if (!r) return null;
  if (r.ok) return r;
  if (profileName) return { ok: false, reason: `profile ${profileName}: ${r.reason}` };
  // Not detected as a vendor record: one that lacks a field its profile needs says so.
  // Else a shipper's format that is not read (GELF, Vector's native_json, ECS unmapped) says so.
  const shape = (!profile && opts.autodetect !== false ? resembledShape(obj) : undefined) ?? shipperFormatHint(obj);
  return shape ? { ok: false, reason: `${r.reason} (${shape})` } : r;
}

/** The geo values the event being decoded had taken as absent (one array: decoding is synchronous). */
const coerced: GeoCoercion[] = [];

/** `r`, once `opts.onCoerced` was told of what {@link coerced} holds when `r` is an accepted event; {@link coerced} emptied. */
function told<R extends DecodeResult | null>(r: R, opts: DecodeOptions): R {
  if (!coerced.length) return r;
  if (r?.ok && opts.onCoerced) for (const c of coerced) opts.onCoerced(c);
  coerced.length = 0;
  return r;
}

/** Applies `opts.window` (when set) to a validated event. */
function bounded(r: DecodeResult, opts: DecodeOptions, now: number): DecodeResult {
  return r.ok && opts.window ? applyTimeWindow(r.event, now, opts.window) : r;
}

/**
 * Decodes one stream entry (docs/interfaces.md §2): the event as JSON in one field `event`, `data`,
 * `message` or `msg` (rsyslog omhiredis stream mode's default field), or as flat fields with dotted keys.
 * An event with no time of its own nor a shipper's takes the entry id's time (when Redis received it).
 * Never throws; a failure carries a reason that names the field, for the dead-letter stream.
 */
export function decodeEntry(raw: RawEntry, opts: DecodeOptions = {}, now: number = Date.now()): DecodeResult {
  // The objects parsed here are the entry's own: normalised in place; a refusal is decoded again
  // from the entry (rare) so that its reason is the complete one.
  return decodeFields(raw, opts, now, true) ?? decodeFields(raw, opts, now, false)!;
}

function decodeFields(raw: RawEntry, opts: DecodeOptions, now: number, owned: boolean): DecodeResult | null {
  const f = raw.fields;
  // An id Redis never gives (`*` takes its clock): one added with an explicit id far ahead, or after
  // one. Held until the clock reached it, it would hold its whole stream back (the merged order).
  const idAt = entryTime(raw.id);
  if (opts.window && idAt !== undefined && idAt > now + opts.window.maxFuture) return { ok: false, reason: FUTURE_ID };
  if (opts.maxEventSize !== undefined && fieldsLength(f) > opts.maxEventSize) return { ok: false, reason: tooLarge(opts.maxEventSize) };
  const mayNest = mayNestDeeperThan(f);
  if (f[CANONICAL_FIELD] === '1' && f.event !== undefined && isCanonicalEntry(f)) {
    const obj = parseJsonObject(f.event, 'event');
    if (typeof obj === 'string') return { ok: false, reason: obj };
    if (mayNest && deeperThan(obj)) return { ok: false, reason: TOO_DEEP };
    if (opts.scrubFields?.length) removePaths(obj, opts.scrubFields);
    const v = owned ? validateOwned(obj, coerced) : validateEvent(obj, coerced);
    return told(v && bounded(v, opts, now), opts);
  }
  const obj = entryObject(f);
  if (typeof obj === 'string') return { ok: false, reason: obj };
  if (mayNest && deeperThan(obj)) return { ok: false, reason: TOO_DEEP };
  return decodeAny(obj, raw.stream, opts, now, owned, entryTime(raw.id));
}

/** The reason for an entry whose id is beyond `ingest.max_future`. */
export const FUTURE_ID =
  'entry id: later than ingest.max_future after now (added with an explicit id, or after one): the stream holds entries Redis numbers after it; trim or recreate it';

/** The reason for an event over `ingest.max_event_size`. */
export function tooLarge(max: number): string {
  return `event: larger than ${max} characters`;
}

/** The characters of an entry's field names and values (what `ingest.max_event_size` counts). */
function fieldsLength(f: Record<string, string>): number {
  let n = 0;
  for (const k in f) n += k.length + f[k]!.length;
  return n;
}

/** {@link fieldsLength} of an entry written as a flat name, value, … list. */
export function flatLength(flat: readonly string[]): number {
  let n = 0;
  for (const x of flat) n += x.length;
  return n;
}

/** The milliseconds of a stream entry id (`<ms>-<seq>`), or undefined for anything else. */
function entryTime(id: string): number | undefined {
  const dash = id.indexOf('-');
  const ms = dash > 0 ? Number(id.slice(0, dash)) : NaN;
  return Number.isSafeInteger(ms) ? ms : undefined;
}

/** Stream fields for an event that is already decoded: `event` (JSON) + the canonical marker. */
export function canonicalEntryFields(event: CanonicalEvent): string[] {
  return ['event', JSON.stringify(event), CANONICAL_FIELD, '1'];
}
