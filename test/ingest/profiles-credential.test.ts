import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeObject } from '../../src/ingest/decode.js';
import { isCredentialAccepted, isFailedLogin, isSuccessfulLogin } from '../../src/login.js';

const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const decode = (o: unknown) => {
  const r = decodeObject(o, undefined);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
};
const at = (iso: string) => Date.parse(iso);

describe('mapping profiles feed the credential behaviors (issue 18)', () => {
  it('Okta user.session.start FAILURE → a failed login with reason and source ip', () => {
    const e = decode(fixture('okta-session-start-failure.json'));
    expect(e).toMatchObject({
      type: 'login',
      user: 'alice.ng@example.com',
      outcome: 'failure',
      reason: 'bad_password',
      ip: '203.0.113.9',
      time: at('2026-11-23T08:01:00Z'),
    });
    expect(e.session).toBeUndefined(); // "unknown" session ids are not sessions
    expect(isSuccessfulLogin(e)).toBe(false);
  });

  it('Okta user.authentication.sso FAILURE (app sign-on policy, app not assigned) → access denied to the app, no failed login', () => {
    const raw = fixture('okta-session-start-failure.json');
    const sso = {
      ...raw,
      eventType: 'user.authentication.sso',
      displayMessage: 'User single sign on to app',
      outcome: { result: 'FAILURE', reason: 'Sign-on policy evaluation resulted in DENY' },
      authenticationContext: { ...(raw.authenticationContext as object), externalSessionId: '102abcSess' },
      target: [
        { id: '0oa1gjh63g214q0Hq0g4', type: 'AppInstance', alternateId: 'Payroll', displayName: 'Payroll (SAML)', detailEntry: null },
        { id: '0ua1gjh63g214q0Hq0g5', type: 'AppUser', alternateId: 'alice', displayName: 'Alice Ng', detailEntry: null },
      ],
    };
    const e = decode(sso);
    expect(e).toMatchObject({
      type: 'access',
      outcome: 'denied',
      app: 'Payroll (SAML)',
      user: 'alice.ng@example.com',
      ip: '203.0.113.9',
      time: at('2026-11-23T08:01:00Z'),
      session: { id: '102abcSess', idp: 'okta' },
      geo: { country: 'GB', city: 'London' },
      event_type: 'user.authentication.sso',
      outcome_reason: 'Sign-on policy evaluation resulted in DENY',
    });
    expect(isFailedLogin(e)).toBe(false);
    expect(isCredentialAccepted(e)).toBe(false);
    // DENY too; without an AppInstance target, no app.
    const deny = decode({ ...sso, outcome: { result: 'DENY', reason: null }, target: [{ type: 'AppUser', displayName: 'x' }] });
    expect(deny).toMatchObject({ type: 'access', outcome: 'denied' });
    expect(deny.app).toBeUndefined();
    // A successful SSO is a use of the Okta session (no credential presented): a session refresh.
    expect(decode({ ...sso, outcome: { result: 'SUCCESS', reason: null } })).toMatchObject({
      type: 'session_refresh',
      outcome: 'success',
      app: 'Payroll (SAML)',
    });
    expect(decode({ ...sso, outcome: { result: 'ALLOW', reason: null } })).toMatchObject({ type: 'session_refresh', outcome: 'success' });
  });

  it('Okta auth_via_mfa push denied → mfa denied (push); a SUCCESS → mfa success', () => {
    const raw = fixture('okta-mfa-push-denied.json');
    expect(decode(raw)).toMatchObject({
      type: 'mfa',
      outcome: 'denied',
      factor: 'push',
      user: 'alice.ng@example.com',
      ip: '81.2.69.142',
      event_type: 'user.authentication.auth_via_mfa',
    });
    const ok = decode({
      ...raw,
      outcome: { result: 'SUCCESS', reason: null },
      debugContext: { debugData: { factor: 'OKTA_VERIFY_PUSH', pushOnlyResponseType: 'OV_RESPONSE_ACCEPT' } },
    });
    expect(ok).toMatchObject({ type: 'mfa', outcome: 'success', factor: 'push' });
    expect(ok.reason).toBeUndefined();
  });

  it('Okta system.push.send_factor_verify_push: a timed-out push → mfa timeout; a sent push is only `sent`', () => {
    const raw = fixture('okta-push-timeout.json');
    expect(decode(raw)).toMatchObject({ type: 'mfa', outcome: 'timeout', factor: 'push' });
    expect(decode({ ...raw, outcome: { result: 'SUCCESS', reason: null } })).toMatchObject({ type: 'mfa', outcome: 'sent', factor: 'push' });
  });

  it('Okta MFA with outcome.result UNANSWERED (nobody answered) → mfa timeout, as the contract names no answer', () => {
    for (const fixtureName of ['okta-mfa-push-denied.json', 'okta-push-timeout.json']) {
      const raw = fixture(fixtureName);
      expect(decode({ ...raw, outcome: { result: 'UNANSWERED', reason: null } })).toMatchObject({ type: 'mfa', outcome: 'timeout', factor: 'push' });
    }
  });

  it('Entra status.errorCode 50126 → failed login (bad_password); an MFA interrupt (50074) is not a failure', () => {
    expect(decode(fixture('entra-signin-bad-password.json'))).toMatchObject({
      type: 'login',
      outcome: 'failure',
      reason: 'bad_password',
      error_code: 50126,
      ip: '203.0.113.9',
      user: 'testaccount1@contoso.com',
    });
    const interrupt = decode(fixture('entra-signin-mfa-required.json'));
    expect(interrupt).toMatchObject({ type: 'login', outcome: 'interrupted', error_code: 50074 });
    expect(isSuccessfulLogin(interrupt)).toBe(false);
    expect(isCredentialAccepted(interrupt)).toBe(true);
  });

  it.each([
    [53003, 'Access has been blocked by Conditional Access policies.'],
    [53000, 'Device is not in required device state: compliant.'],
    [53001, 'Device is not in required device state: domain joined.'],
    [53002, 'Application used is not an approved application.'],
    [53004, 'Proof up is blocked due to risk.'],
    [530032, 'User blocked due to risk on home tenant.'],
  ])(
    'Entra %s (Conditional Access / security policy, after a good password) → blocked, blocked_by_policy: an accepted password',
    (errorCode, failureReason) => {
      const raw = {
        ...fixture('entra-signin-bad-password.json'),
        status: { errorCode, failureReason, additionalDetails: null },
        conditionalAccessStatus: 'failure',
      };
      const e = decode(raw);
      expect(e).toMatchObject({ type: 'login', outcome: 'blocked', reason: 'blocked_by_policy', error_code: errorCode, failure_reason: failureReason });
      expect(isCredentialAccepted(e)).toBe(true);
      expect(isFailedLogin(e)).toBe(false);
      expect(isSuccessfulLogin(e)).toBe(false);
      // The diagnostic-settings export (properties of a SignInLogs record) maps the same.
      const { createdDateTime, ...props } = raw as Record<string, unknown>;
      expect(decode({ time: createdDateTime, category: 'SignInLogs', properties: props })).toMatchObject({ outcome: 'blocked', reason: 'blocked_by_policy' });
    },
  );

  it('Entra: other failures stay failures (a code near the CA ones is no block)', () => {
    for (const errorCode of [53005, 50126, 50057]) {
      const e = decode({ ...fixture('entra-signin-bad-password.json'), status: { errorCode, failureReason: 'x' } });
      expect(e.outcome).toBe('failure');
      expect(isCredentialAccepted(e)).toBe(false);
    }
  });

  it('Entra 500121 with a declined app notification → mfa denied (push), with the MFA details', () => {
    const raw = fixture('entra-mfa-denied.json');
    expect(decode(raw)).toMatchObject({ type: 'mfa', outcome: 'denied', factor: 'push', mfa: { method: 'Mobile app notification' }, error_code: 500121 });
    const timeout = { ...raw, status: { errorCode: 500121, additionalDetails: 'MFA denied; user did not respond to mobile app notification' } };
    expect(decode(timeout)).toMatchObject({ type: 'mfa', outcome: 'timeout' });
    // A successful sign-in keeps its MFA details.
    const ok = decode({ ...fixture('entra-signin.json'), mfaDetail: { authMethod: 'Mobile app notification', authDetail: null } });
    expect(ok).toMatchObject({ type: 'login', outcome: 'success', factor: 'push', mfa: { method: 'Mobile app notification' } });
  });

  it('CloudTrail ConsoleLogin Failure → failed login (bad_password) from its source ip', () => {
    expect(decode(fixture('cloudtrail-console-login-failure.json'))).toMatchObject({
      type: 'login',
      user: 'JohnDoe',
      outcome: 'failure',
      reason: 'bad_password',
      ip: '203.0.113.9',
      mfa: false,
      time: at('2026-11-23T08:07:00Z'),
    });
  });
});
