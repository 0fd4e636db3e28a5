/**
 * Pure bookkeeping of one source IP's recent logins for password_spray: their stored form (a
 * sorted-set member, scored by event time) and which earlier successes a batch's new failures
 * turn into spray victims. No I/O: src/ingest/ip-spray.ts reads and writes the IP's key; its
 * script (src/redis/scripts/ip-logins-n.lua) caps each set by the bound policy of bounded-keep.ts.
 */
import { asAcceptedCredential, type AcceptedCredential } from '../login.js';
import type { IpFailure, PasswordSprayParams } from './password-spray.js';

/** One login of an IP: `f` failed, `s` succeeded (or accepted the password: see `accepted`). */
export interface IpLogin {
  kind: 'f' | 's';
  time: number;
  user: string;
  id: string;
  /** A success whose password was accepted but whose sign-in did not complete: how it ended. */
  accepted?: AcceptedCredential;
}

/**
 * The sorted-set member of a login (its score is the event time): `[kind, user, id]`, and the
 * `accepted` note as a fourth element when there is one (an older reader ignores it).
 */
export function ipLoginMember(l: IpLogin): string {
  return JSON.stringify(l.accepted ? [l.kind, l.user, l.id, l.accepted] : [l.kind, l.user, l.id]);
}

/** A stored member back as a login, or undefined when malformed. */
export function parseIpLogin(member: string, score: number): IpLogin | undefined {
  try {
    const v: unknown = JSON.parse(member);
    if (!Array.isArray(v) || (v[0] !== 'f' && v[0] !== 's') || typeof v[1] !== 'string' || typeof v[2] !== 'string' || !Number.isFinite(score))
      return undefined;
    const login: IpLogin = { kind: v[0], user: v[1], id: v[2], time: score };
    const accepted = v[0] === 's' ? asAcceptedCredential(v[3]) : undefined;
    if (accepted) login.accepted = accepted;
    return login;
  } catch {
    return undefined;
  }
}

/** The failures among `logins`, as the detector reads them. */
export function failuresOf(logins: readonly IpLogin[]): IpFailure[] {
  return logins.filter((l) => l.kind === 'f').map((l) => [l.time, l.user, l.id]);
}

/** The failures at most `window` before `time` (inclusive): what a success at `time` is judged by. */
export function failuresBefore(failures: readonly IpFailure[], time: number, window: number): IpFailure[] {
  return failures.filter(([t]) => t <= time && t >= time - window);
}

/** The longest `window` among the configured password_spray behaviors (0 when none). */
export function longestWindow(params: readonly PasswordSprayParams[]): number {
  return Math.max(0, ...params.map((p) => p.window));
}

/** A success that a failure of the batch made a spray victim, with the failures known at that point. */
export interface IpVictim {
  /** Index in the batch of the failure that revealed it. */
  after: number;
  victim: IpLogin;
  failures: IpFailure[];
}

/** What a batch of one IP's logins judges: each success's failures, and the victims revealed. */
export interface IpJudgement {
  /** Per batch index of a success: the IP's failures it is judged by (those that came before it). */
  attached: Map<number, IpFailure[]>;
  victims: IpVictim[];
}

/**
 * Judges a batch of one IP's logins (`batch`, in stream order) against the IP's logins stored
 * before it (`stored`, without the batch's own), one login at a time, as if each had come alone:
 * a success is judged by the failures that came before it; a failure that makes an earlier
 * success (stored or in the batch) cross some behavior's `users` reveals it as a victim, with the
 * failures known at that moment. So the outcome and its evidence depend on the stream's order
 * only, not on how it was cut into batches (a redelivered batch judges the same). Pure.
 */
export function judgeIpBatch(stored: readonly IpLogin[], batch: readonly IpLogin[], params: readonly PasswordSprayParams[]): IpJudgement {
  const window = longestWindow(params);
  const failures = failuresOf(stored);
  const successes = stored.filter((l) => l.kind === 's');
  const seen = new Set(stored.map((l) => l.id));
  // Per success: the distinct users failing within each behavior's window, counted when first needed.
  const users = new Map<string, Array<Set<string>>>();
  const usersOf = (s: IpLogin): Array<Set<string>> => {
    let u = users.get(s.id);
    if (!u) {
      u = params.map((p) => new Set(failures.filter(([t]) => t <= s.time && t >= s.time - p.window).map((f) => f[1])));
      users.set(s.id, u);
    }
    return u;
  };
  const out: IpJudgement = { attached: new Map(), victims: [] };
  batch.forEach((l, i) => {
    if (seen.has(l.id)) return; // the same login twice in one batch counts once
    seen.add(l.id);
    if (l.kind === 's') {
      out.attached.set(i, failuresBefore(failures, l.time, window));
      successes.push(l);
      return;
    }
    // Only a success at most `window` after this failure can change its verdict.
    const reached = successes.filter((s) => l.time <= s.time && l.time >= s.time - window).map((s) => [s, usersOf(s)] as const);
    failures.push([l.time, l.user, l.id]);
    for (const [s, sets] of reached) {
      let crossed = false;
      params.forEach((p, j) => {
        const set = sets[j]!;
        if (l.time < s.time - p.window || set.has(l.user)) return;
        set.add(l.user);
        if (set.size === p.users) crossed = true;
      });
      if (crossed) out.victims.push({ after: i, victim: s, failures: failuresBefore(failures, s.time, window) });
    }
  });
  return out;
}
