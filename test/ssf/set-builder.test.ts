import { describe, expect, it } from 'vitest';
import { buildLevelChangeSet, buildSessionRevokedSet, buildVerificationSet, userSubject, type SetEnvelope } from '../../src/ssf/set-builder.js';
import { change, testReceiver } from './helpers.js';
import type { SigningAlg } from '../../src/types.js';

// Frozen clock: 2026-11-23T08:00:05.999Z.
const NOW = 1_795_420_805_999;
const ISS = 'https://riskstream.example.com';
const ssf = testReceiver('acme', 'https://acme.example.net/ssf', { audience: 'https://acme.example.net' });
const okta = testReceiver('okta', 'https://org.okta.com/security/api/v1/security-events', { kind: 'okta', audience: 'https://org.okta.com' });

function env(receiver = ssf, alg: SigningAlg = 'ES256'): SetEnvelope {
  return { issuer: ISS, receiver, key: { alg, kid: 'kid-1' }, now: NOW, jti: 'jti-1' };
}

const HIGH = change('alice@example.com', 7, 'low', 'high', {
  id: 'chg-7',
  behaviors: ['impossible_travel', 'dlp_detection'],
  reason: 'impossible travel London → Sydney',
  time: 1_795_420_800_123,
});

describe('set-builder (known answers)', () => {
  it('CAEP risk-level-change for kind ssf', () => {
    expect(buildLevelChangeSet({ ...env(), change: HIGH })).toEqual({
      header: { alg: 'ES256', typ: 'secevent+jwt', kid: 'kid-1' },
      claims: {
        iss: ISS,
        aud: 'https://acme.example.net',
        iat: 1_795_420_805,
        jti: 'jti-1',
        sub_id: { format: 'email', email: 'alice@example.com' },
        txn: 'chg-7',
        events: {
          'https://schemas.openid.net/secevent/caep/event-type/risk-level-change': {
            principal: 'USER',
            current_level: 'HIGH',
            previous_level: 'LOW',
            risk_reason: 'impossible_travel, dlp_detection',
            event_timestamp: 1_795_420_800,
            initiating_entity: 'system',
            reason_admin: { en: 'impossible travel London → Sydney' },
          },
        },
      },
    });
  });

  it('Okta user-risk-change: lower-case levels, subject inside the event, reason_user when given', () => {
    const reset = { ...HIGH, previous: 'high' as const, current: 'low' as const, behaviors: [], initiatingEntity: 'admin' as const, reason: 'reset by admin' };
    expect(buildLevelChangeSet({ ...env(okta, 'RS256'), change: reset, reasonUser: { en: 'Your risk was reset' } })).toEqual({
      header: { alg: 'RS256', typ: 'secevent+jwt', kid: 'kid-1' },
      claims: {
        iss: ISS,
        aud: 'https://org.okta.com',
        iat: 1_795_420_805,
        jti: 'jti-1',
        sub_id: { format: 'email', email: 'alice@example.com' },
        txn: 'chg-7',
        events: {
          'https://schemas.okta.com/secevent/okta/event-type/user-risk-change': {
            current_level: 'low',
            previous_level: 'high',
            event_timestamp: 1_795_420_800,
            initiating_entity: 'admin',
            reason_admin: { en: 'reset by admin' },
            reason_user: { en: 'Your risk was reset' },
            subject: { user: { format: 'email', email: 'alice@example.com' } },
          },
        },
      },
    });
  });

  it('risk_reason falls back to the reason when no behavior is active', () => {
    const low = { ...HIGH, previous: 'high' as const, current: 'low' as const, behaviors: [], reason: 'behaviors expired' };
    const built = buildLevelChangeSet({ ...env(), change: low });
    const ev = built.claims.events['https://schemas.openid.net/secevent/caep/event-type/risk-level-change'];
    expect(ev).toMatchObject({ current_level: 'LOW', previous_level: 'HIGH', risk_reason: 'behaviors expired' });
    expect(ev).not.toHaveProperty('reason_user');
  });

  it('sub_id follows the receiver subject_format (RFC 9493)', () => {
    expect(userSubject('u-42', { ...ssf, subject_format: 'opaque' })).toEqual({ format: 'opaque', id: 'u-42' });
    expect(userSubject('u-42', { ...ssf, subject_format: 'iss_sub' })).toEqual({ format: 'iss_sub', iss: 'https://acme.example.net', sub: 'u-42' });
    expect(userSubject('u-42', { ...ssf, subject_format: 'iss_sub', subject_issuer: 'https://idp.example.com' })).toEqual({
      format: 'iss_sub',
      iss: 'https://idp.example.com',
      sub: 'u-42',
    });
    // email: an address as it is; a user that is not one (an opaque id) is never sent as an email.
    expect(userSubject('alice@example.com', { ...ssf, subject_format: 'email' })).toEqual({ format: 'email', email: 'alice@example.com' });
    expect(userSubject('00u1abcd', { ...ssf, subject_format: 'email' })).toEqual({ format: 'opaque', id: '00u1abcd' });
    expect(userSubject('00u1abcd', { ...ssf, kind: 'okta', subject_format: 'email' })).toEqual({ format: 'opaque', id: '00u1abcd' });
  });

  it('CAEP session-revoked with a complex {user, session} subject', () => {
    const revoked = {
      id: 'rev-1',
      user: 'alice@example.com',
      sessionId: 's-123',
      reason: 'revoked by admin',
      initiatingEntity: 'admin' as const,
      time: 1_795_420_801_000,
    };
    expect(buildSessionRevokedSet({ ...env(), revoked })).toEqual({
      header: { alg: 'ES256', typ: 'secevent+jwt', kid: 'kid-1' },
      claims: {
        iss: ISS,
        aud: 'https://acme.example.net',
        iat: 1_795_420_805,
        jti: 'jti-1',
        sub_id: { format: 'complex', user: { format: 'email', email: 'alice@example.com' }, session: { format: 'opaque', id: 's-123' } },
        txn: 'rev-1',
        events: {
          'https://schemas.openid.net/secevent/caep/event-type/session-revoked': {
            event_timestamp: 1_795_420_801,
            initiating_entity: 'admin',
            reason_admin: { en: 'revoked by admin' },
          },
        },
      },
    });
    const forOkta = buildSessionRevokedSet({ ...env(okta, 'RS256'), revoked: { ...revoked, sessionId: undefined } });
    expect(forOkta.claims.sub_id).toEqual({ format: 'email', email: 'alice@example.com' });
    expect(forOkta.claims.events['https://schemas.openid.net/secevent/caep/event-type/session-revoked']).toMatchObject({
      subject: { user: { format: 'email', email: 'alice@example.com' } },
    });
  });

  it("Okta's in-event subject of a session-revoked names the user only, as its SecurityEventSubject schema has it (user, device, tenant)", () => {
    const revoked = { id: 'rev-2', user: 'alice@example.com', sessionId: 's-9', reason: 'r', initiatingEntity: 'admin' as const, time: 1_795_420_801_000 };
    const set = buildSessionRevokedSet({ ...env(okta, 'RS256'), revoked });
    // The session stays in the top-level complex subject; inside the event Okta reads the user.
    expect(set.claims.sub_id).toEqual({ format: 'complex', user: { format: 'email', email: 'alice@example.com' }, session: { format: 'opaque', id: 's-9' } });
    expect((set.claims.events['https://schemas.openid.net/secevent/caep/event-type/session-revoked'] as { subject: unknown }).subject).toEqual({
      user: { format: 'email', email: 'alice@example.com' },
    });
  });

  it('SSF verification echoes state; subject is the stream', () => {
    expect(buildVerificationSet({ ...env(), state: 'abc' })).toEqual({
      header: { alg: 'ES256', typ: 'secevent+jwt', kid: 'kid-1' },
      claims: {
        iss: ISS,
        aud: 'https://acme.example.net',
        iat: 1_795_420_805,
        jti: 'jti-1',
        sub_id: { format: 'opaque', id: 'acme' },
        events: { 'https://schemas.openid.net/secevent/ssf/event-type/verification': { state: 'abc' } },
      },
    });
  });

  it('is pure: the same input gives the same output', () => {
    expect(JSON.stringify(buildLevelChangeSet({ ...env(), change: HIGH }))).toBe(JSON.stringify(buildLevelChangeSet({ ...env(), change: HIGH })));
  });
});
