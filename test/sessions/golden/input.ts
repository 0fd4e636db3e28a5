import type { CanonicalEvent } from '../../../src/types.js';

/** Fixed logins of the golden test (redaction, a token session id, an expired one, two users). */
export const T = Date.UTC(2026, 10, 23, 8, 0, 0);
const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
export const JWT = `${b64({ alg: 'ES256', typ: 'JWT' })}.${b64({ sub: 'alice' })}.c2lnbmF0dXJl`;

function login(user: string, sid: string, device: string, t: number): CanonicalEvent {
  return {
    type: 'login',
    id: `evt-${sid}`,
    user,
    time: t,
    outcome: 'success',
    ip: '81.2.69.142',
    geo: { lat: 51.4679, lon: -0.1383, accuracy_km: 20, country: 'GB', city: 'London' },
    session: {
      id: sid,
      expires_at: t + 3_600_000,
      idp: 'okta',
      claims: { email: user, groups: ['eng'], ssn: '123', token_hint: JWT },
      amr: ['pwd', 'mfa'],
      note: `Bearer ${JWT}`,
      refresh_token: 'r',
    },
    device: { id: device, posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: true } },
    network: { asn: 2856, colo: 'LHR', via: 'warp', hop: 'edge.a.b' },
  };
}

export const EVENTS: CanonicalEvent[] = [
  login('alice@example.com', 's-1', 'd-9', T),
  login('alice@example.com', 's-2', 'd-9', T + 1000),
  login('bob', JWT, 'd-1', T + 2000),
  login('alice@example.com', 's-old', 'd-8', T - 7_200_000),
];
export const SETTINGS = { redact_claims: ['ssn'], default_lifetime: 43_200_000 };
export const PUT = { now: T + 5000, maxPerUser: 100, deviceRetention: 7_776_000_000 };
