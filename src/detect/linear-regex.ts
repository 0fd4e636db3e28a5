import { setFlagsFromString } from 'node:v8';

/**
 * Admin-written regular expressions (threshold `{regex}` matchers) compiled for V8's linear-time
 * engine (the `l` flag), so that no pattern and no event value can make matching backtrack
 * catastrophically (`^(a+)+$` against `aaa…a!` froze the worker): matching costs time in
 * proportion to the value, whatever the pattern. Patterns the engine cannot run in linear time
 * (backreferences, lookarounds, large counted repetitions) are refused when the config loads.
 */
let enabled = false;

function enable(): void {
  if (enabled) return;
  // Read when a RegExp with the `l` flag is compiled; process-wide (worker threads too).
  setFlagsFromString('--enable-experimental-regexp-engine');
  enabled = true;
}

/** Characters of a value a pattern is tested against: beyond them a value is cut (a 1 MiB field costs no more than this). */
export const MAX_MATCHED_CHARS = 8192;

/** `source` compiled for linear-time matching; throws a SyntaxError when it is invalid or needs backtracking. */
export function linearRegExp(source: string): RegExp {
  enable();
  // eslint-disable-next-line no-invalid-regexp -- the linear-time engine's flag, enabled above
  return new RegExp(source, 'l');
}

/** Why `source` cannot be used (invalid, or not runnable in linear time), or undefined when it can. */
export function linearRegExpProblem(source: string): string | undefined {
  try {
    linearRegExp(source);
    return undefined;
  } catch (err) {
    const m = (err as Error).message;
    return /linear time/.test(m)
      ? 'must run in linear time: no backreferences, lookarounds or large counted repetitions'
      : 'must be a valid regular expression';
  }
}
