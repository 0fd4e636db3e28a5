import { describe, expect, it } from 'vitest';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import { deviceIdentity } from '../../src/sessions/device-identity.js';
import { isSessionLogin, storedSessionId, type SessionIdentity } from '../../src/sessions/identity.js';
import { extendedIdentity } from '../../src/sessions/extend-identity.js';
import { looksLikeJwt, redactString, sha256Hex } from '../../src/sessions/redact.js';
import { scrubId } from '../../src/secrets/secret-values.js';
import type { CanonicalEvent } from '../../src/types.js';
import { fakeJwt, login, settings } from './helpers.js';

const T = Date.UTC(2026, 10, 23, 8, 0, 0);

describe('looksLikeJwt', () => {
  const jwt = fakeJwt();
  const jwe = `${Buffer.from('{"alg":"RSA-OAEP","enc":"A256GCM"}').toString('base64url')}.ZW5j.aXZpdg.Y2lwaGVy.dGFn`;
  it.each([
    ['compact JWS', jwt, true],
    ['unsecured JWT (empty signature)', jwt.slice(0, jwt.lastIndexOf('.') + 1), true],
    ['compact JWE (5 parts)', jwe, true],
    ['domain name', 'login.okta.example', false],
    ['IPv4 address', '81.2.69.142', false],
    ['dotted user id', 'alice.smith.eng', false],
    ['version string', 'v1.22.333', false],
    ['header not JSON', 'YWJj.ZGVm.Z2hp', false],
    ['header JSON but not an object', `${Buffer.from('[1]').toString('base64url')}.ZGVm.Z2hp`, false],
    ['two parts only', jwt.split('.').slice(0, 2).join('.'), false],
    ['trivial parts', 'a.b.c', false],
    ['padding chars', `${jwt}==`, false],
  ])('%s → %s', (_name, value, expected) => {
    expect(looksLikeJwt(value)).toBe(expected);
  });
});

describe('redactString', () => {
  it('replaces a whole-string token by its fingerprint', () => {
    const t = fakeJwt();
    expect(redactString(t)).toEqual({ redacted: 'jwt', sha256: sha256Hex(t) });
  });
  it.each([
    ['Bearer prefix', (t: string) => `Bearer ${t}`],
    ['URL query', (t: string) => `https://app.example/cb?id_token=${t}&x=1`],
    ['quoted in text', (t: string) => `token "${t}" rejected`],
  ])('removes a token embedded in a longer string (%s)', (_n, wrap) => {
    const t = fakeJwt();
    const out = redactString(wrap(t));
    expect(typeof out).toBe('string');
    expect(out).not.toContain(t);
    expect(out).toContain(`[redacted jwt sha256:${sha256Hex(t)}]`);
  });
  it('leaves ordinary strings alone', () => {
    expect(redactString('London, GB')).toBe('London, GB');
    expect(redactString('connected via 10.0.0.1')).toBe('connected via 10.0.0.1');
  });
});

describe('isSessionLogin', () => {
  const base = login({ time: T });
  it.each<[string, CanonicalEvent, boolean]>([
    ['successful login with session', base, true],
    ['session refresh', { ...base, type: 'session_refresh' }, true],
    ['failed login', { ...base, outcome: 'failure' }, false],
    // One definition of a login (src/login.ts): a login that leaves its outcome out is a success.
    ['login without outcome', { ...base, outcome: undefined }, true],
    ['refresh', { ...base, type: 'refresh' }, true],
    ['login without session', { ...base, session: undefined }, false],
    ['session without id', { ...base, session: { id: '' } }, false],
    ['numeric session id', { ...base, session: { id: 42 as unknown as string } }, true],
    ['dlp event', { type: 'dlp', user: 'a', time: T, outcome: 'success', session: { id: 's' } }, false],
  ])('%s → %s', (_n, e, expected) => {
    expect(isSessionLogin(e)).toBe(expected);
  });
});

