import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { spawnWorker, workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { MIN, recentIso } from '../helpers/clock.js';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const LEVEL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const USER = 'alice@example.com';

const h = workerHarness(
  'e2e-hijack',
  (url) => ({ receivers: [{ name: 'test-ssf', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://h.receiver.test', subject_format: 'email' }] }),
  {
    receiver: { audience: 'https://h.receiver.test', issuer: 'https://riskstream.test' },
    behaviors: {
      session_hijack: { risk_level: 'high', expires_after: '24h', compare: ['device', 'asn', 'country'] },
      responses: [{ when: { behavior: 'session_hijack' }, revoke_sessions: true }],
    },
  },
);

const expiresAt = (): string => new Date(Date.now() + 12 * 60 * MIN).toISOString();

function sessionLogin(id: string, session: string, at: number | 'now', user = USER): string {
  return JSON.stringify({
    type: 'login',
    id,
    user,
    time: at === 'now' ? new Date().toISOString() : recentIso(at),
    outcome: 'success',
    ip: '81.2.69.142',
    geo: { country: 'GB', city: 'London' },
    session: { id: session, expires_at: expiresAt(), idp: 'okta' },
    device: { id: 'd-9' },
    network: { asn: 2856 },
  });
}

const api = (path: string): Promise<Response> => fetch(`${h.worker.url}${path}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
const sessionsOf = async (user: string): Promise<string[]> =>
  (((await (await api(`/v1/users/${encodeURIComponent(user)}/sessions`)).json()) as { sessions: Array<{ session_id: string }> }).sessions ?? [])
    .map((s) => s.session_id)
    .sort();
const revokedSets = () => h.receiver.received.filter((s) => eventOf(s).type === SESSION_REVOKED);

describe('session_hijack and the revoke_sessions response (real worker, Redis, receiver)', () => {
  it('a session used from another device, ASN and country raises HIGH and revokes every session of the user, once — also after a crash', async () => {
    const login = `${h.prefix}:login`;
    await h.redis.xadd(login, '*', 'event', sessionLogin('l-1', 's-1', 0));
    await h.redis.xadd(login, '*', 'event', sessionLogin('l-2', 's-2', MIN));
    await h.redis.xadd(login, '*', 'event', sessionLogin('l-b', 's-bob', MIN, 'bob@example.com'));
    await waitFor(async () => (await sessionsOf(USER)).length === 2, { what: 'alice’s two sessions stored' });

    // The same session from the login's own device: nothing. Then from elsewhere: a hijack.
    const use = (id: string, extra: Record<string, unknown>) =>
      JSON.stringify({ type: 'access', id, user: USER, time: recentIso(5 * MIN), outcome: 'allowed', app: 'drive', session: { id: 's-1' }, ...extra });
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', use('a-0', { device: { id: 'd-9' }, network: { asn: 2856 }, geo: { country: 'GB' } }));
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'event',
      use('a-1', { ip: '1.128.0.1', device: { id: 'd-77' }, network: { asn: 1221 }, geo: { country: 'AU' } }),
    );

    await waitFor(() => revokedSets().length >= 2, { what: 'two session-revoked SETs' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [USER] });
    const levels = h.receiver.received.filter((s) => eventOf(s).type === LEVEL_CHANGE);
    expect(levels.map((s) => eventOf(s).body.current_level)).toEqual(['HIGH']);
    const revoked = revokedSets();
    expect(revoked.every((s) => s.verified)).toBe(true);
    expect(revoked.map((s) => (s.claims.sub_id as { session: { id: string } }).session.id).sort()).toEqual(['s-1', 's-2']);
    expect(revoked.map((s) => eventOf(s).body.initiating_entity)).toEqual(['policy', 'policy']);
    expect(await sessionsOf(USER)).toEqual([]);
    expect(await sessionsOf('bob@example.com')).toEqual(['s-bob']);

    const risk = (await (await api(`/v1/users/${encodeURIComponent(USER)}/risk`)).json()) as {
      level: string;
      behaviors: Array<{ id: string; evidence: Record<string, unknown> }>;
    };
    expect(risk.level).toBe('high');
    expect(risk.behaviors.find((b) => b.id === 'session_hijack')?.evidence).toMatchObject({
      session_id: 's-1',
      differs: ['device', 'asn', 'country'],
      login: { device: 'd-9', asn: 2856, country: 'GB' },
      event: { device: 'd-77', asn: 1221, country: 'AU' },
    });
    const audit = (await (await api('/v1/audit?action=session.revoked')).json()) as { entries: Array<{ actor: string; target: string }> };
    expect(audit.entries.map((e) => [e.target, e.actor]).sort()).toEqual([
      ['s-1', 'policy'],
      ['s-2', 'policy'],
    ]);

    // Alice logs in anew, after the revocation (a login stamped before the hijack arrived would be a
    // late one: revoked too); then a crash between revoking and deleting the outbox entry: kill -9,
    // put the hit back in alice's outbox (as the crash would have left it), restart.
    await h.redis.xadd(login, '*', 'event', sessionLogin('l-3', 's-3', 'now'));
    await waitFor(async () => (await sessionsOf(USER)).includes('s-3'), { what: 'the new session stored' });
    const keys = new Keys(h.prefix);
    const hit = (await h.redis.xrange(keys.userEvents(USER), '-', '+')).find(([, f]) => f[f.indexOf('kind') + 1] === 'hit')!;
    await h.worker.stop('SIGKILL');
    await h.redis.xadd(keys.userOutbox(USER), '*', 'kind', 'hit', 'data', hit[1][hit[1].indexOf('data') + 1]!);
    h.worker = await spawnWorker(h.cfg.dir);
    await waitFor(async () => (await h.redis.xlen(keys.userOutbox(USER))) === 0, { what: 'the outbox relayed again' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [USER] });
    expect(await sessionsOf(USER)).toEqual(['s-3']);
    expect(revokedSets()).toHaveLength(2);
  }, 60_000);

  it('a session refresh extends the stored session (the login’s identity kept); a refresh from another device is a hijack', async () => {
    const CAROL = 'carol@example.com';
    const DAVE = 'dave@example.com';
    const login = `${h.prefix}:login`;
    await h.redis.xadd(login, '*', 'event', sessionLogin('l-c', 'sc-1', 20 * MIN, CAROL));
    await h.redis.xadd(login, '*', 'event', sessionLogin('l-d', 'sd-1', 20 * MIN, DAVE));
    await waitFor(async () => (await sessionsOf(CAROL)).length === 1 && (await sessionsOf(DAVE)).length === 1, { what: 'both sessions stored' });
    const before = (await (await api('/v1/sessions/sc-1')).json()) as Record<string, unknown>;
    const later = new Date(Date.now() + 48 * 60 * MIN).toISOString();
    const refresh = (id: string, user: string, session: string, extra: Record<string, unknown>) =>
      JSON.stringify({
        type: 'session_refresh',
        id,
        user,
        time: recentIso(25 * MIN),
        outcome: 'success',
        session: { id: session, expires_at: later },
        ...extra,
      });
    // Carol's refresh carries only the session and its new expiry; dave's comes from another device, ASN and country.
    await h.redis.xadd(login, '*', 'event', refresh('r-c', CAROL, 'sc-1', {}));
    await h.redis.xadd(login, '*', 'event', refresh('r-d', DAVE, 'sd-1', { device: { id: 'd-77' }, network: { asn: 1221 }, geo: { country: 'AU' } }));

    const after = await waitFor(
      async () => {
        const r = (await (await api('/v1/sessions/sc-1')).json()) as Record<string, unknown>;
        return r.refreshed_at !== undefined ? r : undefined;
      },
      { what: 'carol’s session refreshed' },
    );
    expect(after).toMatchObject({ idp: 'okta', device: { id: 'd-9' }, network: { asn: 2856 }, login_at: before.login_at, expires_at: Date.parse(later) });
    const risk = async (user: string) =>
      (await (await api(`/v1/users/${encodeURIComponent(user)}/risk`)).json()) as { level: string; behaviors: Array<{ id: string }> };
    await waitFor(async () => (await risk(DAVE)).level === 'high', { what: 'dave flagged' });
    expect((await risk(DAVE)).behaviors.map((b) => b.id)).toEqual(['session_hijack']);
    expect((await risk(CAROL)).level).not.toBe('high');
  }, 60_000);

  it('a refresh written right behind its login (one step: the login not committed yet) extends the login’s identity', async () => {
    const ERIN = 'erin@example.com';
    const later = new Date(Date.now() + 48 * 60 * MIN).toISOString();
    const refresh = JSON.stringify({
      type: 'session_refresh',
      id: 'r-e',
      user: ERIN,
      time: recentIso(31 * MIN),
      outcome: 'success',
      session: { id: 'se-1', expires_at: later },
    });
    // One write: the router reads both in one step, before the login's identity is stored.
    await h.redis
      .multi()
      .xadd(`${h.prefix}:login`, '*', 'event', sessionLogin('l-e', 'se-1', 30 * MIN, ERIN))
      .xadd(`${h.prefix}:login`, '*', 'event', refresh)
      .exec();
    const got = await waitFor(
      async () => {
        const r = (await (await api('/v1/sessions/se-1')).json()) as Record<string, unknown>;
        return r.expires_at === Date.parse(later) ? r : undefined;
      },
      { what: 'erin’s session refreshed' },
    );
    expect(got).toMatchObject({
      user: ERIN,
      idp: 'okta',
      device: { id: 'd-9' },
      network: { asn: 2856 },
      event_id: 'l-e',
      refreshed_at: Date.parse(recentIso(31 * MIN)),
    });
    expect(got.login_at).toBe(Date.parse(recentIso(30 * MIN)));
  }, 60_000);

  it('a second login with a known session id from another device is a hijack, and cannot replace the stored baseline', async () => {
    const LIAM = 'liam@example.com';
    const second = (id: string, at: number) =>
      JSON.stringify({
        type: 'login',
        id,
        user: LIAM,
        time: recentIso(at),
        outcome: 'success',
        ip: '1.128.0.1',
        geo: { country: 'NL' },
        session: { id: 'sl-1', expires_at: expiresAt(), idp: 'okta', claims: { groups: ['eng', 'admin'] } },
        device: { id: 'd-evil' },
        network: { asn: 1221 },
      });
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin('l-l1', 'sl-1', 40 * MIN, LIAM));
    await waitFor(async () => (await sessionsOf(LIAM)).length === 1, { what: 'liam’s session stored' });
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', second('l-l2', 41 * MIN));
    const risk = async () => (await (await api(`/v1/users/${encodeURIComponent(LIAM)}/risk`)).json()) as { level: string; behaviors: Array<{ id: string }> };
    await waitFor(async () => (await risk()).level === 'high', { what: 'liam flagged' });
    expect((await risk()).behaviors.map((b) => b.id)).toEqual(['session_hijack']);
    // The response policy revoked it (after the level change is relayed: waited for); its last stored
    // identity kept the first login's device and network.
    await waitFor(
      async () =>
        ((await (await api('/v1/audit')).json()) as { entries: Array<{ action: string; target: string }> }).entries.some(
          (e) => e.action === 'session.revoked' && e.target === 'sl-1',
        ),
      { what: 'sl-1 revoked by the response policy' },
    );
    // The SET is delivered after the revocation is audited (a queued job): waited for, then counted once.
    const revokedOf = () => revokedSets().filter((s) => (s.claims.sub_id as { session: { id: string } }).session.id === 'sl-1');
    await waitFor(() => revokedOf().length >= 1, { what: 'sl-1’s session-revoked SET' });
    await new Promise((r) => setTimeout(r, 300));
    expect(revokedOf()).toHaveLength(1);
  }, 60_000);

  it('a refresh from another device arriving before its login (the login earlier in event time) is a hijack once the login arrives, as in event-time order', async () => {
    const MIA = 'mia@example.com';
    const refresh = JSON.stringify({
      type: 'session_refresh',
      id: 'r-m',
      user: MIA,
      time: recentIso(52 * MIN),
      outcome: 'success',
      session: { id: 'sm-1', expires_at: expiresAt() },
      device: { id: 'd-evil' },
      network: { asn: 66 },
      geo: { country: 'RU' },
    });
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', refresh);
    // Stored as the session's start for now (no login seen): no baseline, nothing flagged.
    const stored = await waitFor(
      async () => {
        const r = await api('/v1/sessions/sm-1');
        return r.status === 200 ? ((await r.json()) as Record<string, unknown>) : undefined;
      },
      { what: 'the refresh stored' },
    );
    expect(stored).toMatchObject({ from_refresh: true, device: { id: 'd-evil' } });
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin('l-m', 'sm-1', 50 * MIN, MIA));
    const risk = async () =>
      (await (await api(`/v1/users/${encodeURIComponent(MIA)}/risk`)).json()) as {
        level: string;
        behaviors: Array<{ id: string; evidence: Record<string, unknown> }>;
      };
    await waitFor(async () => (await risk()).level === 'high', { what: 'mia flagged' });
    // The login is the baseline; the refresh is the use from elsewhere.
    expect((await risk()).behaviors.find((b) => b.id === 'session_hijack')?.evidence).toMatchObject({
      session_id: 'sm-1',
      login: { device: 'd-9', asn: 2856, country: 'GB' },
      event: { device: 'd-evil', asn: 66, country: 'RU' },
    });
    // The response policy revoked it (after the level change is relayed: waited for): the identity it
    // revoked was the login's, extended by the refresh.
    await waitFor(
      async () =>
        ((await (await api('/v1/audit?action=session.revoked')).json()) as { entries: Array<{ target: string }> }).entries.some((e) => e.target === 'sm-1'),
      { what: 'sm-1 revoked by the response policy' },
    );
  }, 60_000);

  it('Okta records: an SSO (user.authentication.sso) is a use of the Okta session its sign-in started — it extends the stored session; one from another network and country is a hijack', async () => {
    const fixture = (name: string) => JSON.parse(readFileSync(new URL(`../ingest/fixtures/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
    const start = fixture('okta-session-start.json');
    const sso = fixture('okta-sso.json');
    const record = (raw: Record<string, unknown>, uuid: string, user: string, session: string, at: number, extra: Record<string, unknown> = {}) =>
      JSON.stringify({
        ...raw,
        uuid,
        actor: { ...(raw.actor as object), alternateId: user },
        published: recentIso(at),
        authenticationContext: { ...(raw.authenticationContext as object), externalSessionId: session },
        ...extra,
      });
    const OLGA = 'olga@example.com';
    const PIET = 'piet@example.com';
    const login = `${h.prefix}:login`;
    await h.redis.xadd(login, '*', 'event', record(start, 'os-o', OLGA, 'okta-so', 20 * MIN));
    await h.redis.xadd(login, '*', 'event', record(start, 'os-p', PIET, 'okta-sp', 20 * MIN));
    await waitFor(async () => (await sessionsOf(OLGA)).length === 1 && (await sessionsOf(PIET)).length === 1, { what: 'both Okta sessions stored' });
    const before = (await (await api('/v1/sessions/okta-so')).json()) as Record<string, unknown>;
    // Olga opens Slack from where she signed in; Piet's session cookie is replayed from a US cloud host.
    await h.redis.xadd(login, '*', 'event', record(sso, 'sso-o', OLGA, 'okta-so', 25 * MIN));
    const elsewhere = {
      client: {
        ...(sso.client as object),
        ipAddress: '3.5.140.2',
        geographicalContext: { city: 'Ashburn', country: 'United States', geolocation: { lat: 39.0469, lon: -77.4903 } },
      },
      securityContext: { asNumber: 14618, asOrg: 'amazon data services nova', isp: 'amazon.com inc.', domain: 'amazonaws.com', isProxy: false },
    };
    await h.redis.xadd(login, '*', 'event', record(sso, 'sso-p', PIET, 'okta-sp', 25 * MIN, elsewhere));

    const after = await waitFor(
      async () => {
        const r = (await (await api('/v1/sessions/okta-so')).json()) as Record<string, unknown>;
        return r.refreshed_at !== undefined ? r : undefined;
      },
      { what: 'olga’s Okta session extended by her SSO' },
    );
    // The sign-in stays the session's start and baseline.
    expect(after).toMatchObject({ idp: 'okta', network: { asn: 2856 }, login_at: before.login_at });
    const risk = async (user: string) =>
      (await (await api(`/v1/users/${encodeURIComponent(user)}/risk`)).json()) as {
        level: string;
        behaviors: Array<{ id: string; evidence: Record<string, unknown> }>;
      };
    await waitFor(async () => (await risk(PIET)).level === 'high', { what: 'piet flagged' });
    const hit = (await risk(PIET)).behaviors.find((b) => b.id === 'session_hijack')!;
    expect(hit.evidence).toMatchObject({ session_id: 'okta-sp' });
    expect(hit.evidence.differs).toEqual(expect.arrayContaining(['asn', 'country']));
    expect((await risk(OLGA)).level).not.toBe('high');
  }, 60_000);
  it('a device id differing only in letter case (an Entra GUID lower case, Windows upper case) is the same device: no hit; another device after it is one (found by a black-box audit)', async () => {
    const user = 'guid@example.com';
    const guid = 'ABCDEF01-2345-6789-ABCD-EF0123456789';
    const login = JSON.parse(sessionLogin('l-guid', 's-guid', 0, user)) as Record<string, unknown>;
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', JSON.stringify({ ...login, device: { id: guid } }));
    await waitFor(async () => (await sessionsOf(user)).length === 1, { what: 'the session stored' });
    const use = {
      type: 'access',
      id: 'a-guid',
      user,
      time: recentIso(5 * MIN),
      outcome: 'allowed',
      session: { id: 's-guid' },
      device: { id: guid.toLowerCase() },
    };
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', JSON.stringify(use));
    // A marker event after it: once its hit is listed, the use before it was judged.
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', JSON.stringify({ ...use, id: 'a-other', device: { id: 'd-other' } }));
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    const events = (
      (await (await api(`/v1/users/${encodeURIComponent(user)}/events`)).json()) as {
        events: Array<{ kind: string; behavior?: string; evidence?: { event?: { device?: string } } }>;
      }
    ).events;
    const hits = events.filter((e) => e.kind === 'hit');
    expect(hits.map((e) => [e.behavior, e.evidence?.event?.device])).toEqual([['session_hijack', 'd-other']]);
  });
});
