import { getPath, isPlainObject, vendorGeo, withSource, type Profile } from './path.js';
import { countryCode } from '../../country-code.js';

/** Okta System Log event types that are logins: a sign-in to Okta, or an app reached with its session. */
export const OKTA_LOGIN_EVENTS: ReadonlySet<string> = new Set(['user.session.start', 'user.authentication.sso']);

/**
 * A user already signed in to Okta reaching an app with that session: no credential presented. A
 * canonical `session_refresh` (a use of the session, not a sign-in), unless refused (`access`).
 */
const SSO = 'user.authentication.sso';

/** An Okta Verify push sent (not yet answered). */
const PUSH_SENT = 'system.push.send_factor_verify_push';
/**
 * An Okta Verify push the user rejected, as Classic (v1 Authn API) logs it; Identity Engine logs
 * the same answer as `user.authentication.auth_via_mfa` FAILURE (`OV_RESPONSE_DENY`) instead.
 */
const PUSH_DENIED = 'user.mfa.okta_verify.deny_push';

/**
 * Okta System Log event types that are MFA verifications (→ canonical `mfa`). Not
 * `user.mfa.okta_verify.deny_push_upgrade_needed` (a push refused because Okta Verify must be
 * upgraded, not the user's answer) nor `user.mfa.attempt_bypass` (no push): they keep their name.
 */
export const OKTA_MFA_EVENTS: ReadonlySet<string> = new Set(['user.authentication.auth_via_mfa', PUSH_SENT, PUSH_DENIED]);

/**
 * True for Identity Engine's record of the password step: it logs the password as an
 * authenticator, a `user.authentication.auth_via_mfa` whose `debugData.factor` is
 * PASSWORD_AS_FACTOR (a wrong password: FAILURE, INVALID_CREDENTIALS, beside the sign-in's own
 * `user.session.start` FAILURE). No MFA: it keeps its Okta name, as the sign-in counts the attempt.
 */
function passwordStep(o: Record<string, unknown>, eventType: string): boolean {
  const factor = getPath(o, 'debugContext.debugData.factor');
  return eventType === 'user.authentication.auth_via_mfa' && typeof factor === 'string' && factor.toUpperCase() === 'PASSWORD_AS_FACTOR';
}

/** True when `obj` is shaped like an Okta System Log LogEvent. */
export function looksLikeOkta(obj: Record<string, unknown>): boolean {
  return typeof obj.eventType === 'string' && isPlainObject(obj.actor) && ('published' in obj || 'uuid' in obj);
}

/** Okta's failure reasons in canonical words (others lower-cased). */
const REASONS: Record<string, string> = { INVALID_CREDENTIALS: 'bad_password', LOCKED_OUT: 'locked_out' };

/**
 * The canonical failure reason. VERIFICATION_ERROR is a wrong factor (`bad_factor`) only on an MFA
 * event: on a sign-in it is about the user name (unknown, not in the mapped format) and stays
 * `verification_error`. INVALID_CREDENTIALS is a wrong password on a sign-in, but on an MFA event
 * a factor not verified (a denied push, a wrong code): `bad_factor` there, no password was tried.
 */
function reasonOf(o: Record<string, unknown>, mfa: boolean): string | undefined {
  const r = getPath(o, 'outcome.reason');
  if (typeof r !== 'string' || !r) return undefined;
  if (mfa && (r === 'VERIFICATION_ERROR' || r === 'INVALID_CREDENTIALS')) return 'bad_factor';
  return Object.hasOwn(REASONS, r) ? REASONS[r]! : r.toLowerCase().replace(/\s+/g, '_');
}

/** The display name of the event's `AppInstance` target (the app signed on to), if any. */
function appOf(o: Record<string, unknown>): unknown {
  if (!Array.isArray(o.target)) return undefined;
  for (const t of o.target as unknown[]) {
    if (isPlainObject(t) && t.type === 'AppInstance' && typeof t.displayName === 'string' && t.displayName.trim() !== '') return t.displayName;
  }
  return undefined;
}

/**
 * An MFA event's canonical outcome: `success`; `denied` (the user pressed "no": Okta logs a
 * FAILURE, `INVALID_CREDENTIALS`, push response `OV_RESPONSE_DENY` — or, on Classic, a
 * `deny_push`, whatever its result) or `timeout` (no answer: a FAILURE that says it timed out, or
 * the result UNANSWERED). For `system.push.send_factor_verify_push` a SUCCESS only means the push
 * was sent (`sent`), and a FAILURE that is no timeout that it could not be sent (`send_failed`):
 * neither is an answer, so mfa_fatigue counts neither.
 */
function mfaOutcome(o: Record<string, unknown>, eventType: string): string | undefined {
  if (eventType === PUSH_DENIED) return 'denied';
  const result = String(getPath(o, 'outcome.result') ?? '').toUpperCase();
  if (result === 'SUCCESS' || result === 'ALLOW') return eventType === PUSH_SENT ? 'sent' : 'success';
  // Okta's UNANSWERED: nobody answered the challenge — the contract's `timeout`.
  if (result === 'UNANSWERED') return 'timeout';
  if (result !== 'FAILURE' && result !== 'DENY') return result ? result.toLowerCase() : undefined;
  const debug = getPath(o, 'debugContext.debugData') as Record<string, unknown> | undefined;
  const hints = [getPath(o, 'outcome.reason'), debug?.pushOnlyResponseType, debug?.PushOnlyResponseType, debug?.factorResult].join(' ');
  if (/TIME_?OUT|TIMED OUT|EXPIRED|NO_?RESPONSE/i.test(hints)) return 'timeout';
  return eventType === PUSH_SENT ? 'send_failed' : 'denied';
}

