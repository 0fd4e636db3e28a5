/**
 * Dotted keys (`geo.lat`) as nested objects (docs/interfaces.md §2): flat stream fields name
 * nested fields so, and so do JSON events shipped from ECS-style documents
 * (`{"geo.lat":51.5,"session.id":"s-1"}`). One placement rule for both: a value the event already
 * holds in nested form (or a plain value on the key's path) wins, and the dotted key is then kept
 * under its dotted name as an attribute — whatever the keys' order, no field is lost.
 */
import { isPlainObject, setPath } from './profiles/path.js';

/** Dots in a key: how deep it nests. */
function depthOf(key: string): number {
  let n = 0;
  for (let i = key.indexOf('.'); i !== -1; i = key.indexOf('.', i + 1)) n++;
  return n;
}

/** True when a value already holds the place of dotted `key` in `out` (a plain value on its path, or the key itself). */
function taken(out: Record<string, unknown>, key: string): boolean {
  const segs = key.split('.');
  let cur = out;
  for (let i = 0; i < segs.length - 1; i++) {
    if (!Object.hasOwn(cur, segs[i]!)) return false;
    const next = cur[segs[i]!];
    if (!isPlainObject(next)) return true;
    cur = next;
  }
  return Object.hasOwn(cur, segs[segs.length - 1]!);
}

/**
 * Places each of `dotted` (keys with a dot; sorted here, shallower first) in `out` as a nested
 * value, `value(key)` its value; a key whose place is taken, or that cannot nest (an empty segment,
 * `__proto__`), is set under its dotted name. With `copy`, objects of `out` on a key's path are
 * copied before being written (they may be shared). Returns how many keys were nested.
 */
export function placeDotted(out: Record<string, unknown>, dotted: string[], value: (key: string) => unknown, copy = false): number {
  if (dotted.length > 1) dotted.sort((a, b) => depthOf(a) - depthOf(b));
  let nested = 0;
  for (const key of dotted) {
    const v = value(key);
    if (!taken(out, key) && setPath(out, key, v, copy)) {
      if (Object.hasOwn(out, key)) delete out[key];
      nested++;
    } else out[key] = v;
  }
  return nested;
}

/**
 * `obj` with its top-level dotted keys nested ({@link placeDotted}: a nested value the event
 * gives wins over a dotted key for the same place): a copy (`obj` and its objects untouched), or
 * `obj` changed in place when `owned`; undefined when no key nested (`obj` is then as it was). For
 * an event without dotted keys: one `indexOf` per key, nothing allocated.
 */
export function expandDottedKeys(obj: Record<string, unknown>, owned: boolean): Record<string, unknown> | undefined {
  let dotted: string[] | undefined;
  for (const key in obj) if (key.indexOf('.') >= 0) (dotted ??= []).push(key);
  if (!dotted) return undefined;
  const out = owned ? obj : { ...obj };
  // Each dotted key is still in `out` when its turn comes: placing another never removes it.
  return placeDotted(out, dotted, (key) => out[key], !owned) > 0 ? out : undefined;
}
