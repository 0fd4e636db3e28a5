/**
 * CONTRACT §5 as an outside tester reads it, against a real worker process (black box): the bearer
 * token on every /v1 route (401 without or with a wrong one, 403 for a token of another scope; a
 * metrics token from RISKSTREAM_METRICS_TOKEN opens /metrics only), ids that need URL-encoding in
 * paths, and a session revoked by several admins at once (one revocation, one SET). Found all
 * passing by a black-box audit; kept so they stay so.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { HOUR } from '../helpers/clock.js';

const SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const METRICS_TOKEN = 'metrics-from-env-0123456789';

const h = workerHarness('e2e-api-conf', (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: url, audience: 'https://rx.test' }] }), {
  env: { RISKSTREAM_METRICS_TOKEN: METRICS_TOKEN },
});

type Reply = { status: number; headers: Headers; text: string; json: any };

async function call(method: string, path: string, token: string | null, body?: string): Promise<Reply> {
  const headers: Record<string, string> = token ? { authorization: `Bearer ${token}` } : {};
  const r = await fetch(`${h.worker.url}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
  const text = await r.text();
  let json: unknown;
  try {
    json = text ? JSON.parse(text) : undefined;
  } catch {
    json = undefined;
  }
  return { status: r.status, headers: r.headers, text, json };
}

const admin = (method: string, path: string, body?: string): Promise<Reply> => call(method, path, h.cfg.adminToken, body);

function login(user: string, sid: string): string {
  return JSON.stringify({
    type: 'login',
    id: `l-${sid}`,
    user,
    time: new Date(Date.now() - 1000).toISOString(),
    outcome: 'success',
    ip: '81.2.69.142',
    session: { id: sid, expires_at: new Date(Date.now() + HOUR).toISOString(), idp: 'okta', claims: { email: user } },
    device: { id: `d-${sid}`, posture: { os: 'macOS 15.1' } },
    network: { asn: 2856 },
  });
}

/** Every §5 route but SSF stream management, with a method it answers. */
const ROUTES: Array<[string, string]> = [
  ['GET', '/v1/users?level=high'],
  ['GET', '/v1/users/alice%40example.com/risk'],
  ['GET', '/v1/users/alice%40example.com/events'],
  ['POST', '/v1/users/alice%40example.com/risk/reset'],
  ['GET', '/v1/sessions'],
  ['GET', '/v1/users/alice%40example.com/sessions'],
  ['GET', '/v1/sessions/s-1'],
  ['DELETE', '/v1/sessions/s-1'],
  ['GET', '/v1/audit'],
  ['POST', '/v1/events'],
  ['GET', '/metrics'],
];

const isError = (r: Reply, status: number, code: string): void => {
  expect(r.status, `${r.status} ${r.text}`).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(Object.keys(r.json).sort()).toEqual(['error', 'message']);
  expect(r.json.error).toBe(code);
  expect(typeof r.json.message).toBe('string');
};

