/**
 * A black-box audit of the SETs riskstream sends (CONTRACT §4, SSF.md), as an outside receiver
 * checks them: every SET verified with jose against the JWKS the SSF configuration metadata names
 * (`jwks_uri`), `iss` equal to the metadata's `issuer`; a user's level raised, raised again, lowered
 * by an admin's reset and by expiry, and a session revoked by policy and by an admin — each SET's
 * claims and event checked against RFC 8417 / CAEP 1.0 / Okta ITP; RFC 8935 §2.3 error codes
 * (retried or dropped, and audited, as docs/interfaces.md §4 says), per-user order across a 5xx,
 * a redirect to the same origin not followed either, and the Okta receiver's RS256 key rotated.
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { parse, stringify } from 'yaml';
import { afterAll, describe, expect, it } from 'vitest';
import { generateKeyFiles } from '../../src/ssf/keys.js';
import { waitFor } from '../helpers/redis.js';
import { eventOf, type ReceivedSet } from '../helpers/receiver.js';
import { criticalDetection, sessionLogin, workerHarness } from '../helpers/worker.js';

const CAEP_RISK = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const CAEP_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const OKTA_RISK = 'https://schemas.okta.com/secevent/okta/event-type/user-risk-change';
const IDP = 'https://idp.example';
const AUD = { '/rx': 'https://rx.example', '/iss': 'https://iss.example', '/okta': 'https://org.okta.test' } as Record<string, string>;

const rsa = mkdtempSync(join(tmpdir(), 'riskstream-set-audit-'));
await generateKeyFiles('RS256', rsa, 'okta');
afterAll(() => rmSync(rsa, { recursive: true, force: true }));

const h = workerHarness(
  'set-audit',
  (url) => ({
    signing: { key_file: 'keys/signing.pem', alg: 'ES256', keys: [{ key_file: join(rsa, 'okta.pem'), alg: 'RS256' }] },
    delivery: { backoff_base: '100ms', backoff_max: '1s', invalid_key_retry: '1s' },
    receivers: [
      { name: 'rx', kind: 'ssf', endpoint: `${url}/rx`, audience: AUD['/rx'], reason_languages: ['de'] },
      { name: 'iss', kind: 'ssf', endpoint: `${url}/iss`, audience: AUD['/iss'], subject_format: 'iss_sub', subject_issuer: IDP },
      { name: 'okta', kind: 'okta', endpoint: `${url}/okta`, audience: AUD['/okta'] },
    ],
  }),
  {
    behaviors: {
      endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      dlp_detection: { enabled: true, risk_level: 'medium', expires_after: '4s', min_severity: 'high' },
      responses: [{ when: { level: 'high' }, revoke_sessions: true }],
    },
  },
);

const userOf = (s: ReceivedSet): string => {
  const sub = s.claims.sub_id as Record<string, any>;
  const u = sub.format === 'complex' ? sub.user : sub;
  return u.email ?? u.id ?? u.sub ?? '';
};
const of = (user: string, path?: string): ReceivedSet[] => h.receiver.received.filter((s) => userOf(s) === user && (path === undefined || s.path === path));
const admin = (path: string, init: RequestInit = {}): Promise<Response> =>
  fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${h.cfg.adminToken}`, 'content-type': 'application/json' } });
const add = (stream: string, e: string | Record<string, unknown>) =>
  h.redis.xadd(`${h.prefix}:${stream}`, '*', 'event', typeof e === 'string' ? e : JSON.stringify(e));
const dlp = (user: string) => ({ type: 'dlp', user, time: Date.now() - 500, profile: 'credit-cards', severity: 'high', action: 'block', app: 'drive' });

type Entry = { action: string; target?: string; details: Record<string, unknown> };
async function audit(user: string, receiver = 'rx'): Promise<Entry[]> {
  const body = (await (await admin('/v1/audit?limit=1000')).json()) as { entries: Entry[] };
  return body.entries.filter((e) => e.target === user && e.details.receiver === receiver).reverse();
}

/** What an outside receiver knows: the metadata, and the JWKS at its `jwks_uri`. */
async function verifier(): Promise<{ issuer: string; jwks: JSONWebKeySet }> {
  const meta = (await (await fetch(`${h.worker.url}/.well-known/ssf-configuration`)).json()) as { issuer: string; jwks_uri: string };
  const jwks = (await (await fetch(`${h.worker.url}${new URL(meta.jwks_uri).pathname}`)).json()) as JSONWebKeySet;
  return { issuer: meta.issuer, jwks };
}

