/**
 * Redis Cluster hash tags in key names: escaping an id so it cannot break the tag it is put in
 * (and reversing that), and Redis's rule for whether a key has a tag at all.
 */

/** Escapes characters that would break a hash tag. */
export function tag(id: string): string {
  return id.replace(/[{}%]/g, (c) => `%${c.charCodeAt(0).toString(16)}`);
}

/** Reverses {@link tag}. */
export function untag(s: string): string {
  return s.replace(/%([0-9a-f]{2})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)));
}

/** Whether a key has a hash tag by Redis's rule (the first `{`, then a `}` after at least one character). */
export function hasHashTag(key: string): boolean {
  const open = key.indexOf('{');
  return open >= 0 && key.indexOf('}', open + 1) > open + 1;
}
