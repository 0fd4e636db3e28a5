/**
 * Session audit as an admin and an SSF receiver see it (black box: a real worker process, Redis,
 * and a local push receiver verifying every SET against the worker's JWKS): a login's identity is
 * listed, inspected and revoked over the admin API; the CAEP session-revoked SET reaches every
 * receiver in its subject format; revoked sessions stay gone; a policy's revocation says so.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf, type ReceivedSet } from '../helpers/receiver.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';
import { HOUR } from '../helpers/clock.js';
import { Keys } from '../../src/keys.js';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const AUD = 'https://rx.test';
const IDP = 'https://idp.test';

const h = workerHarness(
  'e2e-sess-audit',
  (url) => ({
    receivers: [
      { name: 'rx-email', kind: 'ssf', endpoint: `${url}/email`, audience: AUD, subject_format: 'email', reason_languages: ['de'] },
      { name: 'rx-isssub', kind: 'ssf', endpoint: `${url}/isssub`, audience: AUD, subject_format: 'iss_sub', subject_issuer: IDP },
      { name: 'rx-opaque', kind: 'ssf', endpoint: `${url}/opaque`, audience: AUD, subject_format: 'opaque' },
    ],
    sessions: { max_per_user: 3, redact_claims: ['employee_id'] },
  }),
  {
    receiver: { audience: AUD, issuer: 'https://riskstream.test' },
    behaviors: {
      endpoint_detection: { risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      responses: [{ when: { level: 'high' }, revoke_sessions: true }],
    },
  },
);

type Reply = { status: number; json: any };

async function call(method: string, path: string, opts: { token?: string | null; body?: unknown } = {}): Promise<Reply> {
  const token = opts.token === undefined ? h.cfg.adminToken : opts.token;
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const r = await fetch(`${h.worker.url}${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

function login(user: string, sid: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    type: 'login',
    id: `l-${sid}`,
    user,
    time: new Date(Date.now() - 1000).toISOString(),
    outcome: 'success',
    ip: '81.2.69.142',
    geo: { lat: 51.5, lon: -0.12, country: 'GB', city: 'London' },
    session: {
      id: sid,
      expires_at: new Date(Date.now() + HOUR).toISOString(),
      idp: 'okta',
      claims: { email: user, groups: ['eng'], access_token: 'a'.repeat(8) },
    },
    device: { id: 'd-9', posture: { os: 'macOS 15.1', disk_encrypted: true } },
    network: { asn: 2856, colo: 'LHR', via: 'warp' },
    ...extra,
  };
}

const xadd = (e: Record<string, unknown>, stream = 'login') => h.redis.xadd(`${h.prefix}:${stream}`, '*', 'event', JSON.stringify(e));
const ids = (r: Reply): string[] => (r.json.sessions as Array<{ session_id: string }>).map((s) => s.session_id);
const revokedSets = (sid: string): ReceivedSet[] =>
  h.receiver.received.filter((s) => eventOf(s).type === SESSION_REVOKED && (s.claims.sub_id as { session?: { id: string } }).session?.id === sid);
const stored = (sid: string) => waitFor(async () => (await call('GET', `/v1/sessions/${sid}`)).status === 200, { what: `session ${sid} stored` });

describe('session audit through the admin API and an SSF receiver (real worker, Redis, receiver)', () => {
  it('login → listed and inspected → DELETE → one verified session-revoked SET per receiver, then gone for good', async () => {
    const user = 'alice@example.com';
    const e = login(user, 's-a1');
    await xadd(e);
    await stored('s-a1');

    const one = await call('GET', '/v1/sessions/s-a1');
    expect(one.json).toMatchObject({
      session_id: 's-a1',
      user,
      idp: 'okta',
      claims: { email: user, groups: ['eng'], access_token: '[redacted]' },
      device: { id: 'd-9', posture: { os: 'macOS 15.1', disk_encrypted: true } },
      network: { asn: 2856, colo: 'LHR', via: 'warp' },
      ip: '81.2.69.142',
      geo: { country: 'GB', city: 'London' },
      login_at: Date.parse(e.time as string),
    });
    expect(ids(await call('GET', `/v1/users/${encodeURIComponent(user)}/sessions`))).toEqual(['s-a1']);
    expect(ids(await call('GET', '/v1/sessions?limit=500'))).toContain('s-a1');

    const del = await call('DELETE', '/v1/sessions/s-a1', { body: { reason: 'laptop stolen' } });
    expect(del.status).toBe(200);
    expect(del.json).toMatchObject({ revoked: true, session_id: 's-a1', user, reason: 'laptop stolen' });

    const sets = await waitFor(() => (revokedSets('s-a1').length >= 3 ? revokedSets('s-a1') : null), { what: 'three session-revoked SETs' });
    expect(sets.map((s) => s.path).sort()).toEqual(['/email', '/isssub', '/opaque']);
    for (const s of sets) {
      expect(s.verified).toBe(true);
      expect(s.header).toMatchObject({ typ: 'secevent+jwt', alg: 'ES256' });
      expect(s.contentType).toBe('application/secevent+jwt');
      expect(s.claims).toMatchObject({ iss: 'https://riskstream.test', aud: AUD, txn: del.json.change_id });
      expect(Math.abs((s.claims.iat as number) - Date.now() / 1000)).toBeLessThan(60);
      expect(Object.keys(s.claims.events as object)).toEqual([SESSION_REVOKED]);
      expect(eventOf(s).body).toMatchObject({
        event_timestamp: Math.floor(del.json.time / 1000),
        initiating_entity: 'admin',
        reason_admin: { en: 'laptop stolen' },
      });
    }
    expect(new Set(sets.map((s) => s.claims.jti)).size).toBe(3);
    const subject = (path: string) => sets.find((s) => s.path === path)!.claims.sub_id;
    const session = { format: 'opaque', id: 's-a1' };
    expect(subject('/email')).toEqual({ format: 'complex', user: { format: 'email', email: user }, session });
    expect(subject('/isssub')).toEqual({ format: 'complex', user: { format: 'iss_sub', iss: IDP, sub: user }, session });
    expect(subject('/opaque')).toEqual({ format: 'complex', user: { format: 'opaque', id: user }, session });
    // An admin's revocation tells the user an administrator ended it.
    expect(eventOf(sets.find((s) => s.path === '/email')!).body.reason_user).toMatchObject({ en: 'Your session was ended by an administrator.' });

    // Gone from every listing; revoking again, or an unknown id, is 404 not_found.
    expect((await call('GET', '/v1/sessions/s-a1')).status).toBe(404);
    expect(ids(await call('GET', `/v1/users/${encodeURIComponent(user)}/sessions`))).toEqual([]);
    expect(ids(await call('GET', '/v1/sessions?limit=500'))).not.toContain('s-a1');
    for (const path of ['/v1/sessions/s-a1', '/v1/sessions/no-such-session']) {
      const again = await call('DELETE', path);
      expect(again.status).toBe(404);
      expect(again.json.error).toBe('not_found');
    }

    // A replay of the login (and a refresh) does not bring it back; a new session of the user is stored.
    await xadd(e);
    await xadd({
      type: 'session_refresh',
      user,
      time: new Date().toISOString(),
      session: { id: 's-a1', expires_at: new Date(Date.now() + 2 * HOUR).toISOString() },
    });
    await xadd(login(user, 's-a2'));
    await stored('s-a2');
    expect((await call('GET', '/v1/sessions/s-a1')).status).toBe(404);
    expect(ids(await call('GET', `/v1/users/${encodeURIComponent(user)}/sessions`))).toEqual(['s-a2']);
    expect(revokedSets('s-a1')).toHaveLength(3);
  });

  it("a policy's revocation (responses: level high) is sent as the policy's, not an administrator's", async () => {
    const user = 'bob@example.com';
    await xadd(login(user, 's-b1'));
    await stored('s-b1');
    await xadd(JSON.parse(criticalDetection(user)) as Record<string, unknown>, 'activity');

    const sets = await waitFor(() => (revokedSets('s-b1').length >= 3 ? revokedSets('s-b1') : null), { what: "the policy's session-revoked SETs" });
    expect((await call('GET', '/v1/sessions/s-b1')).status).toBe(404);
    const email = eventOf(sets.find((s) => s.path === '/email')!).body;
    expect(email.initiating_entity).toBe('policy');
    expect(email.reason_admin).toMatchObject({ en: expect.stringMatching(/^policy: level high/) });
    // Neither the end user nor the receiver's admin is told that an administrator did it.
    expect(JSON.stringify(email.reason_user)).not.toMatch(/administrator|Administrator/);
    expect(JSON.stringify(email.reason_admin)).not.toMatch(/Administrator/);
    expect(email.reason_user).toEqual({
      en: 'Your session was ended by a security policy.',
      de: 'Ihre Sitzung wurde durch eine Sicherheitsrichtlinie beendet.',
    });
  });

  it('pages of GET /v1/sessions neither repeat nor miss a session while logins are added between pages', async () => {
    const t0 = Date.now() - 60_000;
    // Ten login times, six logins each (users of many partitions share a time: ties across shards).
    const at = (i: number) => new Date(t0 - (i % 10) * 1000).toISOString();
    const first = Array.from({ length: 60 }, (_, i) => `pg-${i}`);
    for (let i = 0; i < 60; i++) await xadd({ ...login(`pg${i}@example.com`, first[i]!), time: at(i) });
    await waitFor(
      async () => {
        const listed = ids(await call('GET', '/v1/sessions?limit=500'));
        return first.every((id) => listed.includes(id));
      },
      { what: '60 sessions listed', timeout: 30_000 },
    );
    const seen: string[] = [];
    let cursor: string | null = null;
    for (let page = 0; page === 0 || cursor; page++) {
      const r: Reply = await call('GET', `/v1/sessions?limit=7${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(r.status).toBe(200);
      seen.push(...ids(r));
      cursor = r.json.next_cursor as string | null;
      // Logins newer, older and tied with what was listed so far arrive before the next page.
      for (let j = 0; j < 3; j++) await xadd({ ...login(`new${page}-${j}@example.com`, `pg-new${page}-${j}`), time: at(page * 3 + j) });
    }
    expect(seen.length).toBe(new Set(seen).size);
    expect(first.filter((id) => !seen.includes(id))).toEqual([]);
  });

  it('lifetime: listed until expires_at, a refresh extends it, the soonest-expiring go over max_per_user; claims redacted', async () => {
    const user = 'carol@example.com';
    const until = (ms: number) => new Date(Date.now() + ms).toISOString();
    const session = (id: string, ms: number) => ({ id, idp: 'okta', expires_at: until(ms), claims: { employee_id: 'E-1', id_token: 'x', groups: ['eng'] } });
    await xadd(login(user, 's-c1', { session: session('s-c1', 3000) }));
    await xadd(login(user, 's-c2', { session: session('s-c2', 3000) }));
    await stored('s-c2');
    expect((await call('GET', '/v1/sessions/s-c1')).json.claims).toEqual({ employee_id: '[redacted]', id_token: '[redacted]', groups: ['eng'] });
    // s-c2 is refreshed to live an hour; s-c1 ends after its 3 s.
    await xadd({ type: 'session_refresh', user, time: new Date().toISOString(), session: { id: 's-c2', expires_at: until(HOUR) } });
    await waitFor(async () => (await call('GET', '/v1/sessions/s-c2')).json.refreshed_at, { what: 'the refresh stored' });
    await waitFor(async () => (await call('GET', '/v1/sessions/s-c1')).status === 404, { what: 's-c1 expired', timeout: 10_000 });
    expect(ids(await call('GET', `/v1/users/${encodeURIComponent(user)}/sessions`))).toEqual(['s-c2']);
    expect(ids(await call('GET', '/v1/sessions?limit=500'))).not.toContain('s-c1');
    expect(ids(await call('GET', '/v1/sessions?limit=500'))).toContain('s-c2');
    expect((await call('DELETE', '/v1/sessions/s-c1')).status).toBe(404);

    // Three more sessions: four would be one too many; the one that expires soonest goes.
    for (const [id, ms] of [
      ['s-c3', 2 * HOUR],
      ['s-c4', 30 * 60_000],
      ['s-c5', 3 * HOUR],
    ] as const)
      await xadd(login(user, id, { session: session(id, ms) }));
    await stored('s-c5');
    await waitFor(async () => (await call('GET', '/v1/sessions/s-c4')).status === 404, { what: 's-c4 dropped' });
    expect(ids(await call('GET', `/v1/users/${encodeURIComponent(user)}/sessions`)).sort()).toEqual(['s-c2', 's-c3', 's-c5']);
  });

  it('a sign-out ends the session: 404, in no list, no session-revoked SET; a later login with the id lists it again', async () => {
    const user = 'dave@example.com';
    await xadd(login(user, 's-d1'));
    await xadd(login(user, 's-d2'));
    await stored('s-d2');
    // The user signs out of s-d1 (a canonical logout, on the activity stream).
    await xadd({ type: 'logout', id: 'o-d1', user, time: new Date().toISOString(), outcome: 'success', session: { id: 's-d1' } }, 'activity');
    await waitFor(async () => (await call('GET', '/v1/sessions/s-d1')).status === 404, { what: 's-d1 ended' });
    expect(ids(await call('GET', `/v1/users/${encodeURIComponent(user)}/sessions`))).toEqual(['s-d2']);
    expect(ids(await call('GET', '/v1/sessions?limit=500'))).not.toContain('s-d1');
    expect((await call('DELETE', '/v1/sessions/s-d1')).status).toBe(404); // nothing left to revoke
    expect(revokedSets('s-d1')).toEqual([]);
    const audit = await call('GET', '/v1/audit?action=session.revoked&limit=500');
    expect((audit.json.entries as Array<{ target: string }>).filter((x) => x.target === 's-d1')).toEqual([]);
    // A login with the id after the sign-out starts it again.
    await xadd(login(user, 's-d1', { id: 'l-s-d1-again', time: new Date(Date.now() + 1000).toISOString() }));
    await stored('s-d1');
    expect(ids(await call('GET', `/v1/users/${encodeURIComponent(user)}/sessions`)).sort()).toEqual(['s-d1', 's-d2']);
  });

  it("?user= addresses that user's copy only: a user of the id's partition who holds none is 404, never the owner's identity", async () => {
    // erin's login with s-e1 is refused (the id is frank's, in the same partition): erin holds no copy.
    const keys = new Keys(h.prefix, 64);
    const frank = 'frank@example.com';
    const erin = Array.from({ length: 1000 }, (_, i) => `erin${i}@example.com`).find((u) => keys.partitionOf(u) === keys.partitionOf(frank))!;
    await xadd(login(frank, 's-e1'));
    await stored('s-e1');
    await xadd(login(erin, 's-e1', { id: 'l-s-e1-erin', time: new Date().toISOString(), device: { id: 'd-erin' } }));
    await xadd(login(erin, 's-e2'));
    await stored('s-e2');
    const q = (u: string) => `?user=${encodeURIComponent(u)}`;
    expect((await call('GET', `/v1/sessions/s-e1${q(frank)}`)).json).toMatchObject({ session_id: 's-e1', user: frank });
    const asErin = await call('GET', `/v1/sessions/s-e1${q(erin)}`);
    expect([asErin.status, asErin.json.error]).toEqual([404, 'not_found']);
    expect((await call('DELETE', `/v1/sessions/s-e1${q(erin)}`)).status).toBe(404);
    expect((await call('GET', '/v1/sessions/s-e1')).json.user).toBe(frank);
  });

  it('answers errors as {error, message}: 401 without or with a wrong token, 403 with an ingest token, 400 for a bad cursor or limit', async () => {
    for (const [token, status, code] of [
      [null, 401, 'unauthorized'],
      ['wrong-token-0123456789abcdef', 401, 'unauthorized'],
      [h.cfg.ingestToken, 403, 'forbidden'],
    ] as const) {
      for (const [method, path] of [
        ['GET', '/v1/sessions'],
        ['GET', '/v1/sessions/s-x'],
        ['DELETE', '/v1/sessions/s-x'],
        ['GET', '/v1/users/alice%40example.com/sessions'],
      ]) {
        const r = await call(method!, path!, { token });
        expect([r.status, r.json.error, typeof r.json.message]).toEqual([status, code, 'string']);
      }
    }
    for (const path of ['/v1/sessions?cursor=not-a-cursor', '/v1/sessions?limit=0', '/v1/sessions?limit=501']) {
      const r = await call('GET', path);
      expect([r.status, r.json.error]).toEqual([400, 'bad_request']);
    }
  });
});
