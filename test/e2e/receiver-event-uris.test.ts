/**
 * CONTRACT §3 `receivers[].events` written with the event types' URIs — the only names CONTRACT §4
 * gives them — as an outside tester would: the worker starts, and each receiver gets the events
 * it lists and no other (real worker, Redis, a loopback SSF receiver).
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { criticalDetection, sessionLogin, storedSession, workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';

const RISK_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

const h = workerHarness(
  'e2e-rx-event-uris',
  (url) => ({
    receivers: [
      { name: 'rev', kind: 'ssf', endpoint: `${url}/rev`, audience: 'https://rev.test', events: [SESSION_REVOKED] },
      { name: 'lvl', kind: 'ssf', endpoint: `${url}/lvl`, audience: 'https://lvl.test', events: [RISK_CHANGE] },
    ],
  }),
  {
    receiver: { issuer: 'https://riskstream.test' },
    behaviors: {
      endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      responses: [{ when: { level: 'high' }, revoke_sessions: true }],
    },
  },
);

const typesAt = (path: string): string[] => h.receiver.received.filter((s) => s.path === path).map((s) => eventOf(s).type);

describe('receivers[].events given as event-type URIs', () => {
  it('a receiver listing the session-revoked URI gets only session-revoked SETs; one listing the risk-level-change URI only level changes', async () => {
    const user = 'uri@example.com';
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(user, 'uri-1'));
    await storedSession(h.worker.url, h.cfg.adminToken, 'uri-1');
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
    await waitFor(() => typesAt('/rev').length === 1 && typesAt('/lvl').length === 1, { what: 'one SET at each receiver' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(typesAt('/rev')).toEqual([SESSION_REVOKED]);
    expect(typesAt('/lvl')).toEqual([RISK_CHANGE]);
    expect(h.receiver.received.every((s) => s.verified)).toBe(true);
  }, 60_000);
});
