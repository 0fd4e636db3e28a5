import { riskstreamSchema, type RiskstreamFileConfig } from './schema.js';

/**
 * Sections checked against another one after the schema: [section, the section it needs], in
 * order (a section dropped for a failed one drops those that need it in turn). Bridged lists and
 * mapped streams are checked against the input streams' names, which the key prefix defaults.
 */
const SECTION_NEEDS: ReadonlyArray<[string, string]> = [
  ['receivers', 'signing'],
  ['streams', 'redis'],
  ['bridge', 'streams'],
  ['bridge', 'redis'],
  ['mapping', 'streams'],
  ['mapping', 'redis'],
];

/**
 * The file's config with only its top-level sections that parse on their own (the others at their
 * defaults), so the checks after the schema — receivers, stream names, the cluster's slots — still
 * report their errors in the same run as the sections' own (undefined: not even that parses).
 */
export function sectionsThatParse(js: unknown): RiskstreamFileConfig | undefined {
  if (typeof js !== 'object' || js === null || Array.isArray(js)) return undefined;
  const shape = riskstreamSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  const kept: Record<string, unknown> = Object.fromEntries(Object.entries(js).filter(([k, v]) => Object.hasOwn(shape, k) && shape[k]!.safeParse(v).success));
  // A check reading a section that failed would report what follows from its defaults, not the
  // file: receivers are checked against the signing keys, stream names against the key prefix.
  for (const [section, needs] of SECTION_NEEDS) if (Object.hasOwn(js, needs) && !Object.hasOwn(kept, needs)) delete kept[section];
  const r = riskstreamSchema.safeParse(kept);
  return r.success ? r.data : undefined;
}
