/**
 * Structural scanning of JSON text (pure, no parsing): where white space, a string or a whole
 * value ends, by brackets and quotes alone. What `POST /v1/events` splits a body into records with
 * (src/ingest/body-records.ts) before any record is parsed.
 */

/** JSON white space. */
export const isWs = (c: number): boolean => c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;

/** Index of the first non-white-space character at or after `i`. */
export function skipWs(t: string, i: number): number {
  while (i < t.length && isWs(t.charCodeAt(i))) i++;
  return i;
}

/** Index just past the JSON string starting at `i` (a `"`), or -1 if it does not end before `end`. */
export function skipString(t: string, i: number, end = t.length): number {
  for (let j = i + 1; j < end; j++) {
    const c = t.charCodeAt(j);
    if (c === 0x5c) j++;
    else if (c === 0x22) return j + 1;
  }
  return -1;
}

/** Index just past the JSON value starting at `i` (structure only: brackets and strings), or -1 if it does not end before `end`. */
export function skipValue(t: string, i: number, end = t.length): number {
  const c = t.charCodeAt(i);
  if (c === 0x22) return skipString(t, i, end);
  if (c === 0x7b || c === 0x5b) {
    let depth = 0;
    for (let j = i; j < end; j++) {
      const d = t.charCodeAt(j);
      if (d === 0x22) {
        j = skipString(t, j, end) - 1;
        if (j < 0) return -1;
      } else if (d === 0x7b || d === 0x5b) depth++;
      else if (d === 0x7d || d === 0x5d) {
        if (--depth === 0) return j + 1;
      }
    }
    return -1;
  }
  let j = i;
  while (j < end) {
    const d = t.charCodeAt(j);
    if (d === 0x2c || d === 0x5d || d === 0x7d || isWs(d)) break;
    j++;
  }
  return j > i ? j : -1;
}
