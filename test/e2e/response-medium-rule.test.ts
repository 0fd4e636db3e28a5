/**
 * A `responses:` rule `when: {level: medium}` holds above its level (real worker, Redis, a loopback
 * SSF receiver): it revokes the user's sessions on every raise that ends at medium or above — low →
 * medium, low → high, and medium → high too (a session opened while the user was at medium is
 * revoked when the user reaches high, as a high rule would revoke it). A login made while the
 * user stays at the level, with no new raise, is not revoked by it (docs/interfaces.md `responses`).
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { criticalDetection, sessionLogin, workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

const h = workerHarness(
  'e2e-resp-medium',
  (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://rx.test', subject_format: 'email' }] }),
  {
    receiver: { audience: 'https://rx.test', issuer: 'https://riskstream.test' },
    behaviors: {
      dlp_detection: { risk_level: 'medium', expires_after: '24h' },
      endpoint_detection: { risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      responses: [{ when: { level: 'medium' }, revoke_sessions: true }],
    },
  },
);

/** The session ids of the session-revoked SETs received for sessions starting with `prefix`. */
const revokedIds = (prefix: string): string[] =>
  h.receiver.received
    .filter((s) => eventOf(s).type === SESSION_REVOKED)
    .map((s) => (s.claims.sub_id as { session: { id: string } }).session.id)
    .filter((id) => id.startsWith(prefix))
    .sort();

const sessionsOf = async (user: string): Promise<string[]> => {
  const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/sessions`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return ((await r.json()) as { sessions: Array<{ session_id: string }> }).sessions.map((s) => s.session_id).sort();
};

const levelOf = async (user: string): Promise<string | undefined> => {
  const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return r.status === 200 ? ((await r.json()) as { level: string }).level : undefined;
};

describe('responses: when {level: medium} (real worker, Redis, receiver)', () => {
  it('revokes on low → medium; a login while at medium stays; medium → high revokes it', async () => {
    const user = 'mia@example.com';
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(user, 'm-1'));
    await waitFor(async () => (await sessionsOf(user)).length === 1, { what: 'm-1 stored' });
    const dlp = JSON.stringify({ type: 'dlp', id: 'dlp-1', user, time: Date.now() - 1000, severity: 'high', profile: 'pii' });
    const dlpId = await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', dlp);
    await waitFor(() => revokedIds('m-').length === 1, { what: 'm-1 revoked at medium' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(await levelOf(user)).toBe('medium');

    // The user signs in again while at medium (after the revocation): no raise, the session stays.
    const after = Number(dlpId!.split('-')[0]) + 1;
    await waitFor(() => Date.now() > after, { what: 'the clock past the trigger' });
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(user, 'm-2', { time: Date.now() }));
    await waitFor(async () => (await sessionsOf(user)).includes('m-2'), { what: 'm-2 stored' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(revokedIds('m-')).toEqual(['m-1']);

    // Then a malware detection raises the user to high: the medium rule holds there too.
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
    await waitFor(() => revokedIds('m-').length === 2, { what: 'm-2 revoked at high' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(await levelOf(user)).toBe('high');
    expect(revokedIds('m-')).toEqual(['m-1', 'm-2']);
    expect(await sessionsOf(user)).toEqual([]);
  }, 60_000);

  it('revokes on low → high (the level skipped over)', async () => {
    const user = 'noah@example.com';
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(user, 'n-1'));
    await waitFor(async () => (await sessionsOf(user)).length === 1, { what: 'n-1 stored' });
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
    await waitFor(() => revokedIds('n-').length === 1, { what: 'n-1 revoked' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(revokedIds('n-')).toEqual(['n-1']);
    expect(await sessionsOf(user)).toEqual([]);
  }, 60_000);
});
