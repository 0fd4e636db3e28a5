import { Buffer } from 'node:buffer';
import { isPlain } from '../ingest/event-rules.js';
import { sha256Hex } from '../secrets/secret-values.js';
import { deviceSeen } from './device-identity.js';
import type { SessionIdentity } from './identity.js';

/**
 * The size bound of a stored session identity (`sessions.max_identity_bytes`, pure): an identity
 * whose JSON would be larger has its largest values replaced by a {@link CutValue}, largest first,
 * until it fits, and lists what was cut in `truncated` (docs/sessions.md "Size of an identity").
 * Deterministic: the same identity always gives the same bytes (ties go by path).
 */

/** The default of `sessions.max_identity_bytes` (64 KiB). */
export const DEFAULT_MAX_IDENTITY_BYTES = 64 * 1024;

/** What a cut value is stored as. */
export interface CutValue {
  truncated: true;
  /** UTF-8 bytes of the value's JSON as it would have been stored (redacted). */
  bytes: number;
  /** Hex SHA-256 of that JSON text. */
  sha256: string;
  /** An array's number of items. */
  items?: number;
  /** An object's number of fields. */
  keys?: number;
}

type Section = 'claims' | 'attributes' | 'device' | 'network' | 'geo';
/** The objects whose fields may be cut, in the order a whole one is cut when sizes tie. */
const SECTIONS: readonly Section[] = ['claims', 'attributes', 'device', 'network', 'geo'];
/** Fields the product needs (the device registry, session_hijack's baseline): never cut. */
const KEPT: Readonly<Record<Section, readonly string[]>> = { claims: [], attributes: [], device: ['id'], network: ['asn'], geo: ['country'] };
/** Top-level strings cut last (to a {@link STRING_CUT} text: their type stays a string). */
const STRINGS = ['idp', 'event_id'] as const;
/** A string cut: `[truncated <bytes> bytes sha256:<hex>]`. */
const STRING_CUT = /^\[truncated \d+ bytes sha256:[0-9a-f]{64}\]$/;
/** `,"truncated":[` and `]`. */
const LIST_OVERHEAD = 15;
const HEX_PLACEHOLDER = '0'.repeat(64);

const utf8 = (s: string): number => Buffer.byteLength(s, 'utf8');
const hasOwn = (o: object, k: string): boolean => Object.prototype.hasOwnProperty.call(o, k);

const MARK_FIELDS: ReadonlySet<string> = new Set(['truncated', 'bytes', 'sha256', 'items', 'keys']);

/** Whether `v` is a cut value (or a whole object cut, its kept fields beside the marker). */
export function isCut(v: unknown): boolean {
  return isPlain(v) && v.truncated === true && typeof v.bytes === 'number' && typeof v.sha256 === 'string';
}

/** Whether `v` is a marker and nothing else (`kept`: fields allowed beside it): cutting it again would only lose what it says. */
function onlyCut(v: unknown, kept: readonly string[] = []): boolean {
  return isCut(v) && Object.keys(v as object).every((k) => MARK_FIELDS.has(k) || kept.includes(k));
}

/**
 * An upper bound of the UTF-8 bytes of `v`'s JSON (a UTF-16 unit is at most 6 bytes: `\u001f`),
 * or Infinity once it passes `limit` or for a value JSON.stringify may write otherwise (toJSON,
 * a class instance, a bigint). One walk, no string built: the usual identity is measured so.
 */
export function jsonBound(v: unknown, limit: number): number {
  switch (typeof v) {
    case 'string':
      return 6 * v.length + 2;
    case 'number':
      return 24; // -2.2250738585072014e-308
    case 'boolean':
      return 5;
    case 'object': {
      if (v === null) return 4;
      let n = 2;
      if (Array.isArray(v)) {
        for (let i = 0; i < v.length && n <= limit; i++) n += jsonBound(v[i], limit - n) + 1;
        return n > limit ? Infinity : n;
      }
      const proto = Object.getPrototypeOf(v) as unknown;
      if ((proto !== Object.prototype && proto !== null) || typeof (v as { toJSON?: unknown }).toJSON === 'function') return Infinity;
      const o = v as Record<string, unknown>;
      for (const k in o) {
        if (!hasOwn(o, k)) continue;
        n += 6 * k.length + 4 + jsonBound(o[k], limit - n);
        if (n > limit) return Infinity;
      }
      return n;
    }
    case 'bigint':
      return Infinity;
    default:
      return 4; // undefined, a function: left out (null in an array)
  }
}

