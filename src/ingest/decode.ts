import { parseWellFormed } from './well-formed.js';
import type { CanonicalEvent, RawEntry } from '../types.js';
import { validateEvent, validateOwned } from './event-schema.js';
import { applyTimeWindow, type TimeWindow } from './time-window.js';
import { deeperThan, mayNestDeeperThan, TOO_DEEP } from './depth.js';
import { detectProfile, shapeReason, streamProfiles, type MappingConfig, type Profile } from './profiles/index.js';
import { isPlainObject, setPath } from './profiles/path.js';
import { removePaths } from '../secrets/scrub.js';
import { toUser } from './event-rules.js';

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

/** Fields that may hold the whole event as JSON, in order of precedence. */
const ENVELOPE_FIELDS = ['event', 'data', 'message', 'msg'] as const;
/** Flat keys whose value may be a JSON object (`XADD … session.claims '{"groups":[…]}'`). */
const OBJECT_KEYS = new Set(['geo', 'session', 'device', 'network', 'session.claims', 'device.posture']);
/** Fields in which shippers keep the original log line. */
const SHIPPER_LINE_FIELDS = ['message', 'log'] as const;
/** Shipper timestamps used when the event itself has no `time`. */
const TIME_FALLBACKS = ['@timestamp', 'timestamp', 'date'] as const;

const looksJson = (s: string | undefined): s is string => s !== undefined && (s[0] === '{' || s.trimStart()[0] === '{');

function parseJsonObject(text: string, field: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    v = parseWellFormed(text);
  } catch (e) {
    // Not the parser's message: it quotes the text, which may be a secret.
    const pos = /position (\d+)/.exec((e as Error).message);
    return `${field}: invalid JSON${pos ? ` at position ${pos[1]}` : ''}`;
  }
  return isPlainObject(v) ? v : `${field}: must hold a JSON object (got ${Array.isArray(v) ? 'array' : typeof v})`;
}

/**
 * Flat stream fields → nested object: dotted keys nest (`geo.lat`), JSON objects in object
 * fields are parsed, `true`/`false` (any case) in `device.posture.*` become booleans. Numeric strings stay
 * strings here; the schema coerces them where it wants numbers.
 */
/** A flat posture value: `true` / `false` in any case (`TRUE`, `False`) as a boolean, else the text. */
function postureFlag(v: string): string | boolean {
  if (v.length !== 4 && v.length !== 5) return v;
  const l = v.toLowerCase();
  return l === 'true' ? true : l === 'false' ? false : v;
}

export function flatToObject(fields: Record<string, string>, skip?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key in fields) {
    if (key === skip) continue;
    let v: unknown = fields[key];
    if (OBJECT_KEYS.has(key) && looksJson(v as string)) {
      const parsed = parseJsonObject(v as string, key);
      if (typeof parsed !== 'string') v = parsed;
    } else if (key.startsWith('device.posture.')) v = postureFlag(v as string);
    if (key.indexOf('.') < 0) {
      if (key !== '__proto__') out[key] = v;
    } else setPath(out, key, v);
  }
  return out;
}

/** Finds the event object in a stream entry: an envelope field holding JSON, else flat fields. */
function entryObject(fields: Record<string, string>): Record<string, unknown> | string {
  let count = 0;
  for (const _ in fields) count++;
  for (const name of ENVELOPE_FIELDS) {
    const text = fields[name];
    if (text === undefined) continue;
    // A flat entry with its own `user` is the event: its `message` / `msg` is the log line's text,
    // an attribute (as a shipper envelope's), never an event that replaces it (a line crafted as JSON
    // would score another user, or hide this one's failures).
    if ((name === 'message' || name === 'msg') && count > 1 && fields.user !== undefined) continue;
    if (!looksJson(text)) {
      if (count === 1) return `${name}: must hold a JSON object`;
      continue;
    }
    const obj = parseJsonObject(text, name);
    if (typeof obj === 'string') {
      // A `message` / `msg` that merely starts with "{" in a flat entry is plain text.
      if ((name === 'message' || name === 'msg') && count > 1) continue;
      return obj;
    }
    if (count === 1) return obj;
    // Two subjects in one entry: refused (dead-lettered), neither is guessed.
    if (fields.user !== undefined && obj.user !== undefined && !sameUser(obj.user, fields.user))
      return `${name}: its event's user differs from the entry's user field`;
    // Other fields of the entry are attributes; the JSON object wins on conflicts.
    return { ...flatToObject(fields, name), ...obj };
  }
  return flatToObject(fields);
}

