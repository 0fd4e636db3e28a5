/**
 * Pure bookkeeping of one source IP's recent logins for password_spray: their stored form (a
 * sorted-set member, scored by event time) and which earlier successes a batch's new failures
 * turn into spray victims. No I/O: src/ingest/ip-spray.ts reads and writes the IP's key.
 */
import { sprayVerdict, type IpFailure, type PasswordSprayParams } from './password-spray.js';

/** One login of an IP: `f` failed, `s` succeeded. */
export interface IpLogin {
  kind: 'f' | 's';
  time: number;
  user: string;
  id: string;
}

/** The sorted-set member of a login (its score is the event time). */
export function ipLoginMember(l: IpLogin): string {
  return JSON.stringify([l.kind, l.user, l.id]);
}

/** A stored member back as a login, or undefined when malformed. */
export function parseIpLogin(member: string, score: number): IpLogin | undefined {
  try {
    const v: unknown = JSON.parse(member);
    if (!Array.isArray(v) || (v[0] !== 'f' && v[0] !== 's') || typeof v[1] !== 'string' || typeof v[2] !== 'string' || !Number.isFinite(score))
      return undefined;
    return { kind: v[0], user: v[1], id: v[2], time: score };
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

/**
 * Successes stored before this batch (ids not in `batchIds`) that some behavior flags with all
 * of the IP's failures but not without the batch's own: the victims this batch's late failures
 * reveal. Deterministic in its inputs, so a redelivered batch reveals the same ones.
 */
export function lateVictims(logins: readonly IpLogin[], batchIds: ReadonlySet<string>, params: readonly PasswordSprayParams[]): IpLogin[] {
  const all = failuresOf(logins);
  const before = failuresOf(logins.filter((l) => !batchIds.has(l.id)));
  const window = longestWindow(params);
  const fresh = logins.filter((l) => l.kind === 'f' && batchIds.has(l.id)).map((l) => l.time);
  // Only a success at most `window` after one of the batch's failures can change its verdict.
  const reachable = (t: number): boolean => fresh.some((f) => f <= t && f >= t - window);
  return logins.filter(
    (s) => s.kind === 's' && !batchIds.has(s.id) && reachable(s.time) && params.some((p) => sprayVerdict(all, s.time, p) && !sprayVerdict(before, s.time, p)),
  );
}
