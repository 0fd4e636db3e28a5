/**
 * What each vendor outcome means for the credential behaviors, code by code: a wrong guess (a
 * failed login), an accepted password (brute_force / password_spray's success), or neither (no
 * password was presented). Microsoft's AADSTS reference and Sentinel's password-spray rule
 * (its success codes: the password passed) are the sources for the Entra rows.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeObject } from '../../src/ingest/decode.js';
import { acceptedCredential, isCredentialLogin, isFailedLogin, isLogin, isSuccessfulLogin } from '../../src/login.js';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const decode = (o: unknown) => {
  const r = decodeObject(o, undefined);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
};

/** How the credential behaviors read an event: `guess`, `accepted:<how>`, `success` or `neither`. */
const reading = (e: Parameters<typeof isFailedLogin>[0] & { reason?: unknown }): string => {
  const accepted = acceptedCredential(e);
  if (accepted) return `accepted:${accepted}`;
  return isFailedLogin(e) ? 'guess' : isSuccessfulLogin(e) ? 'success' : 'neither';
};

describe('Entra status.errorCode → what the credential behaviors read', () => {
  const entra = (errorCode: number) => decode({ ...fixture('entra-signin-bad-password.json'), status: { errorCode, failureReason: 'x' } });

  it.each([
    // A wrong guess (Sentinel's failure codes), a lockout, a disabled or unknown account.
    [50126, 'failure', 'guess'],
    [50053, 'failure', 'guess'],
    [50056, 'failure', 'guess'],
    [50057, 'failure', 'guess'],
    [50034, 'failure', 'guess'],
    // The password passed, the sign-in was interrupted.
    [50074, 'interrupted', 'accepted:interrupted'],
    [50076, 'interrupted', 'accepted:interrupted'],
    [50158, 'interrupted', 'accepted:interrupted'],
    [50055, 'interrupted', 'accepted:interrupted'],
    [50144, 'interrupted', 'accepted:interrupted'], // on-premises password expired: it matched
    // The password passed, a policy blocked the sign-in.
    [53003, 'blocked', 'accepted:blocked'],
    [50005, 'blocked', 'accepted:blocked'], // device platform not supported by a Conditional Access policy
    [50129, 'blocked', 'accepted:blocked'], // workplace join required
    [530035, 'blocked', 'accepted:blocked'], // blocked by security defaults
    // The user authenticated, the app refused: not assigned to it, its device authentication failed.
    [50105, 'blocked', 'accepted:blocked'],
    [50155, 'blocked', 'accepted:blocked'],
    // No password presented: Seamless SSO (Kerberos) and session / refresh-token failures.
    [81010, 'sso_failed', 'neither'],
    [81012, 'sso_failed', 'neither'],
    [81006, 'sso_failed', 'neither'],
    [81004, 'sso_failed', 'neither'],
    [50058, 'sso_failed', 'neither'],
    [50173, 'sso_failed', 'neither'],
    [50133, 'sso_failed', 'neither'],
    [70043, 'sso_failed', 'neither'],
    [70044, 'sso_failed', 'neither'], // session expired by a Conditional Access sign-in frequency
    [700082, 'sso_failed', 'neither'],
    [0, 'success', 'success'],
  ])('%s → outcome %s, read as %s', (code, outcome, read) => {
    const e = entra(code);
    expect(e).toMatchObject({ type: 'login', outcome, error_code: code });
    expect(reading(e)).toBe(read);
  });
});

describe('Okta user.authentication.sso outcome.result → what the credential behaviors read', () => {
  const sso = (outcome: unknown) => {
    const raw = fixture('okta-session-start-failure.json');
    return decode({
      ...raw,
      eventType: 'user.authentication.sso',
      outcome,
      target: [{ id: '0oa1', type: 'AppInstance', alternateId: 'payroll', displayName: 'Payroll' }],
    });
  };

  it.each([
    [{ result: 'FAILURE', reason: 'Sign-on policy evaluation resulted in DENY' }, 'access', 'denied'],
    [{ result: 'DENY', reason: null }, 'access', 'denied'],
    // An app reached with the Okta session: a use of the session, no credential presented.
    [{ result: 'SUCCESS', reason: null }, 'session_refresh', 'success'],
    [{ result: 'ALLOW', reason: null }, 'session_refresh', 'success'],
    // No refusal: not an app denied.
    [{ result: 'UNKNOWN', reason: null }, 'session_refresh', 'unknown'],
    [{ result: 'CHALLENGE', reason: null }, 'session_refresh', 'challenge'],
    [undefined, 'session_refresh', undefined],
  ])('%j → %s %s', (outcome, type, canonical) => {
    const e = sso(outcome);
    expect(e.type).toBe(type);
    expect(e.outcome).toBe(canonical);
    expect(reading(e)).not.toBe('guess');
    // Neither a guess nor a password that passed: brute_force and password_spray read no SSO.
    expect(isCredentialLogin(e)).toBe(false);
  });
});

