import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { HOUR, MIN, recent, recentIso } from '../helpers/clock.js';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const USER = 'carol@example.com';

const h = workerHarness(
  'e2e-resp-level',
  (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://rx.test', subject_format: 'email' }] }),
  {
    receiver: { audience: 'https://rx.test', issuer: 'https://riskstream.test' },
    behaviors: {
      impossible_travel: { risk_level: 'high', expires_after: '24h' },
      dlp_detection: { risk_level: 'medium', expires_after: '24h' },
      endpoint_detection: { risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      responses: [{ when: { level: 'high' }, revoke_sessions: true }],
    },
  },
);

const login = (id: string, session: string, at: number, geo: Record<string, unknown>, ip: string): string =>
  JSON.stringify({
    type: 'login',
    id,
    user: USER,
    time: recentIso(at),
    outcome: 'success',
    ip,
    geo,
    session: { id: session, expires_at: new Date(Date.now() + 12 * HOUR).toISOString() },
    device: { id: 'd-1' },
  });

describe('responses: when {level: high} (real worker, Redis, receiver)', () => {
  it('medium revokes nothing; reaching HIGH revokes every session of the user once (actor policy)', async () => {
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('l-1', 'c-1', 0, { lat: 51.5, lon: -0.12, country: 'GB' }, '81.2.69.142'));
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'event',
      JSON.stringify({ type: 'dlp', id: 'd-1', user: USER, time: recentIso(MIN), severity: 'high', profile: 'pii' }),
    );
    await waitFor(() => h.receiver.received.some((s) => eventOf(s).body.current_level === 'MEDIUM'), { what: 'MEDIUM' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [USER] });
    expect(h.receiver.received.filter((s) => eventOf(s).type === SESSION_REVOKED)).toEqual([]);

    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('l-2', 'c-2', 2 * HOUR, { lat: -33.87, lon: 151.21, country: 'AU' }, '1.128.0.1'));
    await waitFor(() => h.receiver.received.filter((s) => eventOf(s).type === SESSION_REVOKED).length >= 2, { what: 'two session-revoked SETs' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [USER] });
    const revoked = h.receiver.received.filter((s) => eventOf(s).type === SESSION_REVOKED);
    expect(revoked.map((s) => (s.claims.sub_id as { session: { id: string } }).session.id).sort()).toEqual(['c-1', 'c-2']);
    expect(revoked.every((s) => s.verified && eventOf(s).body.initiating_entity === 'policy')).toBe(true);
    const res = await fetch(`${h.worker.url}/v1/audit?action=session.revoked`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
    const audit = (await res.json()) as { entries: Array<{ actor: string; details: { reason: string } }> };
    expect(audit.entries.map((e) => e.actor)).toEqual(['policy', 'policy']);
    expect(audit.entries[0]!.details.reason).toMatch(/^policy: level high/);
  }, 60_000);

  it('a login earlier than the trigger’s arrival but delivered after its revocation (shipper lag) is revoked too; a later one stays', async () => {
    const user = 'dave@example.com';
    const daveLogin = (session: string, at: number | 'now'): string =>
      JSON.stringify({
        type: 'login',
        id: `l-${session}`,
        user,
        time: at === 'now' ? new Date().toISOString() : recentIso(at),
        outcome: 'success',
        ip: '81.2.69.142',
        session: { id: session },
      });
    const revokedIds = (): string[] =>
      h.receiver.received
        .filter((s) => eventOf(s).type === SESSION_REVOKED)
        .map((s) => (s.claims.sub_id as { session: { id: string } }).session.id)
        .filter((id) => id.startsWith('d-'));
    const get = async <T>(path: string): Promise<T> =>
      (await (await fetch(`${h.worker.url}${path}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } })).json()) as T;
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', daveLogin('d-1', 0));
    await waitFor(async () => (await get<{ sessions: unknown[] }>(`/v1/users/${user}/sessions`)).sessions.length === 1, { what: 'd-1 stored' });
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user, { time: recent(3 * HOUR) }));
    await waitFor(() => revokedIds().includes('d-1'), { what: 'd-1 revoked' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });

    // Dave logs in again after the revocation (after the detection arrived); the IdP's lagging logs
    // then bring a login before the detection, and one after it but before the detection arrived
    // (the EDR's feed lagging too): both would have been revoked, had they arrived in time.
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', daveLogin('d-after', 'now'));
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', daveLogin('d-late', 2 * HOUR));
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', daveLogin('d-lagging', 4 * HOUR));
    await waitFor(() => revokedIds().includes('d-late') && revokedIds().includes('d-lagging'), { what: 'd-late and d-lagging revoked' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(revokedIds().sort()).toEqual(['d-1', 'd-lagging', 'd-late']);
    const late = h.receiver.received.find(
      (s) => eventOf(s).type === SESSION_REVOKED && (s.claims.sub_id as { session: { id: string } }).session.id === 'd-late',
    )!;
    expect(late.verified && eventOf(late).body.initiating_entity === 'policy').toBe(true);
    const audit = await get<{ entries: Array<{ actor: string; target: string }> }>('/v1/audit?action=session.revoked');
    expect(audit.entries.find((e) => e.target === 'd-late')?.actor).toBe('policy');
    const mine = await get<{ sessions: Array<{ session_id: string }> }>(`/v1/users/${user}/sessions`);
    expect(mine.sessions.map((x) => x.session_id)).toEqual(['d-after']);
    const all = await get<{ sessions: Array<{ session_id: string }> }>('/v1/sessions?limit=500');
    expect(all.sessions.map((x) => x.session_id)).not.toContain('d-late');
  }, 60_000);
});
