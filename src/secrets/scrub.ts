import { fingerprintMark, looksLikeJwt, mayHoldToken, scrubText, sha256Hex } from './secret-values.js';
import { isSecretName } from './secret-names.js';
import { replaceJsonPairs } from './json-pairs.js';

/**
 * Deep scrubbing of JSON-like values (pure): fields with a secret name (secret-names.ts) become
 * `"[redacted]"`, secret-shaped strings (secret-values.ts) are replaced, listed paths removed.
 */

/** True when `s` may hold a JSON `"name": value` pair (a cheap test before the pair regex runs). */
const holdsPairs = (s: string): boolean => s.includes('":') || s.includes('" :');

/** Replacement for a secret-named field. */
export const REDACTED = '[redacted]';
const MAX_DEPTH = 32;

/** How {@link scrubValue} treats names and whole-string JWTs. */
export interface ScrubOptions {
  /** True when a field's value is to be redacted by its name; default {@link isSecretName}. */
  secretName?: (name: string) => boolean;
  /** A string that is itself a JWT: replaced by this (default the `[redacted jwt sha256:…]` text). */
  wholeJwt?: (token: string) => unknown;
}

/**
 * Deep copy with secrets scrubbed. Non-JSON values (functions, symbols) are dropped; nesting
 * beyond 32 levels is cut to `"[truncated]"`.
 */
export function scrubValue(v: unknown, opts: ScrubOptions = {}, depth = 0): unknown {
  if (typeof v === 'string') return scrubString(v, opts);
  if (v === null || typeof v === 'number' || typeof v === 'boolean') return v;
  if (typeof v !== 'object') return undefined;
  if (depth >= MAX_DEPTH) return '[truncated]';
  if (Array.isArray(v)) {
    // A loop, not map(): no closure per array (a hole becomes null, as map's hole did in JSON).
    const out: unknown[] = [];
    for (let i = 0; i < v.length; i++) out.push(scrubValue(v[i], opts, depth + 1) ?? null);
    return out;
  }
  const secret = opts.secretName ?? isSecretName;
  const out: Record<string, unknown> = {};
  const o = v as Record<string, unknown>;
  // for…in with an own-property check: Object.entries' pair arrays were a fair share of the
  // garbage of every login's session identity.
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    // A token may be a key too (`{"sessions": {"eyJ…": "active"}}`): fingerprinted as in a value.
    // k itself unless it may hold a token (scrubText's own fast check); a credential in it fingerprinted: two keys stay two.
    const key = scrubText(k, fingerprintMark);
    if (secret(k)) {
      out[key] = REDACTED;
      continue;
    }
    const r = scrubValue(o[k], opts, depth + 1);
    if (r !== undefined) out[key] = r;
  }
  return out;
}

/**
 * A string value scrubbed: `"name": value` pairs in it (JSON text a claim or an attribute holds,
 * `{"password": …}`) redacted by name as fields are, then its tokens and credentials replaced. Most
 * strings can hold neither: returned as they are, without the regular expressions.
 */
function scrubString(v: string, opts: ScrubOptions): unknown {
  const named = holdsPairs(v) ? redactJsonPairs(v) : v;
  if (!mayHoldToken(named)) return named;
  return opts.wholeJwt && looksLikeJwt(named) ? opts.wholeJwt(named) : scrubText(named);
}

/**
 * {@link scrubValue} without copying what it would leave as it is: `v` itself when scrubbing
 * changes nothing in it (a plain object or array, recursively), else the copy {@link scrubValue}
 * makes of it. The same JSON either way; the result may share objects with `v` (never mutate it).
 */
export function scrubShared(v: unknown, opts: ScrubOptions = {}, depth = 0): unknown {
  if (typeof v !== 'object' || v === null) return scrubValue(v, opts, depth);
  return depth < MAX_DEPTH && unchanged(v, opts.secretName ?? isSecretName, opts, depth) ? v : scrubValue(v, opts, depth);
}

/** True when scrubbing a plain object or array (below the depth limit) would copy it exactly. */
function unchanged(v: object, secret: (name: string) => boolean, opts: ScrubOptions, depth: number): boolean {
  const proto: unknown = Object.getPrototypeOf(v);
  if (proto === Array.prototype) {
    const a = v as unknown[];
    for (let i = 0; i < a.length; i++) if (!same(a[i], secret, opts, depth + 1)) return false;
    return true;
  }
  if (proto !== Object.prototype) return false;
  const o = v as Record<string, unknown>;
  for (const k in o) {
    if (!Object.prototype.hasOwnProperty.call(o, k)) continue;
    // `__proto__` is never copied as a field (assigning it sets the copy's prototype).
    if (k === '__proto__' || secret(k) || scrubText(k, fingerprintMark) !== k || !same(o[k], secret, opts, depth + 1)) return false;
  }
  return true;
}

/** True when {@link scrubValue} would give `x` back as it is (a string, number, boolean or null) or an exact copy of it. */
function same(x: unknown, secret: (name: string) => boolean, opts: ScrubOptions, depth: number): boolean {
  switch (typeof x) {
    case 'string':
      return (!mayHoldToken(x) && !holdsPairs(x)) || scrubValue(x, opts, depth) === x;
    case 'number':
    case 'boolean':
      return true;
    case 'object':
      return x === null || (depth < MAX_DEPTH && unchanged(x, secret, opts, depth));
    default:
      return false; // undefined, functions, symbols, bigints: dropped or replaced
  }
}

/**
 * A flat field map (a stream entry's fields, dotted names such as `session.token`) with secrets
 * scrubbed: a field at or under one of `removePaths` is dropped (inside JSON fields too); a
 * secret-named field (any dotted segment) → `[redacted]`; a field holding a JSON object or array
 * → parsed, scrubbed, re-serialised when anything changed; else the value scrubbed as text.
 */
