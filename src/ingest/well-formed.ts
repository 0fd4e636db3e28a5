/**
 * JSON text whose strings may hold a lone surrogate: only a `\uD800`–`\uDFFF` escape can put one in
 * a string JSON.parse returns (text read as UTF-8 cannot). A surrogate pair written as escapes
 * matches too; {@link wellFormed} keeps pairs.
 */
const ESCAPED_SURROGATE = /\\u[dD][89a-fA-F][0-9a-fA-F]{2}/;

type WellFormedString = string & { toWellFormed(): string };

/**
 * `value` (just parsed, owned) with every lone surrogate in its strings and keys replaced by U+FFFD,
 * as UTF-8 stores them: what is routed, stored and compared is then the same text everywhere (a
 * partition entry, a Redis key, the owner's memory). In place; objects' keys too.
 */
export function wellFormed(value: unknown): unknown {
  if (typeof value === 'string') return (value as WellFormedString).toWellFormed();
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) value[i] = wellFormed(value[i]);
    return value;
  }
  if (value !== null && typeof value === 'object') {
    const o = value as Record<string, unknown>;
    for (const k of Object.keys(o)) {
      const cur = o[k];
      const v = wellFormed(cur);
      const w = (k as WellFormedString).toWellFormed();
      // Defined, not assigned: an own `__proto__` key (JSON.parse makes one) stays a plain property.
      if (w !== k) delete o[k];
      if (w !== k || v !== cur) Object.defineProperty(o, w, { value: v, enumerable: true, writable: true, configurable: true });
    }
  }
  return value;
}

/** JSON.parse, then {@link wellFormed} when the text escapes a surrogate (rare: one regex test otherwise). */
export function parseWellFormed(text: string): unknown {
  const v: unknown = JSON.parse(text);
  return ESCAPED_SURROGATE.test(text) ? wellFormed(v) : v;
}

/** The reason for an object naming `user` twice. */
export const USER_TWICE = 'key "user" given more than once (which is the subject?)';

/**
 * An escape JSON.parse reads as a letter of `user` (`\u0075`, `\u0073`, `\u0065`, `\u0072`): a key
 * may spell `user` so (`"\u0075ser"`), which is the same key to JSON.parse.
 */
const ESCAPED_USER_LETTER = /\\u00(?:7[235]|65)/i;
/** The longest spelling of `user` in a key: each letter escaped (`\u0075\u0073\u0065\u0072`). */
const MAX_ESCAPED_USER = 24;

/** The key written between `start` and `end` (within its quotes), when it holds an escape. */
function escapedKey(text: string, start: number, end: number): string | undefined {
  try {
    return JSON.parse(`"${text.slice(start, end)}"`) as string;
  } catch {
    return undefined;
  }
}

/**
 * Whether a JSON object's text (valid JSON) names its top-level key `user` more than once, or the
 * `user` of the object under its top-level `json` key (the event Filebeat decoded under a target,
 * src/ingest/decode.ts): JSON.parse keeps the last, so an appended key would re-attribute the event
 * without a trace (a flat entry naming a field twice is refused too); a key spelled with escapes
 * (`"\u0075ser"`) counts. One `indexOf` pair (and one escape test) unless the text holds `"user"`
 * twice or such an escape.
 */
export function userGivenTwice(text: string): boolean {
  const first = text.indexOf('"user"');
  const escaped = ESCAPED_USER_LETTER.test(text);
  if (!escaped && (first < 0 || first === text.lastIndexOf('"user"'))) return false;
  let depth = 0;
  let count = 0;
  // The `json` target's keys (depth 2 under a top-level `json`: every such object, as JSON.parse keeps the last).
  let key = '';
  let inJson = false;
  let countJson = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = ++i;
      let backslash = false;
      while (i < text.length && text.charCodeAt(i) !== 0x22) {
        if (text.charCodeAt(i) === 0x5c) {
          backslash = true;
          i += 2;
        } else i++;
      }
      if (depth !== 1 && !(depth === 2 && inJson)) continue;
      let j = i + 1;
      while (j < text.length && (text[j] === ' ' || text[j] === '\t' || text[j] === '\n' || text[j] === '\r')) j++;
      if (text[j] !== ':') continue;
      const name = backslash ? (i - start <= MAX_ESCAPED_USER ? escapedKey(text, start, i) : undefined) : text.slice(start, i);
      if (depth === 1) key = name === 'json' ? 'json' : '';
      if (name === 'user' && (depth === 1 ? ++count : ++countJson) > 1) return true;
    } else if (c === 0x7b || c === 0x5b) {
      if (++depth === 2) inJson = c === 0x7b && key === 'json';
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}
