import { riskstreamSchema, type RiskstreamFileConfig } from './schema.js';

/**
 * Sections checked against another one after the schema: [section, the section it needs], in
 * order (a section dropped for a failed one drops those that need it in turn). Bridged lists are
 * checked against the input streams' names, which the key prefix defaults. (Mapped streams are too,
 * but their profiles are checked on their own: see {@link inputNamesParse}.)
 */
const SECTION_NEEDS: ReadonlyArray<[string, string]> = [
  ['receivers', 'signing'],
  ['streams', 'redis'],
  ['bridge', 'streams'],
  ['bridge', 'redis'],
];

/** Whether the sections the input streams' names come from (`streams`, `redis`: the key prefix) parse, or are left out. */
export function inputNamesParse(js: unknown): boolean {
  return sectionParses(js, 'streams') && sectionParses(js, 'redis');
}

/** Whether the file's top-level `section` parses on its own, or is left out. */
export function sectionParses(js: unknown, section: string): boolean {
  if (typeof js !== 'object' || js === null || !Object.hasOwn(js, section)) return true;
  const shape = riskstreamSchema.shape as Record<string, { safeParse(v: unknown): { success: boolean } }>;
  return shape[section]?.safeParse((js as Record<string, unknown>)[section]).success ?? true;
}

/**
 * The file's config with only its top-level sections that parse on their own (the others at their
 * defaults), so the checks after the schema — receivers, stream names, the cluster's slots — still
 * report their errors in the same run as the sections' own (undefined: not even that parses).
 */
export function sectionsThatParse(js: unknown): RiskstreamFileConfig | undefined {
  if (typeof js !== 'object' || js === null || Array.isArray(js)) return undefined;
  const kept: Record<string, unknown> = Object.fromEntries(
    Object.entries(js).filter(([k]) => Object.hasOwn(riskstreamSchema.shape, k) && sectionParses(js, k)),
  );
  // A check reading a section that failed would report what follows from its defaults, not the
  // file: receivers are checked against the signing keys, stream names against the key prefix.
  for (const [section, needs] of SECTION_NEEDS) if (Object.hasOwn(js, needs) && !Object.hasOwn(kept, needs)) delete kept[section];
  const r = riskstreamSchema.safeParse(kept);
  return r.success ? r.data : undefined;
}
