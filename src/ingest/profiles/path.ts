/** Dotted-path helpers shared by field-mapping profiles and the flat-entry decoder. */

/** A mapping profile: vendor object → partial canonical event, or null when the shape is not its own. */
export type Profile = (obj: Record<string, unknown>) => Record<string, unknown> | null;

const FORBIDDEN = new Set(['__proto__', 'prototype', 'constructor']);

/** True for a non-null, non-array object. */
export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

const splitCache = new Map<string, string[]>();
/** Paths are few and fixed (profiles, config): split each once. */
function segments(path: string): string[] {
  let segs = splitCache.get(path);
  if (!segs) {
    segs = path.split('.');
    if (splitCache.size < 10_000) splitCache.set(path, segs);
  }
  return segs;
}

/** Reads `a.b.c` from `obj` (own keys only); undefined when any step is missing. */
export function getPath(obj: unknown, path: string): unknown {
  const segs = segments(path);
  let cur: unknown = obj;
  for (let i = 0; i < segs.length; i++) {
    if (!isPlainObject(cur) || !Object.hasOwn(cur, segs[i]!)) return undefined;
    cur = cur[segs[i]!];
  }
  return cur;
}

/**
 * Sets `a.b.c` in `obj`, creating intermediate objects (a non-object in the way is replaced).
 * Returns false, changing nothing, for a path touching `__proto__`, `prototype` or `constructor`.
 * With `copy`, intermediate objects are copied before being written (the source stays untouched).
 */
export function setPath(obj: Record<string, unknown>, path: string, value: unknown, copy = false): boolean {
  const segs = path.split('.');
  if (segs.some((s) => FORBIDDEN.has(s) || s === '')) return false;
  let cur = obj;
  for (let i = 0; i < segs.length - 1; i++) {
    const seg = segs[i]!;
    const next = cur[seg];
    if (isPlainObject(next)) {
      if (copy) cur[seg] = { ...next };
      cur = cur[seg] as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      cur[seg] = created;
      cur = created;
    }
  }
  cur[segs[segs.length - 1]!] = value;
  return true;
}

/** Copies only the defined (non-null, non-empty-string) values: keeps profile output tidy. */
export function defined(o: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k in o) {
    const v = o[k];
    if (v === undefined || v === null || v === '') continue;
    if (isPlainObject(v)) {
      const inner = defined(v);
      if (Object.keys(inner).length) out[k] = inner;
    } else out[k] = v;
  }
  return out;
}