describe('buildIdentity', () => {
  const cfg = settings({ redact_claims: ['email', 'ssn'], default_lifetime: 12 * 3_600_000 });

  it('builds the identity a login was granted', () => {
    const e = login({ time: T, sessionId: 's-123', expiresAt: T + 86_400_000, id: 'evt-1' });
    e.session!.amr = ['pwd', 'mfa'];
    expect(buildIdentity(e, settings())).toEqual({
      session_id: 's-123',
      user: 'alice@example.com',
      idp: 'okta',
      claims: { email: 'alice@example.com', groups: ['eng'] },
      device: { id: 'd-9', posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: true } },
      network: { asn: 2856, colo: 'LHR', via: 'warp' },
      ip: '81.2.69.142',
      geo: { lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB', city: 'London' },
      login_at: T,
      expires_at: T + 86_400_000,
      event_id: 'evt-1',
      attributes: { amr: ['pwd', 'mfa'] },
    });
  });

  it.each<[string, unknown, number]>([
    ['epoch ms', T + 5000, T + 5000],
    ['ISO string', new Date(T + 7000).toISOString(), T + 7000],
    ['missing → default lifetime', undefined, T + 12 * 3_600_000],
    ['unparseable → default lifetime', 'soon', T + 12 * 3_600_000],
  ])('expires_at from %s', (_n, expiresAt, expected) => {
    const e = login({ time: T });
    e.session!.expires_at = expiresAt as number;
    expect(buildIdentity(e, cfg)?.expires_at).toBe(expected);
  });

  it('returns null for events that are not successful session logins', () => {
    expect(buildIdentity({ ...login({ time: T }), outcome: 'failure' }, cfg)).toBeNull();
    expect(buildIdentity({ type: 'dlp', user: 'a', time: T }, cfg)).toBeNull();
  });

  it('stores configured claim names as [redacted], at any depth under claims', () => {
    const e = login({ time: T });
    e.session!.claims = { email: 'a@x', EMAIL: 'b@x', nested: { ssn: '123', deep: [{ ssn: '456', ok: 1 }] }, groups: ['eng'] };
    e.device!.email = 'kept: redact_claims only apply under claims';
    const id = buildIdentity(e, cfg)!;
    expect(id.claims).toEqual({
      email: '[redacted]',
      EMAIL: '[redacted]',
      nested: { ssn: '[redacted]', deep: [{ ssn: '[redacted]', ok: 1 }] },
      groups: ['eng'],
    });
    expect(id.device?.email).toBe('kept: redact_claims only apply under claims');
  });

  it('a claim given as a dotted path (address.street, claims.ssn) redacts its last name at any depth; a URI-named claim is one name', () => {
    // A black-box walk of CONTRACT §3: the path was matched as one name ("addressstreet") and redacted nothing.
    const e = login({ time: T });
    e.session!.claims = { address: { street: '1 Main St', city: 'X' }, ssn: '123', 'https://ex.com/emp.no': '7', 'emp.no': 8, no: 9 };
    const id = buildIdentity(e, settings({ redact_claims: ['address.street', 'claims.ssn', 'https://ex.com/emp.no'] }))!;
    expect(id.claims).toEqual({ address: { street: '[redacted]', city: 'X' }, ssn: '[redacted]', 'https://ex.com/emp.no': '[redacted]', 'emp.no': 8, no: 9 });
  });

  it('never keeps a raw token anywhere (claims, device, attributes, arrays)', () => {
    const [a, b, c, d] = [fakeJwt(), fakeJwt(), fakeJwt(), fakeJwt()];
    const e = login({ time: T });
    e.session!.claims = { raw_jwt: a, list: [b], nested: { x: { y: c } } };
    e.session!.note = `Bearer ${d}`;
    e.session!.assertion = 'PHNhbWxwOlJlc3BvbnNl';
    e.session!.access_token = 'opaque-access-token-value';
    e.device!.attestation = a;
    const id = buildIdentity(e, cfg)!;
    const text = JSON.stringify(id);
    for (const t of [a, b, c, d, 'opaque-access-token-value']) expect(text).not.toContain(t);
    expect(id.claims.raw_jwt).toEqual({ redacted: 'jwt', sha256: sha256Hex(a) });
    expect(id.claims.list).toEqual([{ redacted: 'jwt', sha256: sha256Hex(b) }]);
    expect(id.device?.attestation).toEqual({ redacted: 'jwt', sha256: sha256Hex(a) });
    expect(id.attributes?.access_token).toBe('[redacted]');
    expect(id.attributes?.note).toBe(`Bearer [redacted jwt sha256:${sha256Hex(d)}]`);
    expect(id.attributes?.assertion).toBe('[redacted]');
  });

  it('a token that is a field name of the session itself is fingerprinted, as at any other depth (found by a black-box review)', () => {
    const [a, b] = [fakeJwt(), fakeJwt()];
    const opaque = 'aB3dE5fG7hJ9kL1mN3pQ5rS7tU9vW1xY3zA5bC7d';
    const e = login({ time: T });
    Object.assign(e.session!, { [a]: 'active', [opaque]: 1 });
    e.session!.claims = { [b]: 'x' };
    const id = buildIdentity(e, cfg)!;
    const text = JSON.stringify(id);
    for (const t of [a, b, opaque]) expect(text).not.toContain(t);
    expect(id.attributes).toEqual({ [`[redacted jwt sha256:${sha256Hex(a)}]`]: 'active', [`[redacted token sha256:${sha256Hex(opaque)}]`]: 1 });
    expect(id.claims).toEqual({ [`[redacted jwt sha256:${sha256Hex(b)}]`]: 'x' });
  });

  it('stores a token-valued session id under its fingerprint', () => {
    const t = fakeJwt();
    const id = buildIdentity(login({ time: T, sessionId: t }), cfg)!;
    expect(id.session_id).toBe(`jwt-sha256:${sha256Hex(t)}`);
    expect(storedSessionId(t)).toBe(id.session_id);
    expect(storedSessionId('s-1')).toBe('s-1');
  });

  it('derives the device-registry entry', () => {
    const id = buildIdentity(login({ time: T, sessionId: 's-1' }), cfg)!;
    expect(deviceIdentity(id)).toEqual({
      id: 'd-9',
      posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: true },
      last_seen: T,
      ip: '81.2.69.142',
      session_id: 's-1',
    });
    expect(deviceIdentity({ ...id, device: { posture: {} } })).toBeNull();
  });

  it('registers a device whose id is a JWT under jwt-sha256:<hex>, as a session id, rather than leaving it out of the registry (found by an outside-in audit)', () => {
    const jwt = fakeJwt();
    const login1 = login({ time: T, sessionId: 's-1' });
    const id = buildIdentity({ ...login1, device: { id: jwt, posture: { os: 'x' } } }, cfg)!;
    expect(JSON.stringify(id)).not.toContain(jwt);
    expect(deviceIdentity(id)).toMatchObject({ id: `jwt-sha256:${sha256Hex(jwt)}`, posture: { os: 'x' } });
  });

  it('a refresh from the same device whose id is a JWT takes its posture, or keeps the one before (the fingerprints compare, not the objects)', () => {
    const jwt = fakeJwt();
    const first = buildIdentity({ ...login({ time: T, sessionId: 's-1' }), device: { id: jwt, posture: { os: 'a' } } }, cfg)!;
    const again = (posture?: Record<string, unknown>): SessionIdentity =>
      buildIdentity({ ...login({ time: T + 1000, sessionId: 's-1' }), type: 'session_refresh', device: posture ? { id: jwt, posture } : { id: jwt } }, cfg)!;
    expect(extendedIdentity(again({ os: 'b' }), first, true).device).toMatchObject({ posture: { os: 'b' } });
    expect(extendedIdentity(again(), first, true).device).toMatchObject({ posture: { os: 'a' } });
  });

  it('a device id holding a credential is stored as an id is read (its fingerprint): two devices stay two, and a use from the same device reads the same id (found by a review of context redaction)', () => {
    const ids = ['host-1?token=Abc1', 'host-1?token=Abc2'];
    const stored = ids.map((d) => buildIdentity({ ...login({ time: T, sessionId: `s-${d.slice(-1)}` }), device: { id: d, posture: { os: 'x' } } }, cfg)!);
    // session_hijack reads a use's raw device id with scrubId: the stored login's must be the same text.
    expect(stored.map((s) => s.device!.id)).toEqual(ids.map(scrubId));
    expect(new Set(stored.map((s) => deviceIdentity(s)!.id)).size).toBe(2);
    expect(JSON.stringify(stored)).not.toContain('Abc');
  });

  it('registers a device id longer than 512 characters under its fingerprint (a bounded registry field)', () => {
    const id = buildIdentity(login({ time: T, sessionId: 's-1' }), cfg)!;
    const long = 'd'.repeat(513);
    expect(deviceIdentity({ ...id, device: { id: long } })!.id).toBe(`sha256:${sha256Hex(long)}`);
    expect(deviceIdentity({ ...id, device: { id: 'd'.repeat(512) } })!.id).toBe('d'.repeat(512));
  });
});
