/**
 * Nesting depth of decoded input, checked before anything recursive touches it: an event nested
 * thousands of levels deep (in JSON, in a flat field's JSON value, or as a dotted key of
 * thousands of segments) would overflow the stack of whatever walks it next — validation,
 * redaction, JSON.stringify when it is routed — and stop the pipeline. It is refused instead.
 */

/** Deepest nesting an event may have (the event object itself is level 1). Vendor logs nest ≈ 10. */
export const MAX_EVENT_DEPTH = 32;

/** True when `v` holds objects or arrays nested more than `max` levels deep (iterative: no recursion). */
export function deeperThan(v: unknown, max: number = MAX_EVENT_DEPTH): boolean {
  if (v === null || typeof v !== 'object') return false;
  const values: unknown[] = [v];
  const depths: number[] = [1];
  while (values.length) {
    const x = values.pop() as object;
    const d = depths.pop()!;
    if (d > max) return true;
    if (Array.isArray(x)) {
      for (const y of x) {
        if (y === null || typeof y !== 'object') continue;
        values.push(y);
        depths.push(d + 1);
      }
      continue;
    }
    for (const k in x) {
      const y = (x as Record<string, unknown>)[k];
      if (y === null || typeof y !== 'object') continue;
      values.push(y);
      depths.push(d + 1);
    }
  }
  return false;
}

/** How many times `ch` occurs in `text`, counting up to `stop` (native indexOf: cheap on the usual few). */
function occurrences(text: string, ch: string, stop: number): number {
  let n = 0;
  for (let i = text.indexOf(ch); i !== -1 && n < stop; i = text.indexOf(ch, i + 1)) n++;
  return n;
}

/**
 * False when stream fields cannot decode to an event nested more than `max` levels: every level
 * beyond the event's own comes from a `{` or `[` in a value, or a `.` in a flat key. A cheap
 * bound that spares the usual event its walk ({@link deeperThan}).
 */
export function mayNestDeeperThan(fields: Record<string, string>, max: number = MAX_EVENT_DEPTH): boolean {
  let budget = max - 1;
  for (const k in fields) {
    const v = fields[k]!;
    budget -= occurrences(k, '.', budget + 1) + occurrences(v, '{', budget + 1);
    if (budget < 0) return true;
    budget -= occurrences(v, '[', budget + 1);
    if (budget < 0) return true;
  }
  return false;
}

/** The dead-letter reason of an event nested too deeply. */
export const TOO_DEEP = `event: nested more than ${MAX_EVENT_DEPTH} levels deep`;
