import { getPath, isPlainObject, vendorGeo, withSource, type Profile } from './path.js';

const SIGNIN_CATEGORIES = new Set(['SignInLogs', 'NonInteractiveUserSignInLogs', 'ServicePrincipalSignInLogs', 'ManagedIdentitySignInLogs']);

/**
 * The signIn record itself: a Microsoft Graph `signIn` resource, or the `properties` of an
 * Azure Monitor diagnostic record (`category: SignInLogs`, e.g. from an Event Hub).
 */
function signIn(obj: Record<string, unknown>): Record<string, unknown> | null {
  if (typeof obj.userPrincipalName === 'string' && 'createdDateTime' in obj) return obj;
  if (typeof obj.category === 'string' && SIGNIN_CATEGORIES.has(obj.category) && isPlainObject(obj.properties)) {
    const { properties: p, ...record } = obj;
    // The record's own fields (category, tenantId, operationName, …) are kept beside the sign-in's,
    // which win where both name one (`location`: the record's region, the sign-in's place).
    return typeof p.userPrincipalName === 'string' ? { ...record, createdDateTime: obj.time, ...p } : null;
  }
  return null;
}

/** True when `obj` is shaped like a Microsoft Entra sign-in log record. */
export function looksLikeEntra(obj: Record<string, unknown>): boolean {
  return signIn(obj) !== null;
}

/**
 * Entra error codes that interrupt a sign-in after a good password (MFA, MFA or password-reset
 * registration, "stay signed in?", an external security challenge, an expired password — Entra
 * and AD say a password is expired only once it matched: 50055 cloud, 50144 on-premises): not
 * failures.
 */
const INTERRUPTS = new Set([50055, 50072, 50074, 50076, 50079, 50125, 50140, 50144, 50158]);
/**
 * Entra error codes of a sign-in blocked by policy after a good password (Conditional Access is
 * evaluated after primary authentication): 53000 device not compliant, 53001 not domain joined,
 * 53002 app not approved, 53003 blocked by Conditional Access, 53004 proof-up blocked due to
 * risk, 50005 device platform not supported by a Conditional Access policy, 50129 workplace join
 * required, 530032 blocked by a tenant security policy, 530035 blocked by security defaults;
 * and the app's own policy, after the user authenticated: 50105 user not assigned to the app (its
 * "assignment required"), 50155 device authentication failed (both among the codes community
 * Sentinel queries count as the right password).
 */
const POLICY_BLOCKS = new Set([53000, 53001, 53002, 53003, 53004, 50005, 50129, 530032, 530035, 50105, 50155]);
/**
 * Entra error codes of a single sign-on that failed with no password presented: Seamless SSO
 * (81004–81012: the device's Kerberos ticket missing, expired, invalid or of another user), or
 * a session or refresh token that was missing, expired or revoked (50058, 50089, 50132, 50133,
 * 50173, 70008, 70043, 70044, 700082). `sso_failed`: neither a failed guess nor an accepted password.
 */
const SSO_FAILED = new Set([81004, 81005, 81006, 81007, 81009, 81010, 81011, 81012, 50058, 50089, 50132, 50133, 50173, 70008, 70043, 70044, 700082]);
/** Entra error codes meaning a wrong password. */
const BAD_PASSWORD = new Set([50126, 50056]);
/** Entra error code of a locked account (smart lockout, or a source IP blocked): it refuses the right password too. */
const LOCKED_OUT = 50053;
/** Entra error code of a failed MFA (push denied or unanswered, wrong code). */
const MFA_FAILED = 500121;

/** The sign-in's outcome: `success` (0), `interrupted`, `blocked` (by policy), `sso_failed`, or `failure`. */
function outcomeOf(code: unknown): string | undefined {
  if (code === undefined || code === null) return undefined;
  const n = Number(code);
  if (n === 0) return 'success';
  return INTERRUPTS.has(n) ? 'interrupted' : POLICY_BLOCKS.has(n) ? 'blocked' : SSO_FAILED.has(n) ? 'sso_failed' : 'failure';
}

/**
 * True for a non-interactive sign-in (`isInteractive: false`, or the diagnostic export's
 * `NonInteractiveUserSignInLogs`): a client refreshing a token of an earlier sign-in, or SSO on a
 * joined device, with no factor from the user — unless it failed on a password (`bad_password`,
 * `locked_out`: a stored password tried, as Sentinel's password-spray rules count such failures).
 */
function nonInteractive(s: Record<string, unknown>, reason: string | undefined): boolean {
  if (s.isInteractive !== false && s.category !== 'NonInteractiveUserSignInLogs') return false;
  return reason !== 'bad_password' && reason !== 'locked_out';
}

/** The canonical `reason`: `bad_password`, `locked_out` or `blocked_by_policy` for the codes that say so. */
function reasonOf(n: number): string | undefined {
  if (n === LOCKED_OUT) return 'locked_out';
  return BAD_PASSWORD.has(n) ? 'bad_password' : POLICY_BLOCKS.has(n) ? 'blocked_by_policy' : undefined;
}

/** A failed MFA step in canonical words: the `mfa` outcome, and a `reason` where Entra gives one. */
interface MfaFailure {
  outcome: 'denied' | 'timeout' | 'duplicate';
  reason?: 'fraud_reported' | 'duplicate_attempt';
}

/**
 * What an MFA result text says: the same MFA request sent again (`duplicate`: no new prompt reached
 * the user), the prompt reported as fraud (`denied`, `fraud_reported`), no answer (`timeout`), a
 * refusal (`denied`); undefined when it says none of these.
 */