/** The marker of a value whose JSON is `json` (`bytes` long); `sha` a placeholder when only its size matters. */
function cutOf(v: unknown, json: string, bytes: number, sha = sha256Hex(json)): CutValue {
  const m: CutValue = { truncated: true, bytes, sha256: sha };
  if (Array.isArray(v)) m.items = v.length;
  else if (isPlain(v)) m.keys = Object.keys(v).length;
  return m;
}

/** The bytes `paths` add as the identity's last field (`,"truncated":[…]`). */
function listBytes(paths: readonly string[] | undefined): number {
  if (!paths?.length) return 0;
  let n = LIST_OVERHEAD + paths.length - 1;
  for (const p of paths) n += utf8(JSON.stringify(p));
  return n;
}

/** An own field set (a `__proto__` field too, which an assignment would not make). */
function setOwn(o: Record<string, unknown>, k: string, v: unknown): void {
  Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true });
}

/** The listed paths that still hold a cut (a refresh may have replaced the value since). */
function stillCut(id: SessionIdentity, list: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(list)) return out;
  const at = id as unknown as Record<string, unknown>;
  for (const p of list) {
    if (typeof p !== 'string' || out.includes(p)) continue;
    const dot = p.indexOf('.');
    const parent = dot < 0 ? at : at[p.slice(0, dot)];
    const key = dot < 0 ? p : p.slice(dot + 1);
    const v = isPlain(parent) && hasOwn(parent, key) ? parent[key] : undefined;
    if (isCut(v) || (typeof v === 'string' && STRING_CUT.test(v))) out.push(p);
  }
  return out;
}

/** `id` as stored with `paths` as its `truncated` list (the last field), keeping what the engine's memory knows of it. */
function finish(id: SessionIdentity, fields: Record<string, unknown>, paths: string[], cut: boolean): SessionIdentity {
  const same = Array.isArray(id.truncated) ? id.truncated.length === paths.length && paths.every((p, i) => id.truncated![i] === p) : !paths.length;
  if (same && !cut) return id;
  const { truncated: _drop, ...rest } = fields;
  const out = (paths.length ? { ...rest, truncated: paths } : rest) as unknown as SessionIdentity;
  const seen = deviceSeen.get(id);
  if (seen !== undefined) deviceSeen.set(out, seen);
  return out;
}

/**
 * `id` bounded to `max` bytes of JSON (UTF-8, as stored). Under it: `id` itself (its `truncated`
 * list kept to the paths that still hold a cut), measured by {@link jsonBound} first and
 * serialised only when that bound passes `max`. Over it, cut until it fits, largest first:
 * 1. the fields of `claims`, `attributes`, `device` (but `id`), `network` (but `asn`) and `geo`
 *    (but `country`), each replaced by a {@link CutValue} (`claims.groups`);
 * 2. then, while still over, those objects whole (`claims`): the marker with their kept fields;
 * 3. then `idp` and `event_id`: `[truncated <bytes> bytes sha256:<hex>]`.
 * The user, session id, times, `ip` and the kept fields are never cut: an identity they alone make
 * larger stays larger. `truncated` lists what was cut, in the order it was.
 */