/** True when two user values are one subject as ingest stores it ({@link toUser}: trimmed, NFC, e-mails lower-cased). */
function sameUser(a: unknown, b: unknown): boolean {
  const x = toUser(a, 'user');
  const y = toUser(b, 'user');
  return typeof x === 'string' && typeof y === 'string' ? x === y : a === b;
}

/**
 * A shipper's envelope keeps the original line as text: `message` (Filebeat, Logstash, Vector
 * file source) or `log` (Fluent Bit tail). When the object has no `user` and that field holds a
 * JSON object, that object is the event (the envelope's `@timestamp` remains a time fallback);
 * so is an event object Filebeat decoded under `json`.
 */
function shipperInner(obj: Record<string, unknown>): Record<string, unknown> | undefined {
  if (obj.user !== undefined) return undefined;
  for (const key of SHIPPER_LINE_FIELDS) {
    const line = obj[key];
    if (typeof line !== 'string' || !looksJson(line)) continue;
    const inner = parseJsonObject(line, key);
    if (typeof inner !== 'string') return inner;
  }
  // Filebeat decoding the line under a target (`json`: the ndjson parser's `target: json`, the log
  // input's `json.*` options without `keys_under_root`): that object, when it is an event.
  const target = obj.json;
  if (isPlainObject(target) && (target.user !== undefined || detectProfile(target) !== null)) return target;
  return undefined;
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
  const obj = inner ?? input;
  const envelope = inner ? input : undefined;
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
    const mapped = profile(obj);
    if (!mapped) return { ok: false, reason: `profile ${profileName}: ${shapeReason(profileName ?? '')}` };
    ev = mapped;
  }
  if (ev.time === undefined || ev.time === null) {
    const t = TIME_FALLBACKS.map((k) => ev[k] ?? envelope?.[k]).find((v) => v !== undefined && v !== null && v !== '');
    // No time at all: the time riskstream received the event (an entry's id, fixed on every replay).
    const time = t ?? received;
    if (time !== undefined) ev = { ...ev, time };
  }
  if (opts.scrubFields?.length) removePaths(ev, opts.scrubFields);
  // A profile's output may share objects with anything: only a parsed object is normalised in place.
  const v = owned && !profile ? validateOwned(ev) : validateEvent(ev);
  if (!v) return null;
  const r = bounded(v, opts, now);
  return r.ok || !profileName ? r : { ok: false, reason: `profile ${profileName}: ${r.reason}` };
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
  if (opts.maxEventSize !== undefined && fieldsLength(f) > opts.maxEventSize) return { ok: false, reason: tooLarge(opts.maxEventSize) };
  const mayNest = mayNestDeeperThan(f);
  if (f[CANONICAL_FIELD] === '1' && f.event !== undefined && isCanonicalEntry(f)) {
    const obj = parseJsonObject(f.event, 'event');
    if (typeof obj === 'string') return { ok: false, reason: obj };
    if (mayNest && deeperThan(obj)) return { ok: false, reason: TOO_DEEP };
    if (opts.scrubFields?.length) removePaths(obj, opts.scrubFields);
    const v = owned ? validateOwned(obj) : validateEvent(obj);
    return v && bounded(v, opts, now);
  }
  const obj = entryObject(f);
  if (typeof obj === 'string') return { ok: false, reason: obj };
  if (mayNest && deeperThan(obj)) return { ok: false, reason: TOO_DEEP };
  return decodeAny(obj, raw.stream, opts, now, owned, entryTime(raw.id));
}

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
