/**
 * What a login is — the one definition that ingest (routing to the login stream, GeoIP),
 * sessions (which logins store an identity) and detectors (impossible travel) share. Pure.
 */

/** Event types that refresh an existing session rather than start one. */
const REFRESH_TYPES = ['session_refresh', 'refresh'] as const;

/** Event types that are logins (a session refresh is one too); compared trimmed and lower case. */
export const LOGIN_TYPES = ['login', ...REFRESH_TYPES] as const;

const normalized = (v: unknown): string | undefined => (typeof v === 'string' ? v.trim().toLowerCase() : undefined);

/** True when the event's `type` is a login type (`Login`, ` refresh ` count too). */
export function isLogin(event: { type?: unknown }): boolean {
  if (event.type === 'login') return true; // the usual spelling: no trimmed, lower-cased copy
  const type = normalized(event.type);
  return type !== undefined && (LOGIN_TYPES as readonly string[]).includes(type);
}

/** True when the event's `type` is a session refresh (`session_refresh`, `refresh`; trimmed, any case). */
export function isRefresh(event: { type?: unknown }): boolean {
  const type = normalized(event.type);
  return type !== undefined && (REFRESH_TYPES as readonly string[]).includes(type);
}

/**
 * True for a login that presents credentials: any login type but a session refresh. A refresh that
 * fails is a session ended or expired, not a wrong password: credential attacks (brute_force,
 * password_spray) count only these.
 */
export function isCredentialLogin(event: { type?: unknown }): boolean {
  if (event.type === 'login') return true; // the usual spelling: no trimmed, lower-cased copy
  return isLogin(event) && !isRefresh(event);
}

/**
 * True for a login whose `outcome` is `success` (any case) or missing: shippers that only send
 * successful logins often leave the outcome out. A failure must say so.
 */
export function isSuccessfulLogin(event: { type?: unknown; outcome?: unknown }): boolean {
  if (!isLogin(event)) return false;
  const outcome = event.outcome;
  if (outcome === undefined || outcome === null || outcome === 'success') return true;
  const o = normalized(outcome);
  return o === '' || o === 'success';
}

/** Outcomes that mean a failed attempt (compared trimmed and lower case). */
export const FAILURE_OUTCOMES = ['failure', 'failed', 'fail', 'denied'] as const;

/** True for a login whose `outcome` says it failed (`failure`, `failed`, `fail`, `denied`). */
export function isFailedLogin(event: { type?: unknown; outcome?: unknown }): boolean {
  if (!isLogin(event)) return false;
  const o = normalized(event.outcome);
  return o !== undefined && (FAILURE_OUTCOMES as readonly string[]).includes(o);
}

/**
 * Event outcomes: the success and failure spellings of shippers and IdPs collapse to `success` and
 * `failure` at ingest (`allowed`, `ok`, `passed` … / `failed`, `error` …); any other outcome
 * (`denied` — `deny` too —, `timeout`, `blocked` …) is kept, lower-cased. Threshold behaviors' `match` on
 * `outcome` is normalised the same way, so `outcome: allowed` matches what ingest made of it.
 */
const SUCCESS = new Set(['success', 'succeeded', 'successful', 'allow', 'allowed', 'ok', 'pass', 'passed']);
const FAILURE = new Set(['failure', 'failed', 'fail', 'error', 'unsuccessful']);

/** The canonical outcome of `s` (any case); `deny` (Okta's, as `allow` is a success) is `denied`. */
export function canonicalOutcome(s: string): string {
  const l = s.toLowerCase();
  return SUCCESS.has(l) ? 'success' : FAILURE.has(l) ? 'failure' : l === 'deny' ? 'denied' : l;
}

/** How a sign-in that accepted its credential ended short of success (see {@link acceptedCredential}). */
export type AcceptedCredential = 'interrupted' | 'blocked';

/** `v` when it names an {@link AcceptedCredential} (a stored note, a victim event's outcome), else undefined. */
export function asAcceptedCredential(v: unknown): AcceptedCredential | undefined {
  return v === 'interrupted' || v === 'blocked' ? v : undefined;
}

/**
 * How a credential login (see {@link isCredentialLogin}) whose password was right ended, when it
 * did not complete: `interrupted` for outcome `interrupted` (MFA or a prompt required after the
 * password: Entra 50074, 50076 …), `blocked` for `reason: blocked_by_policy` with any outcome but
 * a success (Entra Conditional Access 53000–53004, 530032: evaluated only after the password
 * passed). Undefined for any other event. Pure; allocates nothing for the usual spellings.
 */
export function acceptedCredential(event: { type?: unknown; outcome?: unknown; reason?: unknown }): AcceptedCredential | undefined {
  if (event.outcome === 'success' || !isCredentialLogin(event)) return undefined;
  if (event.outcome === 'interrupted' || normalized(event.outcome) === 'interrupted') return 'interrupted';
  if (event.reason !== 'blocked_by_policy' && normalized(event.reason) !== 'blocked_by_policy') return undefined;
  return isSuccessfulLogin(event) ? undefined : 'blocked';
}

/**
 * True for a credential login whose password was right but whose sign-in did not complete:
 * outcome `interrupted`, or `reason: blocked_by_policy` with any outcome but a success (see
 * {@link acceptedCredential}). Credential attacks (brute_force, password_spray) count it as the
 * success that completes an attack, never as a failed guess, although {@link isFailedLogin} may
 * call it failed (a `failure` blocked by policy). Pure.
 */
export function isCredentialAccepted(event: { type?: unknown; outcome?: unknown; reason?: unknown }): boolean {
  return acceptedCredential(event) !== undefined;
}