export function cappedIdentity(id: SessionIdentity, max: number): SessionIdentity {
  const listed = id.truncated === undefined ? [] : stillCut(id, id.truncated);
  const fields = id as unknown as Record<string, unknown>;
  const base: Record<string, unknown> = id.truncated === undefined ? fields : (({ truncated: _t, ...rest }) => rest)(fields);
  const listCost = listBytes(listed);
  if (jsonBound(base, max - listCost) + listCost <= max) return finish(id, base, listed, false);
  let total = utf8(JSON.stringify(base)) + listCost;
  if (total <= max) return finish(id, base, listed, false);
  const out: Record<string, unknown> = { ...base };
  const paths = [...listed];
  const own = (s: Section): Record<string, unknown> =>
    (out[s] === base[s] ? (out[s] = { ...(base[s] as Record<string, unknown>) }) : out[s]) as Record<string, unknown>;
  // 1. Fields, largest first: the saving of each is exact (its JSON's bytes less the marker's and its path's).
  const fieldCuts: Array<{ s: Section; k: string; path: string; v: unknown; json: string; bytes: number; saving: number }> = [];
  for (const s of SECTIONS) {
    const sec = base[s];
    if (!isPlain(sec)) continue;
    for (const k of Object.keys(sec)) {
      const v = sec[k];
      if (KEPT[s].includes(k) || onlyCut(v)) continue; // a stored identity's marker stays as it is
      const json = JSON.stringify(v) as string | undefined;
      if (json === undefined) continue;
      const bytes = utf8(json);
      const saving = bytes - utf8(JSON.stringify(cutOf(v, json, bytes, HEX_PLACEHOLDER)));
      if (saving > 0) fieldCuts.push({ s, k, path: `${s}.${k}`, v, json, bytes, saving });
    }
  }
  fieldCuts.sort((a, b) => b.bytes - a.bytes || (a.path < b.path ? -1 : a.path > b.path ? 1 : 0));
  for (const c of fieldCuts) {
    if (total <= max) break;
    const gain = c.saving - utf8(JSON.stringify(c.path)) - (paths.length ? 1 : LIST_OVERHEAD);
    if (gain <= 0) continue;
    setOwn(own(c.s), c.k, cutOf(c.v, c.json, c.bytes));
    paths.push(c.path);
    total -= gain;
  }
  if (total <= max) return finish(id, out, paths, true);
  // 2. Whole objects (many small fields), largest first, each measured anew.
  const measure = (f: Record<string, unknown>, p: string[]): number => utf8(JSON.stringify(f)) + listBytes(p);
  const sizes = SECTIONS.filter((s) => isPlain(out[s]) && !onlyCut(out[s], KEPT[s])).map((s) => ({ s, bytes: utf8(JSON.stringify(out[s])) }));
  sizes.sort((a, b) => b.bytes - a.bytes || SECTIONS.indexOf(a.s) - SECTIONS.indexOf(b.s));
  for (const { s } of sizes) {
    if (total <= max) break;
    const orig = base[s] as Record<string, unknown>;
    const json = JSON.stringify(orig);
    const whole: Record<string, unknown> = {};
    for (const k of KEPT[s]) if (hasOwn(orig, k) && orig[k] !== undefined) whole[k] = orig[k];
    Object.assign(whole, cutOf(orig, json, utf8(json)));
    const nextPaths = [...paths.filter((p) => !p.startsWith(`${s}.`)), s];
    const next = { ...out, [s]: whole };
    const t = measure(next, nextPaths);
    if (t >= total) continue;
    out[s] = whole;
    paths.splice(0, paths.length, ...nextPaths);
    total = t;
  }
  // 3. The IdP's name and the event id, larger first.
  const strings = STRINGS.filter((k) => typeof out[k] === 'string' && !STRING_CUT.test(out[k] as string));
  strings.sort((a, b) => utf8(out[b] as string) - utf8(out[a] as string) || STRINGS.indexOf(a) - STRINGS.indexOf(b));
  for (const k of strings) {
    if (total <= max) break;
    const json = JSON.stringify(out[k]);
    const text = `[truncated ${utf8(json)} bytes sha256:${sha256Hex(json)}]`;
    const next = { ...out, [k]: text };
    const t = measure(next, [...paths, k]);
    if (t >= total) continue;
    out[k] = text;
    paths.push(k);
    total = t;
  }
  return finish(id, out, paths, true);
}
