import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { HOUR, MIN, recentIso } from '../helpers/clock.js';

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
});
