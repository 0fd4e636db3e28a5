/**
 * What each behavior's window was counted with: a digest of the parameters that decide which events
 * it counts (a detector's `countedBy`: threshold's `match` and `group_by`, the DLP behaviors'
 * `min_severity`, mfa_fatigue's `factors`), kept per behavior among a state's windows. Applied with a
 * configuration that changes one (a reload, a restart), the behavior's window is dropped first, as
 * for a behavior turned off and on again: events counted under the old rule never complete a count
 * under the new one (nor show in its evidence). A window stored without a digest (before digests
 * were kept) is kept, and stamped. Pure; never modifies a state's windows in place.
 */
import { createHash } from 'node:crypto';
import type { BehaviorConfig } from '../config/behaviors-schema.js';
import type { UserState } from './state.js';

/** The key among a state's windows (never a behavior id: config refuses ids starting with `#`). */
export const COUNTED_WITH = '#with';

type Digests = Record<string, string>;

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

/** The digest of `b`'s `countedBy` parameters (12 hex digits); undefined for a detector that names none. */
export function countedDigest(b: Pick<BehaviorConfig, 'params'>, countedBy: readonly string[] | undefined): string | undefined {
  if (!countedBy?.length) return undefined;
  const json = sortedJson(countedBy.map((k) => [k, b.params[k] ?? null]));
  return createHash('sha256').update(json).digest('hex').slice(0, 12);
}

function digestsOf(state: UserState): Digests | undefined {
  const v = state.windows[COUNTED_WITH];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as Digests) : undefined;
}

/** Drops the windows of `enabled` behaviors counted with other parameters than their `digests` (same order) now give. */
export function dropRecounted(next: UserState, enabled: readonly BehaviorConfig[], digests: ReadonlyArray<string | undefined>): void {
  const was = digestsOf(next);
  if (!was) return;
  for (let i = 0; i < enabled.length; i++) {
    const id = enabled[i]!.id;
    const d = digests[i];
    if (d !== undefined && was[id] !== undefined && was[id] !== d) delete next.windows[id];
  }
}

/** Records the digest of each `enabled` behavior that keeps a window; the key goes when none does. */
export function stampCounted(next: UserState, enabled: readonly BehaviorConfig[], digests: ReadonlyArray<string | undefined>): void {
  const was = digestsOf(next);
  // Most events change nothing here: checked first, without building a new record.
  let kept = 0;
  let same = true;
  for (let i = 0; i < enabled.length && same; i++) {
    const d = digests[i];
    if (d === undefined || next.windows[enabled[i]!.id] === undefined) continue;
    kept++;
    same = was?.[enabled[i]!.id] === d;
  }
  if (same && kept === (was ? Object.keys(was).length : 0)) return;
  const now: Digests = {};
  for (let i = 0; i < enabled.length; i++) {
    const d = digests[i];
    if (d !== undefined && next.windows[enabled[i]!.id] !== undefined) now[enabled[i]!.id] = d;
  }
  if (Object.keys(now).length) next.windows[COUNTED_WITH] = now;
  else delete next.windows[COUNTED_WITH];
}