function mfaVerdict(text: string): MfaFailure | undefined {
  if (/duplicate authentication attempt/i.test(text)) return { outcome: 'duplicate', reason: 'duplicate_attempt' };
  if (/fraud/i.test(text)) return { outcome: 'denied', reason: 'fraud_reported' };
  if (/did not respond|no response|timed? ?out|not answered/i.test(text)) return { outcome: 'timeout' };
  return /denied|declined/i.test(text) ? { outcome: 'denied' } : undefined;
}

/** The sign-in's MFA steps that failed, in order. */
function failedSteps(s: Record<string, unknown>): unknown[] {
  const steps = Array.isArray(s.authenticationDetails) ? (s.authenticationDetails as unknown[]) : [];
  return steps.filter((d) => getPath(d, 'succeeded') === false);
}

/** A failed MFA (500121) as its final status says it, else as its failure reason and failed steps do; `denied` by default. */
function mfaFailure(s: Record<string, unknown>): MfaFailure {
  const status = getPath(s, 'status.additionalDetails');
  const rest = [getPath(s, 'status.failureReason'), ...failedSteps(s).map((d) => getPath(d, 'authenticationStepResultDetail'))].join(' ');
  return (typeof status === 'string' ? mfaVerdict(status) : undefined) ?? mfaVerdict(rest) ?? { outcome: 'denied' };
}

/** `push` for an app notification, else the method as Entra names it. */
function factorOf(method: unknown): string | undefined {
  if (typeof method !== 'string' || !method) return undefined;
  return /notification|push/i.test(method) ? 'push' : method;
}

/**
 * Microsoft Entra ID sign-in log (Graph `auditLogs/signIns`, or the diagnostic-settings export)
 * → canonical `login`; a non-interactive one → `session_refresh` (see {@link nonInteractive}). `status.errorCode` 0 is success; an interrupt (50074, 50076, … : MFA or a
 * prompt required after a good password) is `interrupted`; a Conditional Access or
 * security-policy block (53000–53004, 50005, 50129, 530032, 530035, an app not assigned 50105,
 * device authentication failed 50155: the password was right) is
 * `blocked` with `reason: blocked_by_policy`; a single sign-on that failed with no password
 * presented (Seamless SSO 81004–81012, an expired or revoked session or token) is `sso_failed`;
 * anything else failure (`reason: bad_password` for 50126 / 50056, `locked_out` for 50053).
 * 500121 (strong authentication failed) becomes an `mfa` event, `denied` or `timeout` (the user
 * did not respond) as its status (else its failed steps) says; a prompt reported as fraud is
 * `denied` with `reason: fraud_reported`; a duplicate authentication attempt (the same MFA request
 * again, no new prompt) is `duplicate`, which mfa_fatigue does not count. `mfaDetail` is kept as
 * `mfa` (`method`, `detail`) and `factor` (`push` for an app notification; without `mfaDetail`, a
 * failed MFA's factor is its failed step's method). The record's own fields
 * are kept as attributes (see {@link withSource}).
 */
export const entra: Profile = (obj) => {
  const s = signIn(obj);
  if (!s) return null;
  const code = getPath(s, 'status.errorCode');
  const lat = getPath(s, 'location.geoCoordinates.latitude');
  const lon = getPath(s, 'location.geoCoordinates.longitude');
  const sessionId = [s.sessionId, s.correlationId].find((v) => typeof v === 'string' && v.trim() !== '');
  const d = isPlainObject(s.deviceDetail) ? s.deviceDetail : {};
  const mfaFailed = Number(code) === MFA_FAILED;
  const method = getPath(s, 'mfaDetail.authMethod');
  const failure = mfaFailed ? mfaFailure(s) : undefined;
  // Without mfaDetail (Graph v1.0 has none), a failed MFA's factor is its failed step's method.
  const factorMethod = method ?? (mfaFailed ? getPath(failedSteps(s).at(-1), 'authenticationMethod') : undefined);
  const reason = failure ? failure.reason : reasonOf(Number(code));
  return withSource(s, {
    // A non-interactive sign-in uses the session of an earlier one: neither a guess nor a password that passed.
    type: mfaFailed ? 'mfa' : nonInteractive(s, reason) ? 'session_refresh' : 'login',
    id: s.id,
    user: s.userPrincipalName,
    time: s.createdDateTime,
    outcome: failure ? failure.outcome : outcomeOf(code),
    reason,
    factor: factorOf(factorMethod),
    mfa: { method, detail: getPath(s, 'mfaDetail.authDetail') },
    error_code: code,
    failure_reason: Number(code) === 0 ? undefined : getPath(s, 'status.failureReason'),
    ip: s.ipAddress,
    geo: vendorGeo(lat, lon, getPath(s, 'location.countryOrRegion'), getPath(s, 'location.city')),
    session: typeof sessionId === 'string' ? { id: sessionId, idp: 'entra' } : undefined,
    device: {
      id: d.deviceId,
      name: d.displayName,
      posture: { os: d.operatingSystem, browser: d.browser, compliant: d.isCompliant, managed: d.isManaged, trust_type: d.trustType },
    },
    app: s.appDisplayName,
    client_app: s.clientAppUsed,
    risk_level: s.riskLevelDuringSignIn,
    conditional_access: s.conditionalAccessStatus,
    interactive: s.isInteractive,
    vendor: 'entra',
  });
};
