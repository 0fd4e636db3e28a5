/**
 * "Failed attempts, then a success" in event time, shared by brute_force (failed logins, then a
 * successful login) and mfa_fatigue (denied pushes, then an approved one).
 *
 * A success at time S is flagged when at least `count` attempts have event times in
 * `[S - window, S]`. The verdict depends only on the events, not on their arrival order: a
 * success is remembered for `window + allowedLateness`, so a late attempt that completes the
 * count still flags it, and every success is flagged at most once (by id). Attempts and successes
 * later than `allowedLateness` behind the watermark (the newest event time, never ahead of `now`)
 * are dropped; attempts older than `window + allowedLateness` are pruned and at most
 * `max(2 × count, 32)` are kept (16 successes): the newest, of which those stamped after `now` hold
 * at most half (bounded-keep.ts), so the state stays small.
 */
import { keptRange } from './bounded-keep.js';
import type { DetectorLimits } from './types.js';

/**
 * A remembered attempt or success: [event time, event id, source (ip) or "", and for a success
 * that is not a plain one, how it ended (brute_force: an accepted password, `interrupted` or
 * `blocked`); for an attempt, the detector's note (mfa_fatigue: `fraud_reported`)]. States stored
 * before the fourth element existed read as plain successes.
 */
export type Attempt = [number, string, string, string?];

/** Compact state: `a` attempts and `s` successes (sorted by time), `f` ids of flagged successes. */
export interface AttemptsState {
  a: Attempt[];
  s: Attempt[];
  f: string[];
}

/** How many attempts within which window (ms) make a success suspicious. */
export interface AttemptSpec {
  count: number;
  window: number;
}

/** A flagged success and the attempts before it (oldest first). */
export interface Flagged {
  time: number;
  id: string;
  /** The success's source ("" when unknown). */
  source: string;
  /** The success's note (see {@link Attempt}), when it has one. */
  note?: string;
  attempts: Attempt[];
}

const MAX_SUCCESSES = 16;
const MAX_FLAGGED = 32;

const isAttempt = (x: unknown): x is Attempt =>
  Array.isArray(x) && typeof x[0] === 'number' && Number.isFinite(x[0]) && typeof x[1] === 'string' && typeof x[2] === 'string';
const isString = (x: unknown): x is string => typeof x === 'string';

/** The elements of `xs` that pass `ok`: `xs` itself when all do (windows are never modified). */
function valid<T>(xs: readonly unknown[], ok: (x: unknown) => x is T): T[] {
  for (let i = 0; i < xs.length; i++) if (!ok(xs[i])) return xs.filter(ok);
  return xs as T[];
}

/**
 * A copy of `xs` (sorted by time) with `x` inserted after every element of its time or earlier: what
 * a stable sort of `[...xs, x]` gives, without sorting (events mostly come in time order).
 */
function withByTime(xs: readonly Attempt[], x: Attempt): Attempt[] {
  let i = xs.length;
  while (i > 0 && xs[i - 1]![0] > x[0]) i--;
  const out = xs.slice(0, i);
  out.push(x);
  for (let j = i; j < xs.length; j++) out.push(xs[j]!);
  return out;
}

/** The state stored in a window, or an empty one (windows come back from Redis). */
export function readAttempts(w: unknown): AttemptsState {
  if (!w || typeof w !== 'object') return { a: [], s: [], f: [] };
  const { a, s, f } = w as Partial<AttemptsState>;
  return {
    a: Array.isArray(a) ? valid(a, isAttempt) : [],
    s: Array.isArray(s) ? valid(s, isAttempt) : [],
    f: Array.isArray(f) ? valid(f, isString) : [],
  };
}

/**
 * The attempts at or after `from`, at most `cap` of them kept by the bound policy (bounded-keep.ts:
 * those stamped after `now` hold at most half): `xs` itself when that is all of them.
 */
function recent(xs: Attempt[], from: number, cap: number, now: number): Attempt[] {
  let start = 0;
  while (start < xs.length && !(xs[start]![0] >= from)) start++;
  if (start === 0 && xs.length <= cap) return xs;
  const [lo, hi] = keptRange(start, xs.length, cap, now, (i) => xs[i]![0]);
  return xs.slice(lo, hi);
}

