import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { decodeObject } from '../../src/ingest/decode.js';

/**
 * Which vendor records are one MFA push answered (canonical `mfa`, `denied` / `timeout`), and
 * which are not — so that mfa_fatigue counts every refused push once and nothing else.
 */
const fixture = (name: string): Record<string, unknown> => JSON.parse(readFileSync(new URL(`./fixtures/${name}`, import.meta.url), 'utf8'));
const decode = (o: unknown) => {
  const r = decodeObject(o, undefined);
  if (!r.ok) throw new Error(r.reason);
  return r.event;
};

const oie = fixture('okta-mfa-push-denied.json');
const classic = fixture('okta-deny-push-classic.json');
const sent = fixture('okta-push-timeout.json');
const entra = fixture('entra-mfa-denied.json');

describe('Okta push records → canonical mfa', () => {
  it.each<[string, Record<string, unknown>, Record<string, unknown>]>([
    // Identity Engine: the push answered "no" is auth_via_mfa FAILURE, INVALID_CREDENTIALS, OV_RESPONSE_DENY.
    ['OIE auth_via_mfa FAILURE (OV_RESPONSE_DENY)', oie, { type: 'mfa', outcome: 'denied', factor: 'push' }],
    // Classic (v1 Authn API): the same answer is user.mfa.okta_verify.deny_push, "User rejected Okta push verify".
    ['Classic deny_push FAILURE', classic, { type: 'mfa', outcome: 'denied', factor: 'push', event_type: 'user.mfa.okta_verify.deny_push' }],
    // The event is the rejection whatever result Okta gives it: never an approval.
    ['Classic deny_push SUCCESS', { ...classic, outcome: { result: 'SUCCESS', reason: null } }, { type: 'mfa', outcome: 'denied', factor: 'push' }],
    ['Classic deny_push DENY', { ...classic, outcome: { result: 'DENY', reason: null } }, { type: 'mfa', outcome: 'denied', factor: 'push' }],
    // A push sent is not an answer: it precedes the deny or approve of the same push.
    ['push sent (SUCCESS)', { ...sent, outcome: { result: 'SUCCESS', reason: null } }, { type: 'mfa', outcome: 'sent', factor: 'push' }],
    // A push Okta could not send reached nobody: no one refused it.
    [
      'push not sent (FAILURE, no timeout)',
      { ...sent, outcome: { result: 'FAILURE', reason: 'Push notification could not be delivered' } },
      { type: 'mfa', outcome: 'send_failed', factor: 'push' },
    ],
    ['push timed out', sent, { type: 'mfa', outcome: 'timeout', factor: 'push' }],
  ])('%s', (_name, raw, expected) => {
    expect(decode(raw)).toMatchObject(expected);
  });

  it.each([
    // Okta Verify refused the push itself (the app must be upgraded): the user answered nothing.
    'user.mfa.okta_verify.deny_push_upgrade_needed',
    // An MFA enrollment after the session expired: no push at all.
    'user.mfa.attempt_bypass',
  ])('%s keeps its own type: no MFA push answered', (eventType) => {
    const e = decode({ ...classic, eventType });
    expect(e.type).toBe(eventType);
  });

  it("Identity Engine's password step (auth_via_mfa, factor PASSWORD_AS_FACTOR) is no MFA: a wrong password, counted by its user.session.start", () => {
    const step = fixture('okta-password-step-failure.json');
    const e = decode(step);
    expect(e).toMatchObject({ type: 'user.authentication.auth_via_mfa', outcome: 'failure', reason: 'bad_password', factor: 'password' });
    // The same request's user.session.start FAILURE is the one failed login (no double count).
    expect(decode({ ...step, eventType: 'user.session.start' })).toMatchObject({ type: 'login', outcome: 'failure', reason: 'bad_password' });
    expect(decode({ ...step, outcome: { result: 'SUCCESS', reason: null } })).toMatchObject({ type: 'user.authentication.auth_via_mfa', outcome: 'success' });
    // Any other factor on the same event type is an MFA verification.
    const totp = { ...step, debugContext: { debugData: { factor: 'OKTA_VERIFY_TOTP' } } };
    expect(decode(totp)).toMatchObject({ type: 'mfa', outcome: 'denied', reason: 'bad_factor', factor: 'okta_verify_totp' });
  });
});

describe('Entra 500121 → canonical mfa', () => {
  const withDetails = (additionalDetails: string, step = additionalDetails) => ({
    ...entra,
    status: { errorCode: 500121, failureReason: 'Authentication failed during strong authentication request.', additionalDetails },
    authenticationDetails: [
      (entra.authenticationDetails as unknown[])[0],
      {
        authenticationStepDateTime: '2026-11-23T08:06:00Z',
        authenticationMethod: 'Mobile app notification',
        succeeded: false,
        authenticationStepResultDetail: step,
      },
    ],
  });

  it.each<[string, Record<string, unknown>]>([
    ['MFA denied; user declined the authentication', { outcome: 'denied', factor: 'push' }],
    ['MFA denied; user did not respond to mobile app notification', { outcome: 'timeout', factor: 'push' }],
    // The user reported the prompt as fraud: a refusal, with its own evidence.
    ['MFA denied; Phone App Reported Fraud', { outcome: 'denied', factor: 'push', reason: 'fraud_reported' }],
    ['MFA denied; Fraud Code Entered', { outcome: 'denied', reason: 'fraud_reported' }],
    // The client sent the same MFA request again: no new prompt reached the user.
    ['MFA denied; duplicate authentication attempt', { outcome: 'duplicate', reason: 'duplicate_attempt' }],
  ])('%s', (details, expected) => {
    expect(decode(withDetails(details))).toMatchObject({ type: 'mfa', error_code: 500121, ...expected });
  });

  it("the sign-in's final status wins over an earlier step's text", () => {
    const e = decode(withDetails('MFA denied; user declined the authentication', 'MFA denied; user did not respond to mobile app notification'));
    expect(e).toMatchObject({ type: 'mfa', outcome: 'denied' });
  });

  it('without mfaDetail, the factor is the failed step’s method (a wrong SMS code is no push)', () => {
    const { mfaDetail: _m, ...raw } = entra;
    const sms = {
      ...raw,
      status: { errorCode: 500121, additionalDetails: 'MFA denied; invalid verification code' },
      authenticationDetails: [
        (entra.authenticationDetails as unknown[])[0],
        { authenticationMethod: 'Text message', succeeded: false, authenticationStepResultDetail: 'MFA denied; invalid verification code' },
      ],
    };
    expect(decode(sms)).toMatchObject({ type: 'mfa', outcome: 'denied', factor: 'Text message' });
    const push = { ...raw, authenticationDetails: (entra.authenticationDetails as unknown[]).slice() };
    expect(decode(push)).toMatchObject({ type: 'mfa', outcome: 'denied', factor: 'push' });
  });
});
