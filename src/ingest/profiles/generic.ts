import { RiskstreamError } from '../../errors.js';
import { getPath, setPath, type Profile } from './path.js';

type Source = { constant: string } | { paths: string[] };

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
 * Canonical fields may be dotted (`geo.lat`). A source is a dotted path (`actor.email`),
 * alternatives tried in order (`actor.email|actor.id`), or a constant (`=login`).
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
          v = getPath(obj, p);
          if (v !== undefined && v !== null && v !== '') break;
        }
      }
      if (v !== undefined && v !== null) setPath(out, field, v, true);
    }
    return out;
  };
}
