/**
 * The schema of `behaviors.yaml`, built from the detector registry: every entry has the common
 * fields below plus its detector's own `params` (src/detect/<kind>.ts).
 */
import { z } from 'zod';
import { durationMs } from '../duration.js';
import { RISK_LEVELS } from '../types.js';
import { level } from '../detect/params.js';
import { DETECTOR_KINDS, detectorFor, isDetectorKind, isPredefinedKind, type BehaviorKind, type DetectorParams } from '../detect/registry.js';

/** `expires_after`: a duration, or `never` (null). */
const expiresAfter = z
  .union([z.literal('never').transform(() => null), durationMs], { error: 'must be a duration like 30m, 24h or 7d, or never' })
  // 0s: every hit would expire on arrival — the behavior could never raise a level. Off is `enabled: false`.
  .refine((ms) => ms === null || ms > 0, { message: 'must be longer than 0s (to turn a behavior off: enabled: false)' });

/** Fields every behavior has. */
const base = {
  /** A behavior listed in the file is on unless `enabled: false`. */
  enabled: z.boolean().default(true),
  risk_level: level,
  expires_after: expiresAfter.prefault('24h'),
  description: z.string().optional(),
};

/** The `kind` field: optional for a predefined kind (any kind sharing its params may be named), required otherwise. */
function kindField(kind: BehaviorKind): z.ZodType {
  if (!isPredefinedKind(kind)) return z.literal(kind);
  const params = detectorFor(kind).params;
  const same = DETECTOR_KINDS.filter((k) => isPredefinedKind(k) && detectorFor(k).params === params);
  return (same.length > 1 ? z.enum(same as [string, ...string[]]) : z.literal(kind)).optional();
}

const SCHEMAS = {} as Record<BehaviorKind, z.ZodType>;
for (const kind of DETECTOR_KINDS) SCHEMAS[kind] = z.strictObject({ ...base, kind: kindField(kind), ...detectorFor(kind).params.shape });

/** The common fields of a validated behavior entry. */
export interface BehaviorFields {
  enabled: boolean;
  risk_level: (typeof RISK_LEVELS)[number];
  expires_after: number | null;
  description?: string;
  kind?: string;
}

/** The schema of one behaviors.yaml entry of `kind`: the common fields plus the detector's params. */
export function behaviorSchema<K extends BehaviorKind>(kind: K): z.ZodType<BehaviorFields & DetectorParams<K>> {
  return SCHEMAS[kind] as z.ZodType<BehaviorFields & DetectorParams<K>>;
}

export type { BehaviorKind };

/** One configured behavior, validated: its id, kind and parameters. */
export interface BehaviorConfig {
  id: string;
  kind: BehaviorKind;
  enabled: boolean;
  risk_level: (typeof RISK_LEVELS)[number];
  /** Milliseconds, or null for never. */
  expires_after: number | null;
  params: Record<string, unknown> & { enabled: boolean };
}

/** Returns the schema for a behavior entry given its id and raw value. */
export function schemaFor(id: string, raw: unknown): z.ZodType | undefined {
  if (isPredefinedKind(id)) return SCHEMAS[id];
  const kind = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).kind : undefined;
  // A threshold, or a second instance of a predefined kind under another id (e.g. two domain lists).
  if (typeof kind === 'string' && isDetectorKind(kind)) return SCHEMAS[kind];
  return undefined;
}
