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
