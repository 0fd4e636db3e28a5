import { RiskstreamError } from '../../errors.js';
import { getPath, isPlainObject, setPath, type Profile } from './path.js';

type Source = { constant: string } | { paths: string[] };

/**
 * `path` in `obj` when the record gives it under dotted keys (ECS-style documents: `"client.email"`,
 * or `"client": {"geo.lat": …}`), as flat stream fields are nested before a profile sees them; the
 * shorter key first, so a value given both ways is the nested one. Each object of the (tree-shaped)
 * record is visited at most once: time linear in the record.
 */
function dottedPath(obj: unknown, segs: string[], from: number): unknown {
  if (from === segs.length) return obj;
  if (!isPlainObject(obj)) return undefined;
  let key = '';
  for (let j = from; j < segs.length; j++) {
    key = j === from ? segs[j]! : `${key}.${segs[j]!}`;
    if (!Object.hasOwn(obj, key)) continue;
    const v = dottedPath(obj[key], segs, j + 1);
    if (v !== undefined) return v;
  }
  return undefined;
}

/** A source path's value: nested (`a.b.c`), else under dotted keys ({@link dottedPath}). */
function sourceValue(obj: Record<string, unknown>, path: string): unknown {
  const v = getPath(obj, path);
  return v !== undefined || path.indexOf('.') < 0 ? v : dottedPath(obj, path.split('.'), 0);
}

function parseSource(src: string): Source {
  if (src.startsWith('=')) return { constant: src.slice(1) };
  return {
    paths: src
      .split('|')
      .map((p) => p.trim())
      .filter(Boolean),
  };
}

/**
 * A generic profile from `mapping.generic.<name>`: `{ canonical field: source }`.
 * Canonical fields may be dotted (`geo.lat`). A source is a dotted path (`actor.email`, found nested
 * or under dotted keys), alternatives tried in order (`actor.email|actor.id`), or a constant (`=login`).
 * The source object's own fields are kept as attributes; mapped fields override them.
 * Throws CONFIG_INVALID for an unusable field name.
 */
export function genericProfile(name: string, spec: Record<string, string>): Profile {
  const entries = Object.entries(spec).map(([field, src]) => {
    if (!setPath({}, field, 1)) throw new RiskstreamError('CONFIG_INVALID', `mapping.generic.${name}: invalid field name "${field}"`);
    const source = parseSource(src);
    if ('paths' in source && source.paths.length === 0) {
      throw new RiskstreamError('CONFIG_INVALID', `mapping.generic.${name}.${field}: empty source path`);
    }
    return { field, source };
  });
  return (obj) => {
    const out: Record<string, unknown> = { ...obj };
    for (const { field, source } of entries) {
      let v: unknown;
      if ('constant' in source) v = source.constant;
      else {
        for (const p of source.paths) {
          v = sourceValue(obj, p);
          if (v !== undefined && v !== null && v !== '') break;
        }
      }
      if (v !== undefined && v !== null) setPath(out, field, v, true);
    }
    return out;
  };
}
