/** Parameter schema parts shared by detectors (each detector file owns its own `params`). */
import { z } from 'zod';
import { RISK_LEVELS, SEVERITIES } from '../types.js';
import { isValidCidr } from './allow-list.js';
import { normalizeSeverity } from './severity.js';

/** "must be one of …", or "required (one of …)" when the key is missing. */
const oneOf =
  (values: readonly string[]) =>
  (issue: { input?: unknown }): string =>
    issue.input === undefined ? `required (one of ${values.join(', ')})` : `must be one of ${values.join(', ')}`;

/** A risk level: `low`, `medium` or `high`. */
export const level = z.enum(RISK_LEVELS, { error: oneOf(RISK_LEVELS) });

/** A severity: `info` … `critical`, or what events may say instead (`severe`, `Moderate`, `very high`, a 0-10 score: src/detect/severity.ts). */
export const severity = z.preprocess(
  (v) => (typeof v === 'string' || typeof v === 'number' ? (normalizeSeverity(v) ?? v) : v),
  z.enum(SEVERITIES, { error: oneOf(SEVERITIES) }),
);

/** An IPv4 or IPv6 CIDR. */
export const cidr = z.string().refine(isValidCidr, { message: 'must be a CIDR like 10.0.0.0/8 or 2001:db8::/32' });

/**
 * The behavior's `expires_after` (ms; null = never) that the config passes with a detector's
 * parameters (not part of their schema), or null when absent.
 */
export function expiresAfterOf(params: object): number | null {
  const v = (params as { expires_after?: unknown }).expires_after;
  return typeof v === 'number' ? v : null;
}
