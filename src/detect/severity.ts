import { severityRank, type Severity } from '../types.js';
import { lower, ownValue, toNumber } from './fields.js';

const ALIASES: Record<string, Severity> = {
  info: 'info',
  informational: 'info',
  information: 'info',
  none: 'info',
  notice: 'info',
  low: 'low',
  minor: 'low',
  medium: 'medium',
  moderate: 'medium',
  med: 'medium',
  high: 'high',
  severe: 'high',
  major: 'high',
  critical: 'critical',
  crit: 'critical',
  very_high: 'critical',
  emergency: 'critical',
};

/**
 * Numeric severity on a 0-10 scale (CVSS v3 bands): 0 info, <4 low, <7 medium, <9 high, else
 * critical. Out-of-range numbers are unrecognised.
 */
export function severityFromScore(n: number): Severity | undefined {
  if (!Number.isFinite(n) || n < 0 || n > 10) return undefined;
  if (n === 0) return 'info';
  if (n < 4) return 'low';
  if (n < 7) return 'medium';
  if (n < 9) return 'high';
  return 'critical';
}

/**
 * Normalises a severity from any source: case-insensitive names and aliases
 * (`Informational`→info, `moderate`→medium, `severe`→high, `very high`→critical) or a 0-10
 * number (also as a string). Returns undefined when unrecognised.
 */
export function normalizeSeverity(v: unknown): Severity | undefined {
  const s = lower(v);
  if (s === undefined || s === '') return undefined;
  // Own names only: `constructor` or `__proto__` would find Object's members, not a severity.
  const alias = ownValue(ALIASES, s.replace(/[\s-]+/g, '_'));
  if (alias) return alias;
  const n = toNumber(v);
  return n === undefined ? undefined : severityFromScore(n);
}

/** True when `s` ranks at or above `min`. */
export function severityAtLeast(s: Severity, min: Severity): boolean {
  return severityRank(s) >= severityRank(min);
}
