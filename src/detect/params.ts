/** Parameter schema parts shared by detectors (each detector file owns its own `params`). */
import { z } from 'zod';
import { RISK_LEVELS, SEVERITIES } from '../types.js';
import { isValidCidr } from './allow-list.js';

/** A risk level: `low`, `medium` or `high`. */
export const level = z.enum(RISK_LEVELS, { message: `must be one of ${RISK_LEVELS.join(', ')}` });

/** A severity: `info` … `critical`. */
export const severity = z.enum(SEVERITIES, { message: `must be one of ${SEVERITIES.join(', ')}` });

/** An IPv4 or IPv6 CIDR. */
export const cidr = z.string().refine(isValidCidr, { message: 'must be a CIDR like 10.0.0.0/8 or 2001:db8::/32' });
