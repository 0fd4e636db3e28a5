/**
 * A stream entry's fields as one object (docs/interfaces.md §2): the event as JSON in an envelope
 * field (`event`, `data`, `message`, `msg`), or flat fields with dotted keys, or both (the entry's
 * other fields are attributes).
 */
import { parseWellFormed, userGivenTwice, USER_TWICE } from './well-formed.js';
import { isPlainObject } from './profiles/path.js';
import { placeDotted } from './dotted-keys.js';
import { toUser } from './event-rules.js';

/** Fields that may hold the whole event as JSON, in order of precedence. */
const ENVELOPE_FIELDS = ['event', 'data', 'message', 'msg'] as const;
/** Flat keys whose value may be a JSON object (`XADD … session.claims '{"groups":[…]}'`). */
const OBJECT_KEYS = new Set(['geo', 'session', 'device', 'network', 'session.claims', 'device.posture']);

/** True when `s` may hold a JSON object (it starts with `{`, after white space). */
export const looksJson = (s: string | undefined): s is string => s !== undefined && (s[0] === '{' || s.trimStart()[0] === '{');

/** Said of JSON that ends before its value does. */
const CUT_SHORT = " (it ends before its JSON does: cut short, e.g. at a log shipper's line size limit)";

/** `text` parsed as a JSON object (lone surrogates made well-formed), or the reason it is not one (never quoting it). */
export function parseJsonObject(text: string, field: string): Record<string, unknown> | string {
  let v: unknown;
  try {
    // A byte-order mark (a shipper reading the first line of a BOM file) is not part of the JSON.
    v = parseWellFormed(text.charCodeAt(0) === 0xfeff ? text.slice(1) : text);
  } catch (e) {
    // Not the parser's message: it quotes the text, which may be a secret.
    const msg = (e as Error).message;
    const pos = /position (\d+)/.exec(msg);
    // The text stops inside its JSON: a line a shipper cut at its size limit (rsyslog's 8 KB, syslog-ng's 64 KiB).
    const cut = pos ? Number(pos[1]) >= text.trimEnd().length : /end of JSON input/.test(msg);
    return `${field}: invalid JSON${pos ? ` at position ${pos[1]}` : ''}${cut ? CUT_SHORT : ''}`;
  }
  if (!isPlainObject(v)) return `${field}: must hold a JSON object (got ${Array.isArray(v) ? 'array' : typeof v})`;
  return userGivenTwice(text) ? `${field}: ${USER_TWICE}` : v;
}

/**
 * Why a lone envelope field that does not start with `{` holds no event: what it holds instead (an
 * empty string, a JSON array, a number, text that is not JSON), never quoting it.
 */
function notAnObject(field: string, text: string): string {
  let got = 'text, not JSON';
  if (text.trim() === '') got = text === '' ? 'an empty string' : 'only white space';
  else {
    try {
      const v: unknown = JSON.parse(text);
      got = Array.isArray(v) ? 'array' : v === null ? 'null' : typeof v;
    } catch {
      // Not JSON at all: the default.
    }
  }
  return `${field}: must hold a JSON object (got ${got})`;
}

/** A flat posture value: `true` / `false` in any case (`TRUE`, `False`) as a boolean, else the text. */
function postureFlag(v: string): string | boolean {
  if (v.length !== 4 && v.length !== 5) return v;
  const l = v.toLowerCase();
  return l === 'true' ? true : l === 'false' ? false : v;
}

/** A flat field's value: JSON objects in object fields parsed, posture flags as booleans. */
function flatValue(key: string, text: string): unknown {
  if (OBJECT_KEYS.has(key) && looksJson(text)) {
    const parsed = parseJsonObject(text, key);
    if (typeof parsed !== 'string') return parsed;
  }
  return key.startsWith('device.posture.') ? postureFlag(text) : text;
}

/**
 * Flat stream fields → nested object: dotted keys nest (`geo.lat`), JSON objects in object
 * fields are parsed, `true`/`false` (any case) in `device.posture.*` become booleans. Numeric strings stay
 * strings here; the schema coerces them where it wants numbers. Plain keys are placed first, then
 * dotted ones ({@link placeDotted}: shallower first; a dotted key whose place is taken — `app drive`
 * beside `app.id 42` — is kept under its dotted name): whatever the fields' order, no field is lost.
 */
export function flatToObject(fields: Record<string, string>, skip?: string): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  let dotted: string[] | undefined;
  for (const key in fields) {
    if (key === skip) continue;
    if (key.indexOf('.') >= 0) (dotted ??= []).push(key);
    else if (key !== '__proto__') out[key] = flatValue(key, fields[key]!);
  }
  if (dotted) placeDotted(out, dotted, (key) => flatValue(key, fields[key]!));
  return out;
}

/** Finds the event object in a stream entry: an envelope field holding JSON, else flat fields. */
export function entryObject(fields: Record<string, string>): Record<string, unknown> | string {
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
      if (count === 1) return notAnObject(name, text);
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
    const other = otherSubject(fields, name, obj.user);
    if (other) return `${name}, ${other}: two events of different users in one entry (neither is guessed)`;
    // Other fields of the entry are attributes; the JSON object wins on conflicts.
    return besideJson(fields, name, obj);
  }
  return flatToObject(fields);
}

/**
 * The JSON event of envelope field `name` with the entry's other fields as attributes (the JSON
 * wins on conflicts: a field it names too, plain or dotted, is its own). A dotted field under a key the JSON also has (`host.name` beside the JSON's
 * `host`) stays under its dotted name, to nest as a JSON event's own dotted keys do (where the JSON
 * leaves its place free): the flat value it built, replaced by the JSON's, would lose it.
 */
function besideJson(fields: Record<string, string>, name: string, obj: Record<string, unknown>): Record<string, unknown> {
  // A dotted field the JSON names too (its own dotted key, `"session.id"`) is the JSON's: left out,
  // else the flat value would take the place and the JSON's be kept beside it as an attribute.
  let flat = fields;
  for (const key in fields) {
    if (key.indexOf('.') < 0 || !Object.hasOwn(obj, key)) continue;
    if (flat === fields) flat = { ...fields };
    delete flat[key];
  }
  const out = { ...flatToObject(flat, name), ...obj };
  for (const key in flat) {
    const dot = key.indexOf('.');
    if (dot > 0 && key !== name && Object.hasOwn(obj, key.slice(0, dot))) out[key] = flatValue(key, flat[key]!);
  }
  return out;
}

/** Another envelope field of the entry holding a JSON event of another user than `user`, if any. */
function otherSubject(fields: Record<string, string>, name: string, user: unknown): string | undefined {
  for (const other of ENVELOPE_FIELDS) {
    const text = fields[other];
    if (other === name || text === undefined || !looksJson(text)) continue;
    const o = parseJsonObject(text, other);
    if (typeof o !== 'string' && o.user !== undefined && !sameUser(o.user, user)) return other;
  }
  return undefined;
}

/** True when two user values are one subject as ingest stores it ({@link toUser}: trimmed, NFC, e-mails lower-cased). */
function sameUser(a: unknown, b: unknown): boolean {
  const x = toUser(a, 'user');
  const y = toUser(b, 'user');
  return typeof x === 'string' && typeof y === 'string' ? x === y : a === b;
}
