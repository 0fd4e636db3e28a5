import { z } from 'zod';
import { RiskstreamError } from './errors.js';

const UNITS: Record<string, number> = {
  ms: 1,
  s: 1000,
  m: 60_000,
  h: 3_600_000,
  d: 86_400_000,
  w: 604_800_000,
};

const PATTERN = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)$/;

/**
 * Parses a duration such as `500ms`, `30s`, `5m`, `24h`, `7d`, `1w` (or a bare number of
 * milliseconds) into milliseconds. Throws CONFIG_INVALID on anything else (`5 mins`, `-1h`).
 */
export function parseDuration(input: string | number): number {
  if (typeof input === 'number') {
    if (!Number.isFinite(input) || input < 0) throw new RiskstreamError('CONFIG_INVALID', `invalid duration ${input}`);
    return input;
  }
  const m = PATTERN.exec(input.trim());
  if (!m) {
    throw new RiskstreamError('CONFIG_INVALID', `invalid duration "${input}" (use e.g. 30s, 5m, 24h, 7d)`);
  }
  return Math.round(Number(m[1]) * UNITS[m[2] as string]!);
}

/** True when `input` is a valid duration string. */
export function isDuration(input: unknown): boolean {
  return typeof input === 'string' && PATTERN.test(input.trim());
}

/** Formats milliseconds compactly (`90000` → `1m30s`). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${ms}ms`;
  const parts: string[] = [];
  let rest = Math.round(ms / 1000);
  for (const [unit, size] of [
    ['d', 86400],
    ['h', 3600],
    ['m', 60],
    ['s', 1],
  ] as const) {
    if (rest >= size) {
      parts.push(`${Math.floor(rest / size)}${unit}`);
      rest %= size;
    }
  }
  return parts.join('');
}

const DURATION_LIKE = 'a duration like 30s, 5m, 24h or 7d';
const DURATION_FORMS = `must be ${DURATION_LIKE}`;

/** A duration string (`5m`) in a config schema, parsed to milliseconds. */
export const durationMs = z
  // A bare number too (600: seconds? milliseconds?) is told what a duration looks like.
  .string({ error: (issue) => (issue.input === undefined ? `required: ${DURATION_LIKE}` : DURATION_FORMS) })
  .refine(isDuration, { message: DURATION_FORMS })
  .transform((s) => parseDuration(s));

/** A duration longer than zero: a setting that `0s` would break (a timeout that always fires, a loop that spins). */
export const positiveMs = durationMs.refine((ms) => ms > 0, { message: 'must be longer than 0s' });

/** A detector's window: a duration longer than zero (a `0s` window would never count two events). */
export const windowMs = positiveMs;