/** Verifies a SET as a strict receiver does, and checks the claims every SET must carry. */
async function check(set: ReceivedSet, v: { issuer: string; jwks: JSONWebKeySet }): Promise<Record<string, unknown>> {
  const header = decodeProtectedHeader(set.token);
  expect(Object.keys(header).sort()).toEqual(['alg', 'kid', 'typ']);
  expect(header.typ).toBe('secevent+jwt');
  expect(header.alg).toBe(set.path === '/okta' ? 'RS256' : 'ES256');
  const { payload } = await jwtVerify(set.token, createLocalJWKSet(v.jwks), {
    typ: 'secevent+jwt',
    issuer: v.issuer,
    audience: AUD[set.path]!,
    algorithms: [header.alg!],
  });
  expect(payload.aud).toBe(AUD[set.path]); // a string, not an array
  expect(payload.iss).toBe(v.issuer);
  expect(Number.isInteger(payload.iat)).toBe(true);
  expect(payload.iat!).toBeLessThanOrEqual(Math.ceil(Date.now() / 1000));
  expect(typeof payload.jti).toBe('string');
  expect(typeof payload.txn).toBe('string');
  expect(payload.sub).toBeUndefined();
  expect(payload.exp).toBeUndefined();
  expect(Object.keys(payload.events as object)).toHaveLength(1);
  const body = eventOf({ claims: payload as ReceivedSet['claims'] }).body;
  expect(Number.isInteger(body.event_timestamp)).toBe(true);
  // Seconds, not milliseconds, and never after the SET was issued.
  expect(body.event_timestamp as number).toBeLessThanOrEqual(payload.iat!);
  expect(body.event_timestamp as number).toBeGreaterThan(payload.iat! - 600);
  expect(['admin', 'user', 'policy', 'system']).toContain(body.initiating_entity);
  for (const k of ['reason_admin', 'reason_user']) {
    if (body[k] === undefined) continue;
    const texts = body[k] as Record<string, unknown>;
    expect(texts.en).toEqual(expect.any(String));
    for (const [tag, text] of Object.entries(texts)) {
      expect(tag).toMatch(/^[a-z]{2,3}(-[A-Za-z0-9]+)*$/);
      expect(text).toEqual(expect.any(String));
    }
  }
  return payload;
}

