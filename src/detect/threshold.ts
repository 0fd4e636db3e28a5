/**
 * threshold: admin-defined counting rules. An event matches when every `match` entry (dotted
 * path → matcher) matches: a literal or `{equals}` (primitives compare by string form, so `404`
 * matches `"404"`, and `true` matches `"TRUE"`), `{in: [...]}`, or `{regex}` (tested against the
 * value's string form, its first 8 192 characters, on RE2 in linear time: see linear-regex.ts).
 * Literals of canonical fields are spelled as ingest stores them, at load (match-literals.ts). A
 * missing field never matches; an array field matches when any element does, and a path through a
 * list of objects when the value in any of them does. ≥ `count` matches
 * within `window` of event time, counted per user and per `group_by` value tuple, fire once per
 * window length (see window-counter.ts).
 */
import { z } from 'zod';
import { formatDuration, windowMs } from '../duration.js';
import type { CanonicalEvent } from '../types.js';
import { storedMatch } from './match-literals.js';
import { getPath, valuesThrough } from './fields.js';
import { isoTime } from './format.js';
import type { Detector, DetectorLimits } from './types.js';
import { keptRange } from './bounded-keep.js';
import { addEvent, isSlidingCount, prune, type SlidingCount } from './window-counter.js';
import { linearRegExp, linearRegExpProblem, MAX_MATCHED_CHARS, type LinearRegExp } from './linear-regex.js';

const literal = z.union([z.string(), z.number(), z.boolean()]);
const MATCHER_FORMS = 'a matcher is a literal (string, number, boolean), {equals: v}, {in: [v, …]} or {regex: "…"}';
const matcher = z.union(
  [
    z.string(),
    z.number(),
    z.boolean(),
    z.strictObject({ equals: literal }),
    z.strictObject({ in: z.array(literal).min(1) }),
    z.strictObject({
      regex: z.string().superRefine((r, ctx) => {
        const problem = linearRegExpProblem(r);
        if (problem) ctx.addIssue({ code: 'custom', message: problem });
      }),
    }),
  ],
  { error: MATCHER_FORMS },
);
/** A field matcher in a threshold's `match`: a literal (equals), `{equals}`, `{in: []}` or `{regex}`. */
export type Matcher = z.infer<typeof matcher>;

/** threshold's parameters. */
export const thresholdParams = z.strictObject({
  /** Dotted field path (on the canonical event) → matcher. All must match; literals spelled as ingest stores the field ({@link storedMatch}). */
  match: z
    .record(z.string(), matcher)
    .refine((m) => Object.keys(m).length > 0, { error: 'match needs at least one field (an empty match would count every event)' })
    .refine((m) => Object.keys(m).every((k) => k.trim() !== ''), { error: 'a match path is a dotted field path, not empty' })
    .transform(storedMatch),
  count: z.number().int().positive(),
  window: windowMs,
  /** Extra fields (dotted paths) to count separately by, beyond the user. */
  group_by: z.array(z.string().refine((k) => k.trim() !== '', { error: 'a group_by path is a dotted field path, not empty' })).default([]),
});
export type ThresholdParams = z.output<typeof thresholdParams>;

/** Per group key (JSON of the `group_by` values; `""` without group_by): its counting series. */
export type ThresholdWindow = Record<string, SlidingCount>;

/**
 * Most groups remembered per user; the least recently active (by their newest event) are dropped
 * first, and groups whose newest event is stamped after `now` hold at most half (bounded-keep.ts).
 */
export const MAX_GROUPS = 64;
const MAX_GROUP_VALUE = 200;

type Primitive = string | number | boolean;
const isPrimitive = (v: unknown): v is Primitive => typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean';
/**
 * A value and a literal compared by string form; `true` / `false` across a boolean and a string
 * without case (a flat stream field is always text: `mfa TRUE` is the literal `true`).
 */
const same = (v: Primitive, lit: Primitive): boolean => v === lit || String(v) === String(lit) || (typeof v !== typeof lit && sameFlag(v, lit));
function sameFlag(v: Primitive, lit: Primitive): boolean {
  if (typeof lit === 'boolean') return typeof v === 'string' && v.length === (lit ? 4 : 5) && v.toLowerCase() === String(lit);
  return typeof v === 'boolean' && typeof lit === 'string' && lit.length === (v ? 4 : 5) && lit.toLowerCase() === String(v);
}

const regexes = new Map<string, LinearRegExp | null>();
function compiled(source: string): LinearRegExp | null {
  let re = regexes.get(source);
  if (re === undefined) {
    try {
      re = linearRegExp(source);
    } catch {
      re = null;
    }
    if (regexes.size > 1000) regexes.clear();
    regexes.set(source, re);
  }
  return re;
}

/** True when a field value satisfies one matcher. */
export function matchValue(value: unknown, m: Matcher): boolean {
  if (Array.isArray(value)) return value.some((v) => !Array.isArray(v) && matchValue(v, m));
  if (!isPrimitive(value)) return false;
  if (typeof m !== 'object') return same(value, m);
  if ('equals' in m) return same(value, m.equals);
  if ('in' in m) return m.in.some((x) => same(value, x));
  const text = String(value);
  return compiled(m.regex)?.test(text.length > MAX_MATCHED_CHARS ? text.slice(0, MAX_MATCHED_CHARS) : text) ?? false;
}

