/**
 * Lengths as people count them: characters are Unicode code points, not UTF-16 units (an emoji
 * is one character, as `é` is), for the limits the API states in characters.
 */

/** The characters (code points) of `s`. */
export function charCount(s: string): number {
  let n = 0;
  for (const _ of s) n++;
  return n;
}

/** `s` cut to at most `max` characters (code points), never inside a surrogate pair. */
export function cutChars(s: string, max: number): string {
  if (s.length <= max) return s;
  let n = 0;
  let end = 0;
  for (const ch of s) {
    if (n === max) break;
    end += ch.length;
    n++;
  }
  return s.slice(0, end);
}

/**
 * `s` without its trailing `/`s, in linear time (`s.replace(/\/+$/, '')` tries the pattern from every
 * `/` of a run that does not end the string: quadratic in the run, e.g. in a path a client sends).
 */
export function trimTrailingSlashes(s: string): string {
  let end = s.length;
  while (end > 0 && s.charCodeAt(end - 1) === 47 /* / */) end--;
  return end === s.length ? s : s.slice(0, end);
}

/**
 * A RegExp character-class body (`new RegExp(`[${DISPLAY_CONTROLS}]`)`) of what text from data must
 * not show as is, in a terminal or a log line: C0 (ESC included), DEL, C1, the bidirectional marks,
 * overrides and isolates (U+061C, U+200E/F, U+202A–U+202E, U+2066–U+2069: they reorder what is
 * displayed) and the line/paragraph separators (U+2028/9: a line break to many log readers).
 */
export const DISPLAY_CONTROLS = '\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028-\\u202e\\u2066-\\u2069';

/**
 * A decimal number as ingest reads one (no hex, no `Infinity`). One way to match each string:
 * `\d+\.?\d*` split a run of digits between `\d+` and `\d*` in every way before failing, so
 * `000…0T` took quadratic time (300 000 digits in a `time` field held the worker for minutes).
 */
export const DECIMAL_NUMBER = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;

/** An email address as ingest tells one (a `user` that is one is stored lower-cased). */
export const EMAIL_ADDRESS = /^[^@\s]+@[^@\s]+$/;