const newest = (st: AttemptsState, now: number): number | undefined => {
  const t = Math.max(st.a[st.a.length - 1]?.[0] ?? -Infinity, st.s[st.s.length - 1]?.[0] ?? -Infinity);
  return Number.isFinite(t) ? Math.min(t, now) : undefined;
};

function tooLate(st: AttemptsState, time: number, now: number, limits: DetectorLimits): boolean {
  const wm = newest(st, now);
  return !Number.isFinite(time) || (wm !== undefined && time < wm - Math.max(0, limits.allowedLateness));
}

/** The attempts within `[time - window, time]`. */
export function attemptsBefore(st: AttemptsState, time: number, window: number): Attempt[] {
  return st.a.filter(([t]) => t >= time - window && t <= time);
}

function prune(st: AttemptsState, spec: AttemptSpec, now: number, limits: DetectorLimits): AttemptsState {
  const wm = newest(st, now);
  if (wm === undefined) return { a: [], s: [], f: st.f.length > MAX_FLAGGED ? st.f.slice(-MAX_FLAGGED) : st.f };
  const from = wm - spec.window - Math.max(0, limits.allowedLateness);
  const cap = Math.max(2 * spec.count, 32);
  return {
    a: recent(st.a, from, cap, now),
    s: recent(st.s, from, MAX_SUCCESSES, now),
    f: st.f.length > MAX_FLAGGED ? st.f.slice(-MAX_FLAGGED) : st.f,
  };
}

function judge(st: AttemptsState, success: Attempt, spec: AttemptSpec): Flagged | undefined {
  if (st.f.includes(success[1])) return undefined;
  const before = attemptsBefore(st, success[0], spec.window);
  if (before.length < spec.count) return undefined;
  const flagged: Flagged = { time: success[0], id: success[1], source: success[2], attempts: before };
  if (typeof success[3] === 'string') flagged.note = success[3];
  return flagged;
}

/**
 * Adds a failed attempt; returns the remembered successes it completes (usually none), and `late`
 * when it was dropped as later than the allowed lateness (a caller counting the same attempts
 * elsewhere drops it too). Pure.
 */
export function addAttempt(
  state: unknown,
  attempt: Attempt,
  spec: AttemptSpec,
  now: number,
  limits: DetectorLimits,
): { state: AttemptsState; flagged: Flagged[]; late?: true } {
  const st = readAttempts(state);
  if (tooLate(st, attempt[0], now, limits)) return { state: st, flagged: [], late: true };
  // An attempt seen again by its id (whatever its time: a retry of one without a time of its own) is ignored.
  if (st.a.some((x) => x[1] === attempt[1])) return { state: st, flagged: [] };
  const next: AttemptsState = { ...st, a: withByTime(st.a, attempt) };
  const flagged: Flagged[] = [];
  for (const s of next.s) {
    if (s[0] < attempt[0] || s[0] > attempt[0] + spec.window) continue;
    const hit = judge(next, s, spec);
    if (hit) flagged.push(hit);
  }
  next.f = [...next.f, ...flagged.map((x) => x.id)];
  return { state: prune(next, spec, now, limits), flagged };
}

/** Adds a success; returns it flagged when enough attempts precede it within the window. Pure. */
export function addSuccess(
  state: unknown,
  success: Attempt,
  spec: AttemptSpec,
  now: number,
  limits: DetectorLimits,
): { state: AttemptsState; flagged: Flagged | undefined } {
  const st = readAttempts(state);
  const [time, id] = success;
  if (tooLate(st, time, now, limits) || st.s.some((x) => x[1] === id) || st.f.includes(id)) return { state: st, flagged: undefined };
  const next: AttemptsState = { ...st, s: withByTime(st.s, success) };
  const flagged = judge(next, success, spec);
  if (flagged) next.f = [...next.f, id];
  return { state: prune(next, spec, now, limits), flagged };
}
