/**
 * What a counting behavior counts with: a digest of the parameters that decide which events its
 * window counts (a detector's `countedBy`: threshold's `match` and `group_by`, the DLP behaviors'
 * `min_severity`, mfa_fatigue's `factors`). Workers record it with the behaviors' on-epochs
 * (src/engine/behavior-epochs.ts); a configuration that changes it turns the behavior on again,
 * as off and on: every user's window of it is dropped at their next event (src/risk/behavior-epochs.ts),
 * so events counted under the old rule never complete a count under the new one (nor show in its
 * evidence). Nothing is kept per user. Pure.
 */
import { createHash } from 'node:crypto';
import type { BehaviorConfig } from '../config/behaviors-schema.js';
import { detectorFor, isDetectorKind } from '../detect/registry.js';

/** JSON with object keys sorted: the same parameters in another order are the same rule. */
function sortedJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(sortedJson).join(',')}]`;
  if (v && typeof v === 'object') {
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${sortedJson(o[k])}`)
      .join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * The digest of `b`'s counting parameters (its kind and its detector's `countedBy` parameters; 12 hex
 * digits); `''` for a behavior whose detector names none (any parameter change keeps its window).
 */
export function countedDigest(b: Pick<BehaviorConfig, 'kind' | 'params'>): string {
  const countedBy = isDetectorKind(b.kind) ? detectorFor(b.kind).countedBy : undefined;
  if (!countedBy?.length) return '';
  const json = sortedJson([b.kind, countedBy.map((k) => [k, b.params[k] ?? null])]);
  return createHash('sha256').update(json).digest('hex').slice(0, 12);
}