/**
 * True when the event satisfies every entry of `match`. A path that runs through a list of objects
 * (`target.type` on Okta's `target: [{type: …}, …]`) matches when the value in any of them does.
 */
export function matchesAll(event: CanonicalEvent, match: Record<string, Matcher>): boolean {
  for (const path of Object.keys(match)) {
    const v = getPath(event, path);
    const m = match[path]!;
    // `type` compares without case against literals (lower-cased at load); a regex sees the type as given.
    if (
      v === undefined
        ? // Only a dotted path can run through a list (most events lack most paths: no search then).
          !path.includes('.') || !matchValue(valuesThrough(event, path).flat(), m)
        : !matchValue(path === 'type' && typeof v === 'string' && (typeof m !== 'object' || !('regex' in m)) ? v.toLowerCase() : v, m)
    )
      return false;
  }
  return true;
}

function groupValue(v: unknown): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v === 'string') return v.length > MAX_GROUP_VALUE ? v.slice(0, MAX_GROUP_VALUE) : v;
  if (isPrimitive(v)) return v;
  const s = JSON.stringify(v) ?? null;
  return s && s.length > MAX_GROUP_VALUE ? s.slice(0, MAX_GROUP_VALUE) : s;
}

/**
 * A `group_by` field's value, read as `match` reads it: through lists of objects too (the one
 * value found, or the list of them).
 */
function groupField(event: CanonicalEvent, path: string): unknown {
  const v = getPath(event, path);
  if (v !== undefined || !path.includes('.')) return v;
  const found = valuesThrough(event, path);
  return found.length > 1 ? found : found[0];
}

/**
 * The event's `group_by` values (missing → null) and the key of its group. The key holds each
 * primitive by its string form, as `match` compares them: `403` in a JSON event and `"403"` in a
 * flat stream field (always a string) are one value, so one group.
 */
export function groupOf(event: CanonicalEvent, groupBy: readonly string[]): { key: string; values: Record<string, unknown> } {
  if (groupBy.length === 0) return { key: '', values: {} };
  const list = groupBy.map((p) => groupValue(groupField(event, p)));
  const key = JSON.stringify(list.map((v) => (typeof v === 'number' || typeof v === 'boolean' ? String(v) : v)));
  return { key, values: Object.fromEntries(groupBy.map((p, i) => [p, list[i]])) };
}

const newest = (s: SlidingCount): number => s.e[s.e.length - 1]?.[0] ?? -Infinity;

/** Prunes every group against the user's watermark; drops empty groups and caps them (see {@link MAX_GROUPS}). */
function tidy(groups: ThresholdWindow, params: ThresholdParams, now: number, limits: DetectorLimits): ThresholdWindow {
  const wm = Math.min(Math.max(...Object.values(groups).map(newest)), now);
  const keep = params.window + Math.max(0, limits.allowedLateness); // never limits.maxAge: the window is the rule's
  const live = Object.entries(groups)
    .filter(([, s]) => newest(s) >= wm - keep)
    .map(([k, s]) => [k, prune(s, params, now, limits)] as const)
    .filter(([, s]) => s.e.length > 0)
    .sort((a, b) => newest(b[1]) - newest(a[1]));
  if (live.length <= MAX_GROUPS) return Object.fromEntries(live);
  // Sorted newest first: keptRange reads it from its end (oldest first).
  const last = live.length - 1;
  const [from, to] = keptRange(0, live.length, MAX_GROUPS, now, (i) => newest(live[last - i]![1]));
  return Object.fromEntries(live.slice(live.length - to, live.length - from));
}

function readWindow(w: unknown): ThresholdWindow {
  if (!w || typeof w !== 'object' || Array.isArray(w)) return {};
  return Object.fromEntries(Object.entries(w).filter(([, s]) => isSlidingCount(s))) as ThresholdWindow;
}

function describeGroup(values: Record<string, unknown>): string {
  const parts = Object.entries(values).map(([k, v]) => `${k}=${v === null ? '∅' : String(v)}`);
  return parts.length ? ` for ${parts.join(', ')}` : '';
}

/** The threshold detector. Window: one counting series per group ({@link ThresholdWindow}). */
export const threshold: Detector<ThresholdParams, ThresholdWindow> = {
  kind: 'threshold',
  params: thresholdParams,
  countedBy: ['match', 'group_by'],
  accepts: (event, params) => Number.isFinite(event.time) && matchesAll(event, params.match),
  detect(window, { event, eventId }, params, now, limits) {
    if (!Number.isFinite(event.time) || !matchesAll(event, params.match)) return { window, hits: [] };
    const groups = readWindow(window);
    const { key, values } = groupOf(event, params.group_by);
    const r = addEvent(groups[key], event.time, eventId, params, now, limits);
    const next = tidy({ ...groups, [key]: r.state }, params, now, limits);
    if (!r.crossings.length) return { window: next, hits: [] };
    const span = formatDuration(params.window);
    return {
      window: next,
      hits: r.crossings.map((c) => ({
        time: c.end,
        summary: `${c.count} matching events in ${span} (threshold ${params.count})${describeGroup(values)}`,
        evidence: {
          count: c.count,
          threshold: params.count,
          window: span,
          window_ms: params.window,
          group: values,
          first: isoTime(c.start),
          last: isoTime(c.end),
          event_ids: c.ids,
        },
        eventIds: c.ids,
      })),
    };
  },
};