describe('SETs as an outside receiver audits them', () => {
  it('raise, raise again, a policy revoke, an admin reset, an admin revoke, expiry: every SET verified, every claim as the specs say', async () => {
    const v = await verifier();
    const alice = 'alice@example.com';
    await add('login', sessionLogin(alice, 's-alice'));
    await waitFor(async () => (await admin('/v1/sessions/s-alice')).status === 200, { what: 'the session stored' });
    await add('activity', dlp(alice));
    await waitFor(() => of(alice).length >= 3, { what: 'MEDIUM at every receiver' });
    await add('activity', criticalDetection(alice));
    // HIGH at 3 receivers and the policy's session-revoked at 3.
    await waitFor(() => of(alice).length >= 9, { what: 'HIGH and the revocation' });
    const reset = await admin(`/v1/users/${encodeURIComponent(alice)}/risk/reset`, { method: 'POST', body: JSON.stringify({ reason: 'false positive' }) });
    expect(reset.status).toBe(200);
    await waitFor(() => of(alice).length >= 12, { what: 'LOW after the reset' });

    const bob = 'bob@example.com';
    await add('login', sessionLogin(bob, 's-bob'));
    await waitFor(async () => (await admin('/v1/sessions/s-bob')).status === 200, { what: "bob's session stored" });
    expect((await admin('/v1/sessions/s-bob', { method: 'DELETE', body: '{}' })).status).toBe(200);
    await add('activity', dlp(bob));
    await waitFor(() => of(bob).length >= 9, { timeout: 20_000, what: "bob's revocation, MEDIUM and its expiry" });
    await new Promise((r) => setTimeout(r, 500));

    const all = [...of(alice), ...of(bob)];
    expect(all).toHaveLength(21);
    // The JWKS: public keys only, each with its kid, alg and use; every SET's kid is there, for its alg.
    for (const k of v.jwks.keys) {
      expect(Object.keys(k).filter((m) => ['d', 'p', 'q', 'dp', 'dq', 'qi'].includes(m))).toEqual([]);
      expect(k).toMatchObject({ kid: expect.any(String), alg: expect.stringMatching(/^(ES256|RS256)$/), use: 'sig' });
    }
    for (const s of all) expect(v.jwks.keys.find((k) => k.kid === s.header.kid)?.alg).toBe(s.header.alg);
    const claims = new Map<ReceivedSet, Record<string, unknown>>();
    for (const s of all) claims.set(s, await check(s, v));
    // jti unique across every SET; txn shared by the receivers' copies of one change, one per change.
    expect(new Set(all.map((s) => claims.get(s)!.jti)).size).toBe(all.length);
    const txns = new Map<string, string[]>();
    for (const s of all) txns.set(claims.get(s)!.txn as string, [...(txns.get(claims.get(s)!.txn as string) ?? []), s.path]);
    expect([...txns.values()].map((p) => p.sort())).toEqual(Array.from({ length: 7 }, () => ['/iss', '/okta', '/rx']));
    // The audit log records each SET sent, once, by its jti.
    const receiverOf: Record<string, string> = { '/rx': 'rx', '/iss': 'iss', '/okta': 'okta' };
    const delivered = [...(await audit(alice, 'rx')), ...(await audit(bob, 'rx')), ...(await audit(alice, 'iss')), ...(await audit(bob, 'iss'))];
    delivered.push(...(await audit(alice, 'okta')), ...(await audit(bob, 'okta')));
    for (const s of all) {
      const entries = delivered.filter((e) => e.action === 'set.delivered' && e.details.jti === claims.get(s)!.jti);
      expect(entries).toHaveLength(1);
      expect(entries[0]!.details).toMatchObject({ receiver: receiverOf[s.path], status: 202, user: userOf(s) });
    }

    const events = (user: string, path: string) => of(user, path).map((s) => eventOf({ claims: claims.get(s) as ReceivedSet['claims'] }));
    // CAEP risk-level-change (kind ssf), in order: upper-case levels, principal USER, risk_reason. The policy's
    // session-revoked is a SET of its own (no order with the level changes is promised).
    const typed = (user: string, path: string, type: string) => events(user, path).filter((e) => e.type === type);
    const rx = typed(alice, '/rx', CAEP_RISK);
    expect(
      events(alice, '/rx')
        .map((e) => e.type)
        .sort(),
    ).toEqual([CAEP_RISK, CAEP_RISK, CAEP_RISK, CAEP_REVOKED].sort());
    expect(rx.map((e) => [e.body.previous_level, e.body.current_level, e.body.initiating_entity])).toEqual([
      ['LOW', 'MEDIUM', 'system'],
      ['MEDIUM', 'HIGH', 'system'],
      ['HIGH', 'LOW', 'admin'],
    ]);
    for (const e of rx) {
      expect(e.body.principal).toBe('USER');
      expect(e.body.risk_reason).toEqual(expect.any(String));
      expect(Object.keys(e.body.reason_user as object).sort()).toEqual(['de', 'en']);
    }
    expect(typed(alice, '/rx', CAEP_REVOKED)[0]!.body.initiating_entity).toBe('policy');
    // Okta: its own event, lower-case levels, the subject inside the event too.
    const okta = events(alice, '/okta');
    expect(okta.map((e) => e.type).sort()).toEqual([OKTA_RISK, OKTA_RISK, OKTA_RISK, CAEP_REVOKED].sort());
    expect(okta.filter((e) => e.type === OKTA_RISK).map((e) => [e.body.previous_level, e.body.current_level])).toEqual([
      ['low', 'medium'],
      ['medium', 'high'],
      ['high', 'low'],
    ]);
    for (const e of okta) expect(e.body.subject).toEqual({ user: { format: 'email', email: alice } });
    // sub_id per subject_format; a revoked session is a complex subject.
    const subs = (user: string, path: string) => of(user, path).map((s) => claims.get(s)!.sub_id);
    expect(subs(alice, '/iss')[0]).toEqual({ format: 'iss_sub', iss: IDP, sub: alice });
    expect(subs(alice, '/rx').filter((x) => (x as { format: string }).format === 'complex')).toEqual([
      { format: 'complex', user: { format: 'email', email: alice }, session: { format: 'opaque', id: 's-alice' } },
    ]);

    // Bob: an admin's revocation, then MEDIUM, then LOW by expiry (initiating_entity system, its event_timestamp the expiry's).
    expect(typed(bob, '/rx', CAEP_REVOKED).map((e) => e.body.initiating_entity)).toEqual(['admin']);
    const brx = typed(bob, '/rx', CAEP_RISK);
    expect(brx.map((e) => [e.body.previous_level, e.body.current_level, e.body.initiating_entity])).toEqual([
      ['LOW', 'MEDIUM', 'system'],
      ['MEDIUM', 'LOW', 'system'],
    ]);
    expect((brx[1]!.body.event_timestamp as number) - (brx[0]!.body.event_timestamp as number)).toBeGreaterThanOrEqual(3);
  }, 60_000);

  it.each<[string, number, Record<string, string> | undefined, number, string]>([
    ['invalid_request', 400, { err: 'invalid_request', description: 'malformed' }, 1, 'rejected'],
    ['invalid_issuer', 400, { err: 'invalid_issuer', description: 'unknown iss' }, 1, 'rejected'],
    ['access_denied', 400, { err: 'access_denied', description: 'not allowed' }, 1, 'rejected'],
    ['authentication_failed (not the signature)', 400, { err: 'authentication_failed', description: 'unknown client' }, 1, 'rejected'],
    ['invalid_key (retried once: delivery.invalid_key_retry)', 400, { err: 'invalid_key', description: 'unknown kid' }, 2, 'rejected'],
    [
      'authentication_failed, the signature (retried once)',
      400,
      { err: 'authentication_failed', description: 'Could not verify message signature' },
      2,
      'rejected',
    ],
    ['401 with access_denied', 401, { err: 'access_denied', description: 'bad token' }, 1, 'unauthorized'],
    ['404', 404, undefined, 1, 'rejected'],
  ])(
    'RFC 8935 §2.3: %s → HTTP %i: sent as many times as the docs say, one jti, every attempt audited with the receiver’s err',
    async (name, status, body, sends, outcome) => {
      const user = `err-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}@example.com`;
      h.receiver.respond = (s) => (s.path === '/rx' && userOf(s) === user ? { status, ...(body ? { body } : {}) } : { status: 202 });
      await add('activity', criticalDetection(user));
      await waitFor(async () => (await audit(user)).some((e) => e.action === 'set.failed'), { what: 'set.failed' });
      await new Promise((r) => setTimeout(r, 1500));
      const sent = of(user, '/rx');
      expect(sent).toHaveLength(sends);
      expect(new Set(sent.map((s) => s.claims.jti)).size).toBe(1);
      const entries = await audit(user);
      expect(entries.map((e) => e.action)).toEqual(sends === 2 ? ['set.retry', 'set.failed'] : ['set.failed']);
      for (const e of entries) expect(e.details).toMatchObject({ status, jti: sent[0]!.claims.jti, ...(body ?? {}) });
      expect(entries.at(-1)!.details.outcome).toBe(outcome);
      // The other receivers got theirs.
      expect(of(user, '/iss')).toHaveLength(1);
      expect(of(user, '/okta')).toHaveLength(1);
    },
  );

  it('per-user order across a 5xx: MEDIUM answered 503, HIGH queued behind it — the receiver accepts no older level after a newer one', async () => {
    const user = 'order-5xx@example.com';
    const levelOf = (x: ReceivedSet): string => eventOf(x).body.current_level as string;
    let first = true;
    h.receiver.respond = (s) => {
      if (s.path !== '/rx' || userOf(s) !== user || levelOf(s) !== 'MEDIUM' || !first) return { status: 202 };
      first = false;
      return { status: 503, headers: { 'retry-after': '1' } };
    };
    await add('activity', dlp(user));
    await waitFor(() => of(user, '/rx').length >= 1, { what: 'the 503' });
    await add('activity', criticalDetection(user));
    await waitFor(async () => (await audit(user)).filter((e) => e.action === 'set.delivered' || e.action === 'set.superseded').length >= 2, {
      what: 'both settled',
    });
    await new Promise((r) => setTimeout(r, 1500));
    const sent = of(user, '/rx');
    expect(levelOf(sent[0]!)).toBe('MEDIUM'); // the one answered 503
    const accepted = sent.slice(1).map(levelOf);
    expect(['HIGH', 'MEDIUM,HIGH']).toContain(accepted.join());
    expect(accepted.at(-1)).toBe('HIGH');
    expect(eventOf(sent.at(-1)!).body.previous_level).toBe('MEDIUM');
    // What was sent is audited: the 503 as a retry, then each SET delivered or superseded once.
    const actions = (await audit(user)).map((e) => e.action);
    expect(actions[0]).toBe('set.retry');
    expect(actions.filter((a) => a === 'set.delivered' || a === 'set.superseded')).toHaveLength(2);
  });

  it('a redirect to the same origin is not followed either (one request; permanent, audited)', async () => {
    const user = 'same-origin@example.com';
    h.receiver.respond = (s) =>
      s.path === '/rx' && userOf(s) === user ? { status: 307, headers: { location: `${h.receiver.url}/rx-moved` } } : { status: 202 };
    await add('activity', criticalDetection(user));
    await waitFor(async () => (await audit(user)).some((e) => e.action === 'set.failed'), { what: 'set.failed' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(h.receiver.received.filter((s) => s.path === '/rx-moved')).toHaveLength(0);
    expect(of(user, '/rx')).toHaveLength(1);
    expect((await audit(user)).at(-1)!.details).toMatchObject({ status: 307, outcome: 'rejected' });
  });
  it("the Okta receiver's RS256 key (a signing.keys entry) rotated by SIGHUP: the old kid stays in the JWKS, new SETs carry the new kid and verify", async () => {
    const before = (await verifier()).jwks.keys.find((k) => k.alg === 'RS256')!.kid!;
    await generateKeyFiles('RS256', rsa, 'okta-next');
    const file = join(h.cfg.dir, 'riskstream.yaml');
    const c = parse(readFileSync(file, 'utf8')) as { signing: { keys: Array<{ key_file: string }> } };
    c.signing.keys[0]!.key_file = join(rsa, 'okta-next.pem');
    writeFileSync(file, stringify(c));
    h.worker.child.kill('SIGHUP');
    const v = await waitFor(
      async () => {
        const x = await verifier();
        return x.jwks.keys.filter((k) => k.alg === 'RS256').length >= 2 ? x : null;
      },
      { what: 'the new RS256 key published' },
    );
    expect(v.jwks.keys.map((k) => k.kid)).toContain(before);
    const user = 'rotated@example.com';
    h.receiver.respond = () => ({ status: 202 });
    await add('activity', criticalDetection(user));
    const set = await waitFor(() => of(user, '/okta')[0], { what: 'the Okta SET' });
    expect(set.header.kid).not.toBe(before);
    await check(set, v);
  });
});
