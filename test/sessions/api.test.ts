import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { FastifyInstance } from 'fastify';
import { sessionAudit } from '../../pipelines/session-audit.js';
import { revocationId } from '../../src/sessions/revoke.js';
import type { AuditLog } from '../../src/audit/audit-log.js';
import type { SessionRevocation } from '../../src/sessions/revoke.js';
import type { SessionStore } from '../../src/sessions/store.js';
import { ADMIN, INGEST, batchOf, buildApi, dumpPrefix, fakeJwt, login, settings, sleep, testRedis } from './helpers.js';

const t = testRedis();
let app: FastifyInstance;
let base: string;
let store: SessionStore;
let audit: AuditLog;
let revoked: SessionRevocation[];

beforeAll(async () => {
  ({ app, store, audit, revoked } = await buildApi(t));
  await app.listen({ port: 0, host: '127.0.0.1' });
  const addr = app.server.address();
  base = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}`;
});
afterAll(async () => {
  await app.close();
  await t.cleanup();
  await t.redis.quit();
});
beforeEach(async () => {
  await t.cleanup();
  revoked.length = 0;
});

async function call(method: string, path: string, opts: { token?: string | null; body?: unknown } = {}): Promise<{ status: number; json: any }> {
  const headers: Record<string, string> = {};
  const token = opts.token === undefined ? ADMIN : opts.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (opts.body !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(`${base}${path}`, { method, headers, ...(opts.body !== undefined ? { body: JSON.stringify(opts.body) } : {}) });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
}

const audit$ = (cfg = settings()) => sessionAudit(store, cfg);

describe('session audit API', () => {
  it('a login with a 2-second session is listed globally, per user and by id, then disappears after expiry', async () => {
    const e = login({ user: 'alice+ops@example.com', sessionId: 's-2s', expiresAt: Date.now() + 2000 });
    await audit$()(batchOf([e]));

    const all = await call('GET', '/v1/sessions');
    expect(all.status).toBe(200);
    expect(all.json.sessions.map((s: { session_id: string }) => s.session_id)).toEqual(['s-2s']);
    expect(all.json.next_cursor).toBeNull();
    const user = await call('GET', `/v1/users/${encodeURIComponent('alice+ops@example.com')}/sessions`);
    expect(user.status).toBe(200);
    expect(user.json.user).toBe('alice+ops@example.com');
    expect(user.json.sessions.map((s: { session_id: string }) => s.session_id)).toEqual(['s-2s']);
    expect(user.json.devices).toMatchObject([{ id: 'd-9', posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: true }, ip: '81.2.69.142' }]);
    // Raw `+` and `@` in the path work too.
    expect((await call('GET', '/v1/users/alice+ops@example.com/sessions')).json.sessions).toHaveLength(1);
    const one = await call('GET', '/v1/sessions/s-2s');
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({
      session_id: 's-2s',
      user: 'alice+ops@example.com',
      idp: 'okta',
      claims: { email: 'alice@example.com', groups: ['eng'] },
      device: { id: 'd-9' },
      network: { asn: 2856, colo: 'LHR', via: 'warp' },
      ip: '81.2.69.142',
      geo: { city: 'London' },
    });

    await sleep(2200);
    expect((await call('GET', '/v1/sessions')).json.sessions).toEqual([]);
    expect((await call('GET', '/v1/users/alice%2Bops%40example.com/sessions')).json.sessions).toEqual([]);
    const gone = await call('GET', '/v1/sessions/s-2s');
    expect(gone.status).toBe(404);
    expect(gone.json).toEqual({ error: 'not_found', message: expect.any(String) });
  });

  it('stores configured claims as [redacted] and never stores a raw token (checked in Redis)', async () => {
    const jwt = fakeJwt({ sub: 'alice', email: 'alice@example.com' });
    const e = login({ sessionId: 's-priv' });
    e.session!.claims = { email: 'alice@example.com', employee_id: 'E-123', groups: ['eng'], id_token: jwt, raw: jwt };
    e.session!.token_hint = `Bearer ${jwt}`;
    await audit$(settings({ redact_claims: ['employee_id'] }))(batchOf([e]));

    const stored = (await t.redis.get(t.keys.session(t.keys.partitionOf(e.user), 's-priv')))!;
    expect(stored).toBeTruthy();
    expect(stored).not.toContain(jwt);
    expect(stored).not.toContain('E-123');
    expect(await dumpPrefix(t.redis, t.prefix)).not.toContain(jwt);
    const { json } = await call('GET', '/v1/sessions/s-priv');
    expect(json.claims.employee_id).toBe('[redacted]');
    expect(json.claims.id_token).toBe('[redacted]');
    expect(json.claims.raw).toEqual({ redacted: 'jwt', sha256: expect.stringMatching(/^[0-9a-f]{64}$/) });
    expect(JSON.stringify(json)).not.toContain(jwt);
  });

  it('never stores a password its context names: JSON text in a claim, a URL password, a secret-named parameter, HTTP Basic/Bearer credentials (found by a black-box audit: all stored in clear)', async () => {
    const e = login({ sessionId: 's-ctx' });
    e.session!.claims = {
      raw: '{"password":"Hunter2-json","groups":["eng"]}',
      line: 'ctx={"client_secret": "S3cret-line"}',
      db: 'postgres://app:Hunter2-url@db:5432/x',
      cb: 'https://app.example.com/cb?user=j&password=Hunter2-query&x=1',
      form: 'username=jack&password=Hunter2-form',
      auth: `Basic ${Buffer.from('jack:Hunter2-basic').toString('base64')}`,
      hdr: 'Bearer short-Hunter2',
      tier: 'Basic plan',
    };
    e.device = { id: 'd-1', posture: { mdm_url: 'https://mdm:Hunter2-device@mdm.example.com/' } };
    await audit$()(batchOf([e]));

    expect(await dumpPrefix(t.redis, t.prefix)).not.toContain('Hunter2');
    expect(await dumpPrefix(t.redis, t.prefix)).not.toContain('S3cret');
    const { json } = await call('GET', '/v1/sessions/s-ctx');
    expect(json.claims).toEqual({
      raw: '{"password":"[redacted]","groups":["eng"]}',
      line: 'ctx={"client_secret": "[redacted]"}',
      db: 'postgres://app:[redacted]@db:5432/x',
      cb: 'https://app.example.com/cb?user=j&password=[redacted]&x=1',
      form: 'username=jack&password=[redacted]',
      auth: 'Basic [redacted]',
      hdr: 'Bearer [redacted]',
      tier: 'Basic plan',
    });
    expect(json.device.posture.mdm_url).toBe('https://mdm:[redacted]@mdm.example.com/');
  });

  it('a login with a 500 KB groups claim is stored under sessions.max_identity_bytes, readable with its marker (found by the session audit: stored whole)', async () => {
    const e = login({ sessionId: 's-big' });
    const groups = Array.from({ length: 20_000 }, (_, i) => `okta-group-${String(i).padStart(14, '0')}`);
    const groupsJson = JSON.stringify(groups);
    expect(Buffer.byteLength(groupsJson)).toBeGreaterThan(500_000);
    e.session!.claims = { email: 'alice@example.com', groups };
    await audit$()(batchOf([e]));

    const key = t.keys.session(t.keys.partitionOf(e.user), 's-big');
    const stored = await t.redis.strlen(key);
    expect(stored).toBeGreaterThan(0);
    expect(stored).toBeLessThanOrEqual(64 * 1024);
    const marker = { truncated: true, bytes: Buffer.byteLength(groupsJson), sha256: createHash('sha256').update(groupsJson).digest('hex'), items: 20_000 };
    const one = await call('GET', '/v1/sessions/s-big');
    expect(one.status).toBe(200);
    expect(one.json).toMatchObject({
      session_id: 's-big',
      user: 'alice@example.com',
      claims: { email: 'alice@example.com', groups: marker },
      device: { id: 'd-9', posture: { os: 'macOS 15.1' } },
      network: { asn: 2856 },
      geo: { country: 'GB' },
      ip: '81.2.69.142',
      truncated: ['claims.groups'],
    });
    const page = await call('GET', '/v1/sessions');
    expect(page.json.sessions).toMatchObject([{ session_id: 's-big', claims: { groups: marker }, truncated: ['claims.groups'] }]);
    expect(Buffer.byteLength(JSON.stringify(page.json))).toBeLessThan(64 * 1024 + 1024);
  });

  it('DELETE revokes: 200 summary, 404 afterwards, audit entry, sink called', async () => {
    const e = login({ sessionId: 's-rev', user: 'bob@example.com' });
    await audit$()(batchOf([e]));
    const res = await call('DELETE', '/v1/sessions/s-rev', { body: { reason: 'lost laptop' } });
    expect(res.status).toBe(200);
    const changeId = revocationId({ session_id: 's-rev', login_at: e.time, user: 'bob@example.com' }, res.json.time);
    expect(res.json).toMatchObject({ revoked: true, session_id: 's-rev', user: 'bob@example.com', reason: 'lost laptop', change_id: changeId });
    expect(res.json.actor).toMatch(/^token:[0-9a-f]{8}$/);

    expect((await call('GET', '/v1/sessions/s-rev')).status).toBe(404);
    expect((await call('DELETE', '/v1/sessions/s-rev')).status).toBe(404);
    expect(revoked).toEqual([{ id: changeId, user: 'bob@example.com', sessionId: 's-rev', reason: 'lost laptop', actor: res.json.actor, time: res.json.time }]);
    const { entries } = await audit.list({ action: 'session.revoked' });
    expect(entries).toHaveLength(1);
    expect(entries[0]).toMatchObject({
      action: 'session.revoked',
      actor: res.json.actor,
      target: 's-rev',
      details: { user: 'bob@example.com', reason: 'lost laptop' },
    });
  });

  it('DELETE of an id two users of different partitions logged in with: users names both (found by an outside-in doc audit: the answer named one)', async () => {
    const first = 'dup-a@example.com';
    let second = 'dup-b@example.com';
    for (let i = 0; t.keys.partitionOf(second) === t.keys.partitionOf(first); i++) second = `dup-b${i}@example.com`;
    const at = Date.now() - 500;
    await audit$()(batchOf([login({ sessionId: 's-dup', user: first, time: at })]));
    await audit$()(batchOf([login({ sessionId: 's-dup', user: second, time: at + 1 })]));
    const res = await call('DELETE', '/v1/sessions/s-dup');
    expect(res.status).toBe(200);
    expect([...res.json.users].sort()).toEqual([first, second].sort());
    expect(res.json.users[0]).toBe(res.json.user);
  });

  it('DELETE takes ?reason= and defaults the reason', async () => {
    await audit$()(batchOf([login({ sessionId: 'q1' }), login({ sessionId: 'q2' })]));
    expect((await call('DELETE', '/v1/sessions/q1?reason=phished')).json.reason).toBe('phished');
    expect((await call('DELETE', '/v1/sessions/q2')).json.reason).toBe('revoked by admin');
    // A blank reason is no reason (found by a black-box review: "  " reached the audit log and SETs' reason_admin).
    await audit$()(batchOf([login({ sessionId: 'q3' }), login({ sessionId: 'q4' })]));
    expect((await call('DELETE', '/v1/sessions/q3?reason=%20%20')).json.reason).toBe('revoked by admin');
    expect((await call('DELETE', '/v1/sessions/q4', { body: { reason: ' \t\n' } })).json.reason).toBe('revoked by admin');
  });

  it('DELETE /v1/users/:user/sessions revokes all of that user’s sessions', async () => {
    await audit$()(batchOf([login({ sessionId: 'a1' }), login({ sessionId: 'a2' }), login({ sessionId: 'b1', user: 'bob@example.com' })]));
    const res = await call('DELETE', `/v1/users/${encodeURIComponent('Alice@Example.com')}/sessions?reason=offboarded`);
    expect(res.status).toBe(200);
    expect(res.json).toMatchObject({ user: 'alice@example.com', revoked: 2 });
    expect(revoked.map((r) => r.sessionId).sort()).toEqual(['a1', 'a2']);
    expect((await call('GET', '/v1/sessions')).json.sessions.map((s: { session_id: string }) => s.session_id)).toEqual(['b1']);
  });

  it('a user and a session id in the path are normalised as at ingest: NFC, trimmed (GET and DELETE)', async () => {
    const nfc = 'zo\u00eb@example.com';
    await audit$()(batchOf([login({ sessionId: 's-zoe', user: nfc })]));
    const nfd = encodeURIComponent('Zoe\u0308@example.com');
    const got = await call('GET', `/v1/users/${nfd}/sessions`);
    expect(got.json).toMatchObject({ user: nfc, sessions: [{ session_id: 's-zoe' }] });
    expect((await call('GET', `/v1/sessions/${encodeURIComponent('  s-zoe ')}`)).json).toMatchObject({ session_id: 's-zoe', user: nfc });
    const del = await call('DELETE', `/v1/users/${nfd}/sessions`);
    expect(del.json).toMatchObject({ user: nfc, revoked: 1, sessions: ['s-zoe'] });
    expect((await call('GET', '/v1/sessions/s-zoe')).status).toBe(404);
  });

  it("GET /v1/sessions?user= lists that user's sessions only (normalised as at ingest), in one page", async () => {
    await audit$()(
      batchOf([
        login({ user: 'carol@example.com', sessionId: 's-c1' }),
        login({ user: 'carol@example.com', sessionId: 's-c2' }),
        login({ user: 'dave@example.com', sessionId: 's-d1' }),
      ]),
    );
    const carol = await call('GET', `/v1/sessions?user=${encodeURIComponent(' Carol@Example.com ')}`);
    expect(carol.status).toBe(200);
    expect(carol.json.sessions.map((s: { session_id: string }) => s.session_id).sort()).toEqual(['s-c1', 's-c2']);
    expect(carol.json.next_cursor).toBeNull();
    expect((await call('GET', '/v1/sessions?user=nobody%40example.com')).json).toEqual({ sessions: [], next_cursor: null });
    expect((await call('GET', '/v1/sessions?user=')).status).toBe(400);
    expect((await call('GET', '/v1/sessions?user=dave%40example.com&cursor=x')).status).toBe(400);
    expect((await call('GET', '/v1/sessions')).json.sessions).toHaveLength(3);
  });

  it('paginates across pages with next_cursor', async () => {
    const now = Date.now();
    await audit$()(batchOf(Array.from({ length: 12 }, (_, i) => login({ sessionId: `pg${i}`, user: `u${i}@example.com`, time: now - i * 1000 }))));
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res: { status: number; json: any } = await call('GET', `/v1/sessions?limit=5${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.status).toBe(200);
      seen.push(...res.json.sessions.map((s: { session_id: string }) => s.session_id));
      cursor = res.json.next_cursor;
      pages++;
    } while (cursor);
    expect(pages).toBe(3);
    expect(seen).toEqual(Array.from({ length: 12 }, (_, i) => `pg${i}`));
    expect((await call('GET', '/v1/sessions?cursor=garbage')).status).toBe(400);
    expect((await call('GET', '/v1/sessions?limit=abc')).status).toBe(400);
  });

  it.each([
    ['GET', '/v1/sessions'],
    ['GET', '/v1/sessions/x'],
    ['DELETE', '/v1/sessions/x'],
    ['GET', '/v1/users/alice%40example.com/sessions'],
    ['DELETE', '/v1/users/alice%40example.com/sessions'],
  ])('%s %s: 401 without a token, 401 with a bad one, 403 with an ingest token', async (method, path) => {
    const none = await call(method, path, { token: null });
    expect(none.status).toBe(401);
    expect(none.json.error).toBe('unauthorized');
    expect((await call(method, path, { token: 'not-a-valid-token-at-all' })).status).toBe(401);
    const ingest = await call(method, path, { token: INGEST });
    expect(ingest.status).toBe(403);
    expect(ingest.json.error).toBe('forbidden');
  });
});
