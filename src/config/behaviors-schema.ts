import { z } from 'zod';
import { isDuration, parseDuration } from '../duration.js';
import { RISK_LEVELS, SEVERITIES } from '../types.js';
import { isValidCidr } from '../detect/allow-list.js';

/** A duration string (`5m`) parsed to milliseconds. */
export const durationMs = z
  .string()
  .refine(isDuration, { message: 'must be a duration like 30s, 5m, 24h or 7d' })
  .transform((s) => parseDuration(s));

const level = z.enum(RISK_LEVELS, { message: `must be one of ${RISK_LEVELS.join(', ')}` });
const severity = z.enum(SEVERITIES, { message: `must be one of ${SEVERITIES.join(', ')}` });

/** `expires_after`: a duration, or `never` (null). */
const expiresAfter = z.union([z.literal('never').transform(() => null), durationMs], { error: 'must be a duration like 30m, 24h or 7d, or never' });

/** Fields every behavior has. */
const base = {
  /** A behavior listed in the file is on unless `enabled: false`. */
  enabled: z.boolean().default(true),
  risk_level: level,
  expires_after: expiresAfter.prefault('24h'),
  description: z.string().optional(),
};

const cidr = z.string().refine(isValidCidr, { message: 'must be a CIDR like 10.0.0.0/8 or 2001:db8::/32' });

export const impossibleTravelParams = z.strictObject({
  ...base,
  kind: z.literal('impossible_travel').optional(),
  max_speed_kmh: z.number().positive().default(1000),
  min_distance_km: z.number().nonnegative().default(500),
  allow_networks: z.array(cidr).default([]),
  allow_asns: z.array(z.number().int().nonnegative()).default([]),
  /** Apply the accuracy radius of both logins (distance minus both radii). */
  use_accuracy_radius: z.boolean().default(true),
});

export const dlpDetectionParams = z.strictObject({
  ...base,
  kind: z.literal('dlp_detection').optional(),
  min_severity: severity.default('high'),
  count: z.number().int().positive().default(1),
  window: durationMs.prefault('1m'),
});

export const highDlpParams = z.strictObject({
  ...base,
  kind: z.literal('high_dlp').optional(),
  min_severity: severity.default('info'),
  count: z.number().int().positive().default(15),
  window: durationMs.prefault('1m'),
});

export const endpointDetectionParams = z.strictObject({
  ...base,
  kind: z.literal('endpoint_detection').optional(),
  min_severity: severity.default('high'),
  vendors: z.array(z.string()).optional(),
});

const band = z.strictObject({ min: z.number(), max: z.number(), level });

export const devicePostureScoreParams = z.strictObject({
  ...base,
  kind: z.literal('device_posture_score').optional(),
  /** Score bands; the level of the first band containing the score. The behavior's level is the band's. */
  bands: z.array(band).default([
    { min: 0, max: 50, level: 'high' },
    { min: 51, max: 79, level: 'medium' }, // ZTA scores are integers
  ]),
  /** Event field holding the score (dotted path). */
  score_field: z.string().default('score'),
});

export const maliciousFileParams = z.strictObject({
  ...base,
  kind: z.literal('malicious_file').optional(),
  verdicts: z.array(z.string()).default(['malicious']),
});

export const domainCategoryParams = z.strictObject({
  ...base,
  kind: z.enum(['security_domain', 'high_risk_domain']).optional(),
  categories: z.array(z.string()).min(1),
});

const matcher = z.union([
  z.string(),
  z.number(),
  z.boolean(),
  z.strictObject({ equals: z.union([z.string(), z.number(), z.boolean()]) }),
  z.strictObject({ in: z.array(z.union([z.string(), z.number(), z.boolean()])).min(1) }),
  z.strictObject({
    regex: z.string().refine(
      (r) => {
        try {
          new RegExp(r);
          return true;
        } catch {
          return false;
        }
      },
      { message: 'must be a valid regular expression' },
    ),
  }),
]);
/** A field matcher in a threshold's `match`: a literal (equals), `{equals}`, `{in: []}` or `{regex}`. */
export type Matcher = z.infer<typeof matcher>;

export const thresholdParams = z.strictObject({
  ...base,
  kind: z.literal('threshold'),
  /** Dotted field path (on the canonical event) → matcher. All must match. */
  match: z.record(z.string(), matcher),
  count: z.number().int().positive(),
  window: durationMs,
  /** Extra fields (dotted paths) to count separately by, beyond the user. */
  group_by: z.array(z.string()).default([]),
});

/** Schemas of the predefined behavior ids (the id is the kind). */
export const PREDEFINED = {
  impossible_travel: impossibleTravelParams,
  dlp_detection: dlpDetectionParams,
  high_dlp: highDlpParams,
  endpoint_detection: endpointDetectionParams,
  device_posture_score: devicePostureScoreParams,
  malicious_file: maliciousFileParams,
  security_domain: domainCategoryParams,
  high_risk_domain: domainCategoryParams,
} as const;

export type ImpossibleTravelParams = z.output<typeof impossibleTravelParams>;
export type DlpDetectionParams = z.output<typeof dlpDetectionParams>;
export type HighDlpParams = z.output<typeof highDlpParams>;
export type EndpointDetectionParams = z.output<typeof endpointDetectionParams>;
export type DevicePostureScoreParams = z.output<typeof devicePostureScoreParams>;
export type MaliciousFileParams = z.output<typeof maliciousFileParams>;
export type DomainCategoryParams = z.output<typeof domainCategoryParams>;
export type ThresholdParams = z.output<typeof thresholdParams>;

/** The kinds of behavior riskstream knows. */
export type BehaviorKind = keyof typeof PREDEFINED | 'threshold';

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
export function schemaFor(id: string, raw: unknown): z.ZodTypeAny | undefined {
  if (id in PREDEFINED) return PREDEFINED[id as keyof typeof PREDEFINED];
  const kind = raw && typeof raw === 'object' ? (raw as Record<string, unknown>).kind : undefined;
  if (kind === 'threshold') return thresholdParams;
  if (typeof kind === 'string' && kind in PREDEFINED) {
    // A second instance of a predefined kind under another id (e.g. two domain lists).
    return PREDEFINED[kind as keyof typeof PREDEFINED];
  }
  return undefined;
}