/** The factor used: `push` for Okta Verify push, else Okta's factor name lower-cased. */
function factorOf(o: Record<string, unknown>, eventType: string): string | undefined {
  const f = getPath(o, 'debugContext.debugData.factor') ?? getPath(o, 'authenticationContext.credentialType');
  if (eventType === PUSH_SENT || eventType === PUSH_DENIED || (typeof f === 'string' && /PUSH/i.test(f))) return 'push';
  return typeof f === 'string' && f ? f.toLowerCase() : undefined;
}

/**
 * Okta System Log (`/api/v1/logs` LogEvent) → canonical event. `user.session.start` becomes `login`
 * (a FAILURE with `reason`, e.g. `bad_password`). A `user.authentication.sso` (a user already
 * signed in to Okta reaching an app, no credential presented) becomes `session_refresh` of the
 * Okta session with its outcome — except one whose result is FAILURE or DENY (an app refused:
 * sign-on policy, not assigned), an `access` event, outcome `denied`; both carry `app`, the target
 * AppInstance's name. MFA verifications (see {@link OKTA_MFA_EVENTS}; not Identity Engine's
 * password step, see {@link passwordStep}) become `mfa` with
 * outcome `success` / `denied` / `timeout` (or `sent` / `send_failed` for a push sent) and `factor`; other event types keep their Okta name (`user.account.lock`, …) as
 * `type`. `client.geographicalContext.country` is Okta's country
 * *name* (Okta gives no ISO code): it becomes the ISO code (src/country-code.ts), as every
 * other source gives it, so that countries compare. Okta's own fields are kept as attributes
 * (`debugContext`, `target`, …; see {@link withSource}); its `device` (a registered device) gives
 * `device.id` and `device.posture`.
 */
export const okta: Profile = (o) => {
  if (!looksLikeOkta(o)) return null;
  const eventType = o.eventType as string;
  const result = getPath(o, 'outcome.result');
  const upper = String(result).toUpperCase();
  // An app sign-on refused within an Okta session: no credential presented, not a failed login.
  // Only a refusal (FAILURE, DENY): no result, UNKNOWN or CHALLENGE say no app was refused.
  const ssoDenied = eventType === SSO && (upper === 'FAILURE' || upper === 'DENY');
  const login = !ssoDenied && OKTA_LOGIN_EVENTS.has(eventType);
  // Any other SSO uses the Okta session: brute_force and password_spray never take it for a password
  // that passed; session_hijack compares it with the session's sign-in.
  const loginType = eventType === SSO ? 'session_refresh' : 'login';
  const password = passwordStep(o, eventType);
  const mfa = !password && OKTA_MFA_EVENTS.has(eventType);
  const geo = getPath(o, 'client.geographicalContext') as Record<string, unknown> | undefined;
  const lat = getPath(geo, 'geolocation.lat');
  const lon = getPath(geo, 'geolocation.lon');
  const sessionId = getPath(o, 'authenticationContext.externalSessionId');
  const dev = isPlainObject(o.device) ? o.device : {};
  return withSource(o, {
    type: ssoDenied ? 'access' : login ? loginType : mfa ? 'mfa' : eventType,
    id: o.uuid,
    user: getPath(o, 'actor.alternateId') ?? getPath(o, 'actor.id'),
    time: o.published,
    outcome: ssoDenied ? 'denied' : mfa ? mfaOutcome(o, eventType) : result,
    outcome_reason: getPath(o, 'outcome.reason'),
    reason: (login || mfa || ssoDenied || password) && upper !== 'SUCCESS' ? reasonOf(o, mfa) : undefined,
    app: eventType === SSO ? appOf(o) : undefined,
    factor: mfa ? factorOf(o, eventType) : password ? 'password' : undefined,
    ip: getPath(o, 'client.ipAddress'),
    geo: vendorGeo(lat, lon, countryCode(geo?.country), geo?.city),
    session: typeof sessionId === 'string' && sessionId.trim() !== '' && sessionId !== 'unknown' ? { id: sessionId, idp: 'okta' } : undefined,
    // Okta's own `device` (a registered device: Okta Verify, FastPass): its id and posture.
    device: {
      id: dev.id,
      name: dev.name,
      type: getPath(o, 'client.device'),
      posture: {
        os: [dev.os_platform, dev.os_version].filter((v) => typeof v === 'string' && v).join(' '),
        managed: dev.managed,
        registered: dev.registered,
        disk_encryption: dev.disk_encryption_type,
        screen_lock: dev.screen_lock_type,
        jailbreak: dev.jailbreak,
        secure_hardware: dev.secure_hardware_present,
      },
    },
    network: {
      asn: getPath(o, 'securityContext.asNumber'),
      as_org: getPath(o, 'securityContext.asOrg'),
      isp: getPath(o, 'securityContext.isp'),
      proxy: getPath(o, 'securityContext.isProxy'),
    },
    user_agent: getPath(o, 'client.userAgent.rawUserAgent'),
    display_message: o.displayMessage,
    vendor: 'okta',
    event_type: eventType,
  });
};
