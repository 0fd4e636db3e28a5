/**
 * An admin's revoke-all of a user's sessions (`DELETE /v1/users/{user}/sessions`) and a session
 * login the IdP's shipper delivers late (real worker process, Redis, a loopback SSF receiver; no
 * `responses:` rule): the login is earlier in event time than the revoke, but applied after it. It
 * is revoked on its own — one session-revoked SET, one `session.revoked` audit entry whose actor is
 * the admin — and a login after the revoke stays.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { MIN } from '../helpers/clock.js';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const USER = 'erin@example.com';

const h = workerHarness(
  'e2e-revoke-all-late',
  (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://rx.test', subject_format: 'email' }] }),
  { receiver: { audience: 'https://rx.test', issuer: 'https://riskstream.test' } },
);

const login = (session: string, time: number, user = USER): string =>
  JSON.stringify({
    type: 'login',
    id: `l-${session}`,
    user,
    time: new Date(time).toISOString(),
    outcome: 'success',
    ip: '81.2.69.142',
    session: { id: session },
  });

const api = async <T>(path: string, method = 'GET'): Promise<{ status: number; body: T }> => {
  const r = await fetch(`${h.worker.url}${path}`, { method, headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return { status: r.status, body: (await r.json()) as T };
};

/** The session ids of the session-revoked SETs received (verified), with their initiating entity. */
const revokedSets = (): string[] =>
  h.receiver.received
    .filter((s) => eventOf(s).type === SESSION_REVOKED)
    .map((s) => `${(s.claims.sub_id as { session: { id: string } }).session.id} ${s.verified ? eventOf(s).body.initiating_entity : 'unverified'}`);

describe('an admin revoke-all of a user (real worker, Redis, receiver)', () => {
  it('revokes a session login applied after it though earlier in event time, once, audited with the admin; a later login stays', async () => {
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('e-1', Date.now() - 30 * MIN));
    await waitFor(async () => (await api<{ sessions: unknown[] }>(`/v1/users/${USER}/sessions`)).body.sessions.length === 1, { what: 'e-1 stored' });

    const asked = Date.now();
    const del = await api<{ revoked: number; sessions: string[]; revoked_up_to: number | null }>(`/v1/users/${USER}/sessions?reason=offboarding`, 'DELETE');
    expect(del.status).toBe(200);
    expect(del.body.sessions).toEqual(['e-1']);
    await waitFor(() => revokedSets().length === 1, { what: 'e-1 revoked' });

    // The IdP's lagging logs: a login a minute before the revoke, then one after it.
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('e-late', asked - MIN));
    const after = Math.max(Date.now(), (del.body.revoked_up_to ?? 0) + 1);
    await waitFor(() => Date.now() >= after, { what: 'the clock past the revoke' });
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('e-after', after));
    await waitFor(() => revokedSets().length === 2, { what: 'e-late revoked' });
    await waitFor(async () => (await api<{ sessions: unknown[] }>(`/v1/users/${USER}/sessions`)).body.sessions.length === 1, { what: 'e-after stored' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [USER] });

    expect(revokedSets()).toEqual(['e-1 admin', 'e-late admin']);
    // The revoke's time: its control op's arrival, as the owner applied it (Redis's clock).
    const mark = del.body.revoked_up_to;
    expect(mark).toBeGreaterThanOrEqual(asked - 1000);
    const mine = await api<{ sessions: Array<{ session_id: string }> }>(`/v1/users/${USER}/sessions`);
    expect(mine.body.sessions.map((s) => s.session_id)).toEqual(['e-after']);
    const audit = await api<{ entries: Array<{ actor: string; target: string; details: { reason: string } }> }>('/v1/audit?action=session.revoked');
    expect(audit.body.entries.map((e) => e.target)).toEqual(['e-late', 'e-1']);
    const [late, first] = audit.body.entries;
    expect(first!.actor).toMatch(/^token:/);
    expect(late!.actor).toBe(first!.actor); // the admin who revoked all
    expect(late!.details.reason).toMatch(/^revoke-all by token:/);

    // A second revoke-all raises the mark; e-after (before it) is revoked by it, as a stored session.
    const again = await api<{ sessions: string[]; revoked_up_to: number }>(`/v1/users/${USER}/sessions`, 'DELETE');
    expect(again.body.sessions).toEqual(['e-after']);
    expect(again.body.revoked_up_to).toBeGreaterThan(mark!);
  }, 90_000);

  it('marks a user riskstream never saw: a late login of theirs, dated before the revoke-all, is revoked; no risk state shows', async () => {
    const user = 'frank@example.com';
    const asked = Date.now();
    const del = await api<{ revoked: number; revoked_up_to: number | null }>(`/v1/users/${encodeURIComponent(user)}/sessions`, 'DELETE');
    expect(del.status).toBe(200);
    expect(del.body.revoked).toBe(0);
    expect(del.body.revoked_up_to).toBeGreaterThanOrEqual(asked - 1000);
    // The mark is no risk: the user is still unknown to the risk API and in no listing.
    expect((await api('/v1/users/frank%40example.com/risk')).status).toBe(404);
    const listed = await api<{ users: Array<{ user: string }> }>('/v1/users');
    expect(listed.body.users.map((u) => u.user)).not.toContain(user);

    // The IdP's lagging logs: the user's first login reaches riskstream after the revoke-all, though made before it.
    const before = revokedSets().length;
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('f-late', asked - MIN, user));
    await waitFor(() => revokedSets().length === before + 1, { what: 'f-late revoked' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(revokedSets().slice(before)).toEqual(['f-late admin']);
    expect((await api<{ sessions: unknown[] }>(`/v1/users/${encodeURIComponent(user)}/sessions`)).body.sessions).toEqual([]);
    // Seen now: the risk API knows the user.
    expect((await api('/v1/users/frank%40example.com/risk')).status).toBe(200);
  }, 60_000);
});
