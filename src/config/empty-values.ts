/**
 * Empty YAML values: a section whose keys are all commented out (`geoip:` over `# mmdb: …`), a
 * list with no entry (`allowed_endpoints:`) is null in YAML. Where the schema takes a section, a
 * list or a map with a default, such a null is left out, so it gets that default — as an empty
 * behavior entry (`brute_force:`) and an empty `responses:` already do. A null elsewhere (a
 * scalar, a required list) stays, and the schema says what is wrong with it.
 */
import type { z } from 'zod';

/** The part of a zod 4 schema's definition this walk reads. */
interface Def {
  type: string;
  innerType?: z.ZodType;
  in?: z.ZodType;
  shape?: Record<string, z.ZodType>;
  element?: z.ZodType;
  valueType?: z.ZodType;
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch']);
const COLLECTIONS = new Set(['object', 'array', 'record']);

const defOf = (schema: z.ZodType): Def => (schema as unknown as { _zod: { def: Def } })._zod.def;

/** The schema under its wrappers (optional, default, a pipe's input), and whether one of them gives a default or allows none. */
function core(schema: z.ZodType): { def: Def; optional: boolean } {
  let def = defOf(schema);
  let optional = false;
  for (;;) {
    if (WRAPPERS.has(def.type) && def.innerType) {
      optional ||= def.type !== 'nullable' && def.type !== 'readonly';
      def = defOf(def.innerType);
    } else if (def.type === 'pipe' && def.in) def = defOf(def.in);
    else return { def, optional };
  }
}

const isMap = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * `value` (parsed YAML) with every key whose value is null left out where `schema` takes a section,
 * a list or a map that may be absent; the rest as it was (a new object where something changed below).
 */
export function withoutEmptyValues(schema: z.ZodType, value: unknown): unknown {
  const { def } = core(schema);
  if (def.type === 'object' && def.shape && isMap(value)) {
    const shape = def.shape;
    return Object.fromEntries(
      Object.entries(value).flatMap(([k, v]): Array<[string, unknown]> => {
        const field = Object.hasOwn(shape, k) ? shape[k] : undefined;
        if (!field) return [[k, v]];
        const c = core(field);
        if (v === null && c.optional && COLLECTIONS.has(c.def.type)) return [];
        return [[k, withoutEmptyValues(field, v)]];
      }),
    );
  }
  if (def.type === 'array' && def.element && Array.isArray(value)) return value.map((v) => withoutEmptyValues(def.element!, v));
  if (def.type === 'record' && def.valueType && isMap(value))
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, withoutEmptyValues(def.valueType!, v)]));
  return value;
}
