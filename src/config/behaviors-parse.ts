/** Validating `behaviors.yaml`: each entry against its kind's schema (behaviors-schema.ts), problems located. */
import { DETECTOR_KINDS, PREDEFINED_KINDS } from '../detect/registry.js';
import { schemaFor, type BehaviorConfig, type BehaviorKind } from './behaviors-schema.js';
import { RESPONSES_KEY } from './responses.js';
import { withoutEmptyValues } from './empty-values.js';
import { locate, pushZodIssues, type ConfigIssue, type Parsed } from './yaml-source.js';

/** The level a behavior turned off without one is given: it raises nothing while off. */
const OFF_LEVEL = 'low';

/**
 * An entry that turns a behavior off (`enabled: false`) and names no `risk_level`: valid, since
 * turning something off must not ask what it would raise. Turned on again, it needs one.
 */
function offWithoutLevel(raw: unknown): raw is Record<string, unknown> {
  return typeof raw === 'object' && raw !== null && !Array.isArray(raw) && (raw as Record<string, unknown>).enabled === false && !('risk_level' in raw);
}

/** Validates a behaviors document. Unknown ids, unknown keys, bad durations and levels are issues. */
export function parseBehaviors(p: Parsed | undefined, issues: ConfigIssue[]): BehaviorConfig[] {
  if (!p) return [];
  const data: unknown = p.js;
  if (data === null || data === undefined) {
    // An empty file (one cut short while being saved, say) would switch every behavior off unseen.
    issues.push({
      file: p.file,
      line: 1,
      col: 1,
      message: 'behaviors file is empty: no behavior would run (to turn one off, set enabled: false; for none at all, write {})',
    });
    return [];
  }
  if (typeof data !== 'object' || Array.isArray(data)) {
    issues.push({ file: p.file, line: 1, col: 1, message: 'behaviors file must be a mapping of behavior id → settings' });
    return [];
  }
  const out: BehaviorConfig[] = [];
  for (const [id, raw] of Object.entries(data as Record<string, unknown>)) {
    if (id === RESPONSES_KEY) continue; // not a behavior: parseResponses reads it
    if (id in Object.prototype || id.startsWith('#') || id.trim() === '') {
      // `__proto__`, `constructor` … name what every object has: such a behavior's hits could not be kept apart.
      issues.push({ file: p.file, ...locate(p, [id], true), message: `behavior id "${id}" is reserved (choose another name)` });
      continue;
    }
    const schema = schemaFor(id, raw);
    const kind = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).kind : undefined;
    if (!schema && kind !== undefined) {
      // A kind mistyped (`thresold`): said at the kind, not as an unknown behavior id at the entry.
      const message = `${id}.kind: unknown kind ${JSON.stringify(kind)} (one of ${DETECTOR_KINDS.join(', ')})`;
      issues.push({ file: p.file, ...locate(p, [id, 'kind']), message });
      continue;
    }
    if (!schema) {
      issues.push({
        file: p.file,
        ...locate(p, [id], true),
        message: `unknown behavior "${id}" (predefined: ${PREDEFINED_KINDS.join(', ')}; or set kind: threshold)`,
      });
      continue;
    }
    // An empty list (`allow_networks:` with its entries commented out) is its default.
    const entry = withoutEmptyValues(schema, raw ?? {});
    const r = schema.safeParse(offWithoutLevel(entry) ? { ...entry, risk_level: OFF_LEVEL } : entry);
    if (!r.success) {
      pushZodIssues(p, [id], r.error, issues);
      continue;
    }
    const v = r.data as Record<string, unknown> & { enabled: boolean; risk_level: BehaviorConfig['risk_level']; expires_after: number | null; kind?: string };
    out.push({
      id,
      kind: (v.kind ?? id) as BehaviorKind,
      enabled: v.enabled,
      risk_level: v.risk_level,
      expires_after: v.expires_after,
      params: v,
    });
  }
  return out;
}
