import { RE2JS } from 're2js';
import { RiskstreamError } from '../errors.js';

/**
 * Admin-written regular expressions (threshold `{regex}` matchers) run on RE2 (re2js, a pure
 * JavaScript port of Google's RE2): matching takes time linear in the value whatever the pattern,
 * so no pattern and no event value can make it backtrack catastrophically (`^(a+)+$` against
 * `aaa…a!` froze the worker on the default engine). RE2 has no backreferences or lookarounds:
 * patterns with them are refused when the config loads; counted repetitions up to 1000 are fine.
 */
export interface LinearRegExp {
  test(text: string): boolean;
}

/** Characters of a value a pattern is tested against: beyond them a value is cut (a 1 MiB field costs no more than this). */
export const MAX_MATCHED_CHARS = 8192;

/** Longest pattern accepted (a large alternation costs in proportion to its size on every value). */
export const MAX_PATTERN_CHARS = 4096;

/** `source` compiled for linear-time matching; throws when it is invalid or not supported by RE2. */
export function linearRegExp(source: string): LinearRegExp {
  if (source.length > MAX_PATTERN_CHARS) throw new RiskstreamError('CONFIG_INVALID', `a pattern longer than ${MAX_PATTERN_CHARS} characters`);
  const re = RE2JS.compile(source);
  return { test: (text) => re.matcher(text).find() };
}

/** Why `source` cannot be used, or undefined when it can. */
export function linearRegExpProblem(source: string): string | undefined {
  if (source.length > MAX_PATTERN_CHARS) return `must be at most ${MAX_PATTERN_CHARS} characters`;
  try {
    linearRegExp(source);
    return undefined;
  } catch (err) {
    // RE2's syntax: no backreferences (\1), lookarounds ((?=…), (?!…), (?<=…)) or possessive forms.
    return `must be a regular expression RE2 runs in linear time (no backreferences or lookarounds): ${(err as Error).message}`;
  }
}
