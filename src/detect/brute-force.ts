/**
 * brute_force: `failures` failed logins of one user within `window` (event time), then a
 * successful login — or a sign-in whose password was accepted but which did not complete
 * (interrupted for MFA, blocked by policy: `isCredentialAccepted`, src/login.ts), which is never
 * counted as a failure. The success is what makes it risk: the failures alone are what the
 * `failed_logins` threshold counts. Arrival order never changes the verdict (see attempts.ts):
 * a success is flagged when at least `failures` failed logins lie in `[success - window,
 * success]`, also when some of them arrive after it; each success is flagged at most once.
 *
 * Evidence: the failures' `count`, `sources` (distinct source IPs, most frequent first, with
 * their counts), `first_failure` / `last_failure` and `span`, and the `success` (time, ip, id; and
 * `outcome` — `interrupted` or `blocked` — for an accepted password whose sign-in did not complete).
 */
import { z } from 'zod';
import { formatDuration, windowMs } from '../duration.js';
import { acceptedCredential, isCredentialAccepted, isCredentialLogin, isFailedLogin, isSuccessfulLogin } from '../login.js';
import { addAttempt, addSuccess, type Attempt, type AttemptsState, type Flagged } from './attempts.js';
import { credentialSuccess, isoTime } from './format.js';
import type { Detector, DetectorHit } from './types.js';
import type { CanonicalEvent } from '../types.js';

/** brute_force's parameters. */
export const bruteForceParams = z.strictObject({
  /** Failed logins needed before the success. */
  failures: z.number().int().positive().default(10),
  window: windowMs.prefault('10m'),
});
export type BruteForceParams = z.output<typeof bruteForceParams>;

/** Most sources the evidence lists. */
export const MAX_SOURCES = 10;

/** Distinct sources of attempts, most frequent first (then by name), with their counts. */
export function sourcesOf(attempts: readonly Attempt[]): Array<{ ip: string; failures: number }> {
  const counts = new Map<string, number>();
  for (const [, , ip] of attempts) if (ip) counts.set(ip, (counts.get(ip) ?? 0) + 1);
  return [...counts]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, MAX_SOURCES)
    .map(([ip, failures]) => ({ ip, failures }));
}

function toHit(f: Flagged, params: BruteForceParams): DetectorHit {
  const successIp = f.source || undefined;
  const first = f.attempts[0]![0];
  const last = f.attempts[f.attempts.length - 1]![0];
  const sources = sourcesOf(f.attempts);
  const span = formatDuration(Math.max(0, last - first)) || '0s';
  const distinct = new Set(f.attempts.map((a) => a[2]).filter((x) => x !== '')).size;
  const from = distinct === 0 ? '' : distinct === 1 ? ` from ${sources[0]!.ip}` : ` from ${distinct} sources`;
  const ids = f.attempts.slice(-20).map((a) => a[1]);
  return {
    time: f.time,
    summary: `${f.attempts.length} failed logins in ${span}${from}, then a ${credentialSuccess(f.note, successIp)} (threshold ${params.failures} in ${formatDuration(params.window)})`,
    evidence: {
      count: f.attempts.length,
      threshold: params.failures,
      window: formatDuration(params.window),
      sources,
      distinct_sources: distinct,
      first_failure: isoTime(first),
      last_failure: isoTime(last),
      span,
      success: { time: isoTime(f.time), ip: successIp ?? null, id: f.id, ...(f.note ? { outcome: f.note, password_accepted: true } : {}) },
      failure_ids: ids,
    },
    eventIds: [f.id, ...ids],
  };
}

const ipOf = (event: CanonicalEvent): string => (typeof event.ip === 'string' ? event.ip : '');

/**
 * The brute_force detector. Window: recent failures, recent successes and the ids of flagged
 * successes ({@link AttemptsState}), bounded by `window` + allowed lateness.
 */
export const bruteForce: Detector<BruteForceParams, AttemptsState> = {
  kind: 'brute_force',
  params: bruteForceParams,
  // Logins that present credentials: a session refresh failing or succeeding is neither a guess nor its success.
  accepts: (event) =>
    Number.isFinite(event.time) && isCredentialLogin(event) && (isFailedLogin(event) || isSuccessfulLogin(event) || isCredentialAccepted(event)),
  detect(window, { event, eventId }, params, now, limits) {
    if (!Number.isFinite(event.time) || !isCredentialLogin(event)) return { window, hits: [] };
    const spec = { count: params.failures, window: params.window };
    // An accepted password (interrupted, blocked by policy) is the attack's success, never a failed guess.
    const accepted = acceptedCredential(event);
    const item: Attempt = accepted ? [event.time, eventId, ipOf(event), accepted] : [event.time, eventId, ipOf(event)];
    if (!accepted && isFailedLogin(event)) {
      const r = addAttempt(window, item, spec, now, limits);
      return { window: r.state, hits: r.flagged.map((f) => toHit(f, params)) };
    }
    const r = addSuccess(window, item, spec, now, limits);
    return { window: r.state, hits: r.flagged ? [toHit(r.flagged, params)] : [] };
  },
};
