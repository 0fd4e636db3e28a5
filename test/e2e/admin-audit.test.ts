/**
 * docs/interfaces.md §5 and docs/sessions.md as a black-box tester reads them, against a real
 * worker process, Redis and a loopback SSF receiver — the gaps other files leave: cursor walks of
 * `GET /v1/users` and `GET /v1/sessions` one row a page over ids that need care (astral and
 * combining characters, a quote, a tab, a `%`, 1024 characters), the revoke of a session that
 * expired or never was (404, no SET), and a `+` in `?user=` (a space, as in any form-encoded query;
 * `%2B` is the `+`). Found passing by a black-box audit; kept so they stay so.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { sessionLogin, workerHarness } from '../helpers/worker.js';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';

const h = workerHarness('e2e-admin-audit', (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: url, audience: 'https://rx.test' }] }));

type Reply = { status: number; json: any };

async function admin(method: string, path: string, body?: string): Promise<Reply> {
  const r = await fetch(`${h.worker.url}${path}`, { method, headers: { authorization: `Bearer ${h.cfg.adminToken}` }, ...(body ? { body } : {}) });
  const text = await r.text();
  return { status: r.status, json: text ? JSON.parse(text) : undefined };
}

const notFound = (r: Reply): void => {
  expect(r.status).toBe(404);
  expect(r.json.error).toBe('not_found');
};

/** Every row of a cursor walk `limit` rows a page (`rows` picks the page's rows), failing past 100 pages. */
async function walk(path: string, rows: (json: any) => string[]): Promise<string[]> {
  const out: string[] = [];
  let cursor: string | null = '';
  for (let page = 0; cursor !== null; page++) {
    if (page > 100) throw new Error(`${path}: more than 100 pages`);
    const r = await admin('GET', `${path}&cursor=${encodeURIComponent(cursor)}`);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    out.push(...rows(r.json));
    cursor = r.json.next_cursor;
  }
  return out;
}

const ODD = ['ünï/cödé', 'e\u0301-decomposed', '😀astral', 'a"quote', 'tab\tuser', '100%real', 'x'.repeat(1024), 'plain@example.com'];

describe('cursor walks one row a page over ids that need care', () => {
  it('GET /v1/users and GET /v1/sessions list every user and session exactly once, in the one-page order', async () => {
    const t = Date.now() - 5000;
    const lines = ODD.map((u, i) => sessionLogin(u, `odd-${i}-${u.slice(0, 16)}`, { time: t + i }));
    expect((await admin('POST', '/v1/events', lines.join('\n'))).json).toMatchObject({ accepted: ODD.length });
    const all = await waitFor(
      async () => {
        const r = await admin('GET', '/v1/sessions?limit=500');
        return r.json.sessions.length === ODD.length ? r : undefined;
      },
      { what: 'every session stored' },
    );
    const sessions = all.json.sessions.map((s: { session_id: string }) => s.session_id);
    expect(await walk('/v1/sessions?limit=1', (j) => j.sessions.map((s: { session_id: string }) => s.session_id))).toEqual(sessions);

    const users = (await admin('GET', '/v1/users?limit=1000')).json.users.map((u: { user: string }) => u.user);
    expect([...users].sort()).toEqual(ODD.map((u) => u.normalize('NFC')).sort());
    expect(await walk('/v1/users?limit=1', (j) => j.users.map((u: { user: string }) => u.user))).toEqual(users);
    expect(await walk('/v1/users?level=low&limit=1', (j) => j.users.map((u: { user: string }) => u.user))).toEqual(users);
  });
});

describe('revoking a session that is not active', () => {
  it('an expired session, one stored already expired and an unknown id: DELETE is 404 not_found, and no session-revoked SET is sent', async () => {
    const now = Date.now();
    await admin(
      'POST',
      '/v1/events',
      [
        sessionLogin('exp@example.com', 's-soon', { time: now - 1000, session: { id: 's-soon', expires_at: now + 2000 } }),
        sessionLogin('exp@example.com', 's-past', { time: now - 120_000, session: { id: 's-past', expires_at: now - 60_000 } }),
      ].join('\n'),
    );
    await waitFor(async () => (await admin('GET', '/v1/sessions/s-soon')).status === 200, { what: 's-soon stored' });
    await waitFor(async () => (await admin('GET', '/v1/sessions/s-soon')).status === 404, { what: 's-soon expired', timeout: 10_000 });
    for (const sid of ['s-soon', 's-past', 'no-such-session']) {
      notFound(await admin('DELETE', `/v1/sessions/${sid}`));
      notFound(await admin('GET', `/v1/sessions/${sid}`));
    }
    expect((await admin('GET', '/v1/users/exp%40example.com/sessions')).json.sessions).toEqual([]);
    // A session that is revoked does send one (the receiver works): none came for the three above.
    await admin('POST', '/v1/events', sessionLogin('exp@example.com', 's-live'));
    await waitFor(async () => (await admin('GET', '/v1/sessions/s-live')).status === 200, { what: 's-live stored' });
    expect((await admin('DELETE', '/v1/sessions/s-live')).status).toBe(200);
    const revoked = () =>
      h.receiver.received.filter((s) => eventOf(s).type === SESSION_REVOKED).map((s) => (s.claims.sub_id as { session: { id: string } }).session.id);
    await waitFor(() => revoked().includes('s-live'), { what: 'the session-revoked SET of s-live' });
    expect(revoked()).toEqual(['s-live']);
  });
});

describe('a + in ?user=', () => {
  it('is a space, as in any form-encoded query; %2B is the + (docs/sessions.md)', async () => {
    await admin('POST', '/v1/events', sessionLogin('bob+ops@example.com', 's-plus'));
    await waitFor(async () => (await admin('GET', '/v1/sessions/s-plus')).status === 200, { what: 's-plus stored' });
    expect((await admin('GET', '/v1/sessions?user=bob%2Bops%40example.com')).json.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([
      's-plus',
    ]);
    expect((await admin('GET', '/v1/sessions?user=bob+ops@example.com')).json.sessions).toEqual([]);
    // In a path a raw + is the +.
    expect((await admin('GET', '/v1/users/bob+ops@example.com/sessions')).json.user).toBe('bob+ops@example.com');
  });
});