describe('CloudTrail ConsoleLogin → what the credential behaviors read', () => {
  it.each([
    ['cloudtrail-console-login-failure.json', 'failure', 'bad_password', 'guess'],
    // MFAUsed: Yes on a failure — the MFA code failed, the password had passed.
    ['cloudtrail-console-login-mfa-failure.json', 'interrupted', 'mfa_failed', 'accepted:interrupted'],
    ['cloudtrail-console-login.json', 'success', undefined, 'success'],
  ])('%s → outcome %s, reason %s, read as %s', (name, outcome, reason, read) => {
    const e = decode(fixture(name));
    expect(e).toMatchObject({ type: 'login', outcome });
    expect(e.reason).toBe(reason);
    expect(reading(e)).toBe(read);
  });
});

describe('a use of an earlier sign-in (Okta SSO, an Entra non-interactive sign-in) is a session refresh, no credential login', () => {
  it('Okta user.authentication.sso SUCCESS: session_refresh of the Okta session, with the app', () => {
    const e = decode(fixture('okta-sso.json'));
    expect(e).toMatchObject({
      type: 'session_refresh',
      outcome: 'success',
      user: 'alice.ng@example.com',
      app: 'Slack',
      session: { id: 'idxBager62CSveUkTxvgRtonA', idp: 'okta' },
      network: { asn: 2856 },
      geo: { country: 'GB', lat: 51.5164, lon: -0.093 },
    });
    expect(isLogin(e)).toBe(true); // still located, compared with the session, stored
    expect(isCredentialLogin(e)).toBe(false);
  });

  const entra = (errorCode: number, extra: Record<string, unknown> = {}) =>
    decode({ ...fixture('entra-signin-noninteractive.json'), status: { errorCode, failureReason: 'x' }, ...extra });

  it.each([
    // A refresh token redeemed, or one that needs MFA / is blocked by Conditional Access, or expired: no password.
    [0, 'success'],
    [50074, 'interrupted'],
    [50076, 'interrupted'],
    [50140, 'interrupted'],
    [53003, 'blocked'],
    [70043, 'sso_failed'],
  ])('non-interactive %s → session_refresh, outcome %s, no credential login', (code, outcome) => {
    const e = entra(code);
    expect(e).toMatchObject({ type: 'session_refresh', outcome, session: { id: '00a1b2c3-d4e5-4f60-8a7b-9c0d1e2f3a4b', idp: 'entra' }, interactive: false });
    expect(isCredentialLogin(e)).toBe(false);
    expect(acceptedCredential(e)).toBeUndefined();
  });

  it.each([
    [50126, 'bad_password'],
    [50053, 'locked_out'],
  ])('non-interactive %s (a stored password tried) stays a failed login: %s', (code, reason) => {
    const e = entra(code);
    expect(e).toMatchObject({ type: 'login', outcome: 'failure', reason });
    expect(reading(e)).toBe('guess');
  });

  it('the diagnostic export: category NonInteractiveUserSignInLogs, properties without isInteractive', () => {
    const { isInteractive: _, createdDateTime, ...properties } = fixture('entra-signin-noninteractive.json');
    const e = decode({ time: createdDateTime, category: 'NonInteractiveUserSignInLogs', operationName: 'Sign-in activity', properties });
    expect(e).toMatchObject({ type: 'session_refresh', outcome: 'success' });
    expect(isCredentialLogin(e)).toBe(false);
  });
});

describe('the failure `reason` says what the vendor said, the same words across vendors', () => {
  it.each([
    [50126, 'bad_password'],
    [50056, 'bad_password'],
    // Smart lockout refuses also the right password (or the source IP): a lockout, as Okta's LOCKED_OUT.
    [50053, 'locked_out'],
    [53003, 'blocked_by_policy'],
  ])('Entra %s → reason %s', (errorCode, reason) => {
    const e = decode({ ...fixture('entra-signin-bad-password.json'), status: { errorCode, failureReason: 'x' } });
    expect(e.reason).toBe(reason);
  });

  it.each([
    ['user.session.start', 'INVALID_CREDENTIALS', 'bad_password'],
    ['user.session.start', 'LOCKED_OUT', 'locked_out'],
    // On a sign-in Okta's VERIFICATION_ERROR is about the user name (unknown, not in the mapped
    // format): no factor was tried. Only on an MFA event is it a wrong factor.
    ['user.session.start', 'VERIFICATION_ERROR', 'verification_error'],
    ['user.authentication.auth_via_mfa', 'VERIFICATION_ERROR', 'bad_factor'],
    // Okta logs a denied push (or a wrong code) as INVALID_CREDENTIALS: no password was tried.
    ['user.authentication.auth_via_mfa', 'INVALID_CREDENTIALS', 'bad_factor'],
    ['user.mfa.okta_verify.deny_push', 'INVALID_CREDENTIALS', 'bad_factor'],
    // Names of Object's own members are reasons like any other (were Object / Object.prototype: dead-lettered).
    ['user.session.start', 'constructor', 'constructor'],
    ['user.session.start', '__proto__', '__proto__'],
  ])('Okta %s FAILURE %s → reason %s', (eventType, oktaReason, reason) => {
    const e = decode({ ...fixture('okta-session-start-failure.json'), eventType, outcome: { result: 'FAILURE', reason: oktaReason } });
    expect(e.reason).toBe(reason);
    expect(e.outcome).toBe(eventType === 'user.session.start' ? 'failure' : 'denied');
  });
});