describe('CONTRACT §5 tokens, on every route', () => {
  it('no token or a wrong one: 401 unauthorized with WWW-Authenticate: Bearer; health, readiness and .well-known need none', async () => {
    for (const [method, path] of ROUTES) {
      for (const token of [null, 'not-a-token-of-this-worker-000']) {
        const r = await call(method, path, token, method === 'POST' ? '{}' : undefined);
        isError(r, 401, 'unauthorized');
        // RFC 6750 §3.1: a refused token is named invalid_token; no credentials, no error code.
        expect(r.headers.get('www-authenticate')).toBe(token === null ? 'Bearer' : 'Bearer error="invalid_token"');
      }
    }
    for (const path of ['/healthz', '/readyz', '/.well-known/jwks.json', '/.well-known/ssf-configuration']) {
      expect((await call('GET', path, null)).status, path).toBe(200);
    }
  });

  it('an ingest token: 403 forbidden everywhere but POST /v1/events; a metrics token from RISKSTREAM_METRICS_TOKEN: /metrics only', async () => {
    for (const [method, path] of ROUTES) {
      const body = method === 'POST' ? '{}' : undefined;
      const ingest = await call(method, path, h.cfg.ingestToken, body);
      if (path === '/v1/events') expect(ingest.status).toBe(202);
      else isError(ingest, 403, 'forbidden');
      const metrics = await call(method, path, METRICS_TOKEN, body);
      if (path === '/metrics') {
        expect(metrics.status).toBe(200);
        expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
        expect(metrics.text).toMatch(/^# TYPE riskstream_/m);
      } else isError(metrics, 403, 'forbidden');
    }
  });

  it('an admin token may ingest too (202 with counts); an unknown route with a token is 404 not_found in the same shape', async () => {
    const r = await admin('POST', '/v1/events', `${login('carol@example.com', 's-carol')}\nnot json\n`);
    expect(r.status).toBe(202);
    expect(r.json).toMatchObject({ accepted: 1, rejected: 1 });
    // docs/interfaces.md §5: 404 to any valid token, 401 without one; none asked under /.well-known/ and /console/.
    isError(await admin('GET', '/v1/no-such-route'), 404, 'not_found');
    isError(await call('GET', '/v1/no-such-route', h.cfg.ingestToken), 404, 'not_found');
    isError(await call('GET', '/v1/no-such-route', null), 401, 'unauthorized');
    isError(await call('GET', '/.well-known/no-such-thing', null), 404, 'not_found');
    isError(await call('GET', '/console/no-such-file.js', null), 404, 'not_found');
    isError(await admin('POST', '/v1/users/nobody-here%40example.com/risk/reset'), 404, 'not_found');
  });
});

describe('ids that need URL-encoding in paths', () => {
  // A user and a session id holding `%`, `#`, `?`, `/`, a space, `+`, upper case and composed unicode.
  const cases = [
    { user: '100%real', sid: 's-100%real' },
    { user: 'a#b?c', sid: 's#1?x' },
    { user: 'ünï/cödé', sid: 'tenant/s 1' },
    { user: 'bob+ops@example.com', sid: 's+bob' },
  ];

  it('list, inspect and revoke by the encoded id; a user in another spelling (upper case, decomposed) is the same user', async () => {
    await admin('POST', '/v1/events', cases.map((c) => login(c.user, c.sid)).join('\n'));
    for (const c of cases) {
      const sid = encodeURIComponent(c.sid);
      const one = await waitFor(
        async () => {
          const r = await admin('GET', `/v1/sessions/${sid}`);
          return r.status === 200 ? r : undefined;
        },
        { what: `session ${c.sid}` },
      );
      expect(one.json).toMatchObject({ session_id: c.sid, user: c.user });
      const spelling = c.user.includes('@') ? c.user.toUpperCase() : c.user.normalize('NFD');
      const mine = await admin('GET', `/v1/users/${encodeURIComponent(spelling)}/sessions`);
      expect(mine.status).toBe(200);
      expect(mine.json.user).toBe(c.user);
      expect(mine.json.sessions.map((s: { session_id: string }) => s.session_id)).toEqual([c.sid]);
      expect((await admin('GET', `/v1/users/${encodeURIComponent(spelling)}/risk`)).json).toMatchObject({ user: c.user, level: 'low' });
      const del = await admin('DELETE', `/v1/sessions/${sid}`);
      expect(del.status).toBe(200);
      expect(del.json).toMatchObject({ revoked: true, session_id: c.sid, user: c.user });
      isError(await admin('GET', `/v1/sessions/${sid}`), 404, 'not_found');
    }
  });
});

describe('DELETE /v1/sessions/{id} by several admins at once', () => {
  it('one revocation: one 200, the others 404 not_found; one session-revoked SET; the session listed nowhere', async () => {
    await admin('POST', '/v1/events', login('dave@example.com', 's-dave'));
    await waitFor(async () => (await admin('GET', '/v1/sessions/s-dave')).status === 200, { what: 'session stored' });
    const answers = await Promise.all(Array.from({ length: 6 }, () => admin('DELETE', '/v1/sessions/s-dave')));
    expect(answers.filter((a) => a.status === 200)).toHaveLength(1);
    for (const a of answers.filter((x) => x.status !== 200)) isError(a, 404, 'not_found');
    const sets = () =>
      h.receiver.received.filter((s) => eventOf(s).type === SESSION_REVOKED && (s.claims.sub_id as { session?: { id: string } }).session?.id === 's-dave');
    await waitFor(() => sets().length >= 1, { what: 'session-revoked SET' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(sets()).toHaveLength(1);
    const all = await admin('GET', '/v1/sessions?limit=500');
    expect(all.json.sessions.map((s: { session_id: string }) => s.session_id)).not.toContain('s-dave');
    const mine = (await admin('GET', '/v1/users/dave%40example.com/sessions')).json;
    expect(mine.sessions).toEqual([]);
    // The device registry outlives the session (docs/sessions.md): kept 90 days after its last update.
    expect(mine.devices).toEqual([expect.objectContaining({ id: 'd-s-dave', session_id: 's-dave' })]);
    const audit = await admin('GET', '/v1/audit?action=session.revoked&limit=100');
    expect(audit.json.entries.filter((e: { target?: string }) => e.target === 's-dave')).toHaveLength(1);
  });
});