export function scrubFields(fields: Readonly<Record<string, string>>, remove: readonly string[] = []): Record<string, string> {
  const out: Record<string, string> = Object.create(null) as Record<string, string>; // a `__proto__` field kept
  for (const [k, v] of Object.entries(fields)) {
    if (remove.some((p) => k === p || k.startsWith(`${p}.`))) continue;
    if (k.split('.').some(isSecretName)) {
      out[k] = REDACTED;
      continue;
    }
    out[k] = scrubJsonText(v, remove);
  }
  return out;
}

/** Fields in which shippers keep the original log line (src/ingest/shipper-envelope.ts): the event, as JSON text. */
const SHIPPER_LINES: readonly string[] = ['message', 'log'];

/**
 * The strings inside a parsed JSON value that hold JSON text or `"name": value` pairs, scrubbed
 * as such (in place): a shipper envelope's line (`message`, `log`) as the event it is, `remove`
 * paths too; any other one by the names in it (`{"data": "{\"password\": …}"}`).
 */
function scrubEmbedded(v: unknown, remove: readonly string[], depth = 0): void {
  if (!v || typeof v !== 'object' || depth > 32) return;
  const o = v as Record<string, unknown>;
  for (const k of Object.keys(o)) {
    const x = o[k];
    if (typeof x !== 'string') scrubEmbedded(x, [], depth + 1);
    else if (holdsPairs(x)) o[k] = scrubJsonText(x, depth === 0 && SHIPPER_LINES.includes(k) ? remove : []);
  }
}

/**
 * A JSON text scrubbed as a value, `remove` paths dropped from an object (re-serialised only when
 * something changed), else scrubbed as text.
 */
export function scrubJsonText(v: string, remove: readonly string[] = []): string {
  const t = v.trimStart();
  if (t.startsWith('{') || t.startsWith('[')) {
    try {
      const parsed: unknown = JSON.parse(v);
      const before = JSON.stringify(parsed);
      if (remove.length && parsed && typeof parsed === 'object' && !Array.isArray(parsed)) removePaths(parsed as Record<string, unknown>, remove);
      scrubEmbedded(parsed, remove);
      const s = JSON.stringify(scrubValue(parsed));
      return s === before ? v : s;
    } catch {
      // Not JSON (a line cut short, say): its `"name": value` pairs are still redacted by name.
      return scrubText(redactJsonPairs(v, remove));
    }
  }
  // Text (a log line with JSON after a prefix, say): `"name": value` pairs in it redacted by name.
  return scrubText(holdsPairs(v) ? redactJsonPairs(v, remove) : v);
}

/** A key as written in JSON text, its escapes (`pass\u0077ord`) resolved. */
function unescapedName(name: string): string {
  if (!name.includes('\\')) return name;
  try {
    return JSON.parse(`"${name}"`) as string;
  } catch {
    return name;
  }
}

/**
 * Text that looks like JSON but does not parse, with the values of secret-named keys `[redacted]`;
 * a string value holding escaped JSON (a shipper's `message` line) is scrubbed within, one escape
 * level down.
 */
function redactJsonPairs(v: string, remove: readonly string[] = []): string {
  return replaceJsonPairs(v, (pair, name, colon, value) => redactedPair(pair, name, colon, value, remove));
}

/** One `"name": value` pair with its value `[redacted]` by its name, or scrubbed within. */
function redactedPair(pair: string, name: string, colon: string, value: string, remove: readonly string[]): string {
  if (isSecretName(unescapedName(name))) return `"${name}"${colon}"${REDACTED}"`;
  if (value[0] !== '"' || !value.includes('\\"')) return pair;
  const closed = value.length > 1 && /(^|[^\\])(\\\\)*"$/.test(value.slice(1)); // its last quote not escaped
  const text = unescapedString(value.slice(1, closed ? -1 : undefined));
  const scrubbed = scrubJsonText(text, remove);
  return scrubbed === text ? pair : `"${name}"${colon}${JSON.stringify(scrubbed).slice(0, closed ? undefined : -1)}`;
}

/**
 * The text of a JSON string's body (`a\"b` → `a"b`), an escape cut short at its end dropped; a
 * body JSON refuses (a raw control character, `C:\temp`) has its valid escapes resolved and the
 * rest kept as written.
 */
function unescapedString(body: string): string {
  const cut = body.replace(/\\(u[0-9a-fA-F]{0,3})?$/, '');
  try {
    return JSON.parse(`"${cut}"`) as string;
  } catch {
    return cut.replace(/\\(["\\/bfnrt]|u[0-9a-fA-F]{4})/g, (_e, c: string) =>
      c.length === 5 ? String.fromCharCode(parseInt(c.slice(1), 16)) : (ESCAPES[c] ?? c),
    );
  }
}

const ESCAPES: Record<string, string> = { '"': '"', '\\': '\\', '/': '/', b: '\b', f: '\f', n: '\n', r: '\r', t: '\t' };

/** Removes the dotted `paths` (`session.claims.ssn`, `password`) from an object, in place. */
export function removePaths(obj: Record<string, unknown>, paths: readonly string[]): void {
  for (const path of paths) {
    const segs = path.split('.');
    let node: unknown = obj;
    for (let i = 0; i < segs.length - 1 && node && typeof node === 'object'; i++) node = (node as Record<string, unknown>)[segs[i]!];
    if (node && typeof node === 'object' && !Array.isArray(node)) delete (node as Record<string, unknown>)[segs[segs.length - 1]!];
  }
}

export { sha256Hex };
