/**
 * device_posture_score: a device posture / zero-trust score (e.g. CrowdStrike ZTA, 0-100) in a
 * configured band. Reads `type: posture` or `type: endpoint` events with a number (or numeric
 * string) at `score_field` (dotted path); with a `score_field` in the device (`device.posture.…`),
 * also the posture a successful login or session refresh carries (a failed attempt's device is
 * the attacker's, never the user's). The first band with `min ≤ score ≤ max` sets the hit's
 * level (its own, else the behavior's `risk_level`); a score in no band is fine. Stateless: every low score reported is a fresh observation.
 */
import { z } from 'zod';
import type { CanonicalEvent } from '../types.js';
import { firstString, getPath, toNumber, typeIn } from './fields.js';
import { level } from './params.js';
import { isSuccessfulLogin } from '../login.js';
import type { Detector } from './types.js';

/** A score band; without its own `level` a hit in it is at the behavior's `risk_level`. */
const band = z
  .strictObject({ min: z.number(), max: z.number(), level: level.optional() })
  .refine((b) => b.min <= b.max, { message: 'min must not be above max', path: ['max'] });

/** device_posture_score's parameters. */
export const devicePostureScoreParams = z.strictObject({
  /** Score bands; the level of the first band containing the score (the behavior's `risk_level` for a band without one). */
  bands: z
    .array(band)
    .min(1, { message: 'must have at least one band (to turn the behavior off: enabled: false)' })
    .default([
      { min: 0, max: 50, level: 'high' },
      // Bands may share an edge: the first wins (50 is high), and no score between them falls through.
      { min: 50, max: 79, level: 'medium' },
    ]),
  /** Event field holding the score (dotted path). */
  score_field: z.string().default('score'),
});
export type DevicePostureScoreParams = z.output<typeof devicePostureScoreParams>;

/** Event types that may carry a posture score. */
export const POSTURE_TYPES = ['posture', 'endpoint'] as const;
/** And those whose device (`device.…`) may: a login's (or refresh's) posture as the IdP saw it. */
const DEVICE_TYPES = ['posture', 'endpoint', 'login', 'session_refresh'] as const;

type Band = DevicePostureScoreParams['bands'][number];

/** The score at `params.score_field`, when the event is a posture-carrying type. */
export function postureScore(event: CanonicalEvent, params: DevicePostureScoreParams): number | undefined {
  const device = params.score_field.startsWith('device.');
  if (!typeIn(event, device ? DEVICE_TYPES : POSTURE_TYPES) || !Number.isFinite(event.time)) return undefined;
  // A login's posture counts when the login succeeded: a failed attempt's device is the attacker's.
  if (device && !typeIn(event, POSTURE_TYPES) && !isSuccessfulLogin(event)) return undefined;
  return toNumber(getPath(event, params.score_field));
}

/** The first band containing `score`, if any. */
export function bandFor(score: number, bands: readonly Band[]): Band | undefined {
  return bands.find((b) => score >= b.min && score <= b.max);
}

/** The device_posture_score detector (stateless). */
export const devicePostureScore: Detector<DevicePostureScoreParams, undefined> = {
  kind: 'device_posture_score',
  params: devicePostureScoreParams,
  accepts: (event, params) => {
    const score = postureScore(event, params);
    return score !== undefined && bandFor(score, params.bands) !== undefined;
  },
  detect(_window, { event, eventId }, params) {
    const score = postureScore(event, params);
    const band = score === undefined ? undefined : bandFor(score, params.bands);
    if (score === undefined || !band) return { window: undefined, hits: [] };
    const device = firstString(event, ['device.name', 'device.hostname', 'device.id']);
    const vendor = firstString(event, ['vendor', 'source']);
    return {
      window: undefined,
      hits: [
        {
          time: event.time,
          ...(band.level ? { level: band.level } : {}),
          summary: `Device posture score ${score} (band ${band.min}-${band.max})${device ? ` on ${device}` : ''}${vendor ? ` from ${vendor}` : ''}`,
          evidence: {
            score,
            band: { min: band.min, max: band.max, ...(band.level ? { level: band.level } : {}) },
            field: params.score_field,
            device_id: firstString(event, ['device.id']) ?? null,
            vendor: vendor ?? null,
          },
          eventIds: [eventId],
        },
      ],
    };
  },
};
