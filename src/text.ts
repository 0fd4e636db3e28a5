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
