/** Reading fields of loosely-typed events: dotted paths, numbers, strings. */

function own(obj: unknown, key: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined;
  return Object.hasOwn(obj, key) ? (obj as Record<string, unknown>)[key] : undefined;
}

/** `table[key]` when `key` is one of the table's own names (never Object's members: `constructor`, `__proto__`). */
export function ownValue<T>(table: Readonly<Record<string, T>>, key: string): T | undefined {
  return own(table, key) as T | undefined;
}

/**
 * The value at dotted `path` in `obj` (`getPath(e, 'device.posture.score')`), or undefined.
 * A key that itself contains dots (`{"geo.lat": 1}`, as flat stream fields may arrive) is found
 * too; array elements are addressed by index (`groups.0`). Only own properties are read.
 */
export function getPath(obj: unknown, path: string): unknown {
  if (obj === null || typeof obj !== 'object') return undefined;
  const whole = own(obj, path);
  if (whole !== undefined) return whole;
  for (let i = path.indexOf('.'); i > 0; i = path.indexOf('.', i + 1)) {
    const head = own(obj, path.slice(0, i));
    if (head !== undefined) {
      const found = getPath(head, path.slice(i + 1));
      if (found !== undefined) return found;
    }
  }
  return undefined;
}

/**
 * The values at dotted `path` in `obj` when the path runs through lists of objects: as
 * {@link getPath}, and where a step meets a list it does not index (`target.type` on `target:
 * [{type: …}, …]`), the rest of the path is read in each object of the list. Every value found,
 * in document order; none when there is none. (Okta's `target`, CloudTrail's `resources`.)
 */
export function valuesThrough(obj: unknown, path: string, out: unknown[] = []): unknown[] {
  if (obj === null || typeof obj !== 'object') return out;
  const whole = own(obj, path);
  if (whole !== undefined) {
    out.push(whole);
    return out;
  }
  const n = out.length;
  for (let i = path.indexOf('.'); i > 0; i = path.indexOf('.', i + 1)) valuesThrough(own(obj, path.slice(0, i)), path.slice(i + 1), out);
  // A list the path does not index (by a leading element number): the whole path in each of its objects.
  if (Array.isArray(obj) && out.length === n) for (const x of obj) if (x !== null && typeof x === 'object' && !Array.isArray(x)) valuesThrough(x, path, out);
  return out;
}

/** `v` as a finite number: numbers and numeric strings; anything else is undefined. */
export function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return Number.isFinite(v) ? v : undefined;
  if (typeof v === 'string' && v.trim() !== '') {
    const n = Number(v);
    return Number.isFinite(n) ? n : undefined;
  }
  return undefined;
}

/** The first non-empty string among the values at `paths` in `obj`. */
export function firstString(obj: unknown, paths: readonly string[]): string | undefined {
  for (const p of paths) {
    const v = getPath(obj, p);
    if (typeof v === 'string' && v.trim() !== '') return v;
  }
  return undefined;
}

/** Lower-cased, trimmed string form of a primitive, or undefined. */
export function lower(v: unknown): string | undefined {
  if (typeof v === 'string') return v.trim().toLowerCase();
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}

/** True when the event's `type` (case-insensitive) is one of `types`. */
export function typeIn(event: { type?: unknown }, types: readonly string[]): boolean {
  const t = lower(event.type);
  return t !== undefined && types.includes(t);
}
