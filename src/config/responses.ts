/**
 * `responses:` in behaviors.yaml — automatic responses to a user's risk:
 *
 * ```yaml
 * responses:
 *   - when: {level: high}                 # riskstream raises the user to this level or higher
 *     revoke_sessions: true
 *   - when: {behavior: session_hijack}    # a hit of this behavior id
 *     revoke_sessions: true
 * ```
 */
import { z } from 'zod';
import { locate, pushZodIssues, type ConfigIssue, type Parsed } from './yaml-source.js';

/** The top-level key of behaviors.yaml that holds the response rules (never a behavior id). */
export const RESPONSES_KEY = 'responses';

const ruleSchema = z.strictObject({
  when: z.union(
    [z.strictObject({ level: z.enum(['medium', 'high'], { message: 'must be medium or high' }) }), z.strictObject({ behavior: z.string().min(1) })],
    { error: 'must be {level: medium|high} or {behavior: <behavior id>}' },
  ),
  revoke_sessions: z.boolean(),
});

/** One validated response rule. */
export type ResponseRule = z.output<typeof ruleSchema>;

/**
 * Validates the `responses` list of a behaviors document; problems (unknown keys, a `when` that
 * names no level or behavior, a behavior id not configured) become located issues.
 */
export function parseResponses(p: Parsed | undefined, issues: ConfigIssue[]): ResponseRule[] {
  const data: unknown = p?.js;
  if (!p || !data || typeof data !== 'object' || !(RESPONSES_KEY in data)) return [];
  const raw = (data as Record<string, unknown>)[RESPONSES_KEY] ?? [];
  if (!Array.isArray(raw)) {
    issues.push({ file: p.file, ...locate(p, [RESPONSES_KEY]), message: `${RESPONSES_KEY}: must be a list of {when, revoke_sessions}` });
    return [];
  }
  // The ids the file configures — a valid entry or not: one with a mistake of its own is reported
  // there, not a second time as "no behavior" here.
  const ids = new Set(Object.keys(data).filter((k) => k !== RESPONSES_KEY));
  const out: ResponseRule[] = [];
  raw.forEach((item, i) => {
    const r = ruleSchema.safeParse(item);
    if (!r.success) return pushZodIssues(p, [RESPONSES_KEY, i], r.error, issues);
    const when = r.data.when;
    if ('behavior' in when && !ids.has(when.behavior)) {
      const message = `${RESPONSES_KEY}.${i}.when.behavior: no behavior "${when.behavior}" is configured`;
      return void issues.push({ file: p.file, ...locate(p, [RESPONSES_KEY, i, 'when', 'behavior']), message });
    }
    out.push(r.data);
  });
  return out;
}

/**
 * Notes on rules that can never fire with these behaviors (no error: a behavior switched off for a
 * while keeps its rule): one naming a behavior that is not enabled, or a level no enabled behavior
 * reaches (a level rule fires at that level or higher).
 */
export function idleResponses(rules: readonly ResponseRule[], behaviors: ReadonlyArray<{ id: string; enabled: boolean; risk_level: string }>): string[] {
  const on = behaviors.filter((b) => b.enabled);
  const rank = (l: string): number => (l === 'high' ? 2 : l === 'medium' ? 1 : 0);
  const top = Math.max(0, ...on.map((b) => rank(b.risk_level)));
  const notes: string[] = [];
  rules.forEach((r, i) => {
    const w = r.when;
    if ('behavior' in w) {
      if (!on.some((b) => b.id === w.behavior)) notes.push(`${RESPONSES_KEY}.${i}: behavior "${w.behavior}" is not enabled: this rule never fires`);
    } else if (rank(w.level) > top) notes.push(`${RESPONSES_KEY}.${i}: no enabled behavior reaches level ${w.level}: this rule never fires`);
  });
  return notes;
}
