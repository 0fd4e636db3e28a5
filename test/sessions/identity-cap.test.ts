import { afterEach, describe, expect, it, vi } from 'vitest';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import { attachStored, type SessionIdentity } from '../../src/sessions/identity.js';
import { cappedIdentity, DEFAULT_MAX_IDENTITY_BYTES, jsonBound } from '../../src/sessions/identity-cap.js';
import { sha256Hex } from '../../src/sessions/redact.js';
import { riskstreamSchema } from '../../src/config/schema.js';
import { fakeJwt, login, settings } from './helpers.js';

// The size bound of stored identities (sessions.max_identity_bytes), found by the session audit:
// a claim up to ingest.max_event_size (1 MiB) was stored whole, for every session of a user.

const T = Date.UTC(2026, 10, 23, 8, 0, 0);
const bytes = (v: unknown): number => Buffer.byteLength(JSON.stringify(v), 'utf8');
const cutOf = (v: unknown, extra: Record<string, number> = {}) => ({ truncated: true, bytes: bytes(v), sha256: sha256Hex(JSON.stringify(v)), ...extra });

function identity(over: Partial<SessionIdentity> = {}): SessionIdentity {
  return {
    session_id: 's-1',
    user: 'alice@example.com',
    idp: 'okta',
    claims: { email: 'alice@example.com', groups: ['eng'] },
    device: { id: 'd-9', posture: { os: 'macOS 15.1', disk_encrypted: true } },
    network: { asn: 2856, colo: 'LHR', via: 'warp' },
    ip: '81.2.69.142',
    geo: { country: 'GB', city: 'London', lat: 51.5, lon: -0.12 },
    login_at: T,
    expires_at: T + 3_600_000,
    event_id: 'evt-1',
    ...over,
  };
}
const groups = (n: number, width = 24): string[] => Array.from({ length: n }, (_, i) => `group-${String(i).padStart(width - 6, '0')}`);

afterEach(() => vi.restoreAllMocks());

describe('cappedIdentity: the bound', () => {
  it('an identity under the bound is returned as it is, measured without serialising it', () => {
    const id = identity();
    const stringify = vi.spyOn(JSON, 'stringify');
    expect(cappedIdentity(id, DEFAULT_MAX_IDENTITY_BYTES)).toBe(id);
    expect(stringify).not.toHaveBeenCalled();
  });

  it('exactly at the bound: kept whole; one byte under: cut to fit', () => {
    const id = identity({ claims: { email: 'a@example.com', groups: groups(400) } });
    const size = bytes(id);
    expect(cappedIdentity(id, size)).toBe(id);
    expect(cappedIdentity(id, size + 1)).toBe(id);
    const cut = cappedIdentity(id, size - 1);
    expect(bytes(cut)).toBeLessThanOrEqual(size - 1);
    expect(cut.claims.groups).toEqual(cutOf(id.claims.groups, { items: 400 }));
    expect(cut.truncated).toEqual(['claims.groups']);
  });

  it('counts UTF-8 bytes, not characters', () => {
    const id = identity({ claims: { motto: 'é'.repeat(3000) } }); // 2 bytes a character
    expect(bytes(id)).toBeGreaterThan(6000);
    const cut = cappedIdentity(id, 5000);
    expect(cut.claims.motto).toEqual(cutOf('é'.repeat(3000)));
    expect(bytes(cut)).toBeLessThanOrEqual(5000);
  });

  it('cuts the largest values first, only as many as it takes', () => {
    const big = groups(600); // ≈ 16 KB
    const mid = groups(300); // ≈ 8 KB
    const small = groups(100); // ≈ 2.7 KB
    const id = identity({ claims: { roles: mid, email: 'a@example.com', groups: big, apps: small } });
    const cut = cappedIdentity(id, bytes(id) - 1000);
    expect(cut.truncated).toEqual(['claims.groups']);
    expect(cut.claims).toEqual({ roles: mid, email: 'a@example.com', groups: cutOf(big, { items: 600 }), apps: small });
    const two = cappedIdentity(id, bytes(id) - 17_000);
    expect(two.truncated).toEqual(['claims.groups', 'claims.roles']);
    expect(two.claims.apps).toEqual(small);
    expect(bytes(two)).toBeLessThanOrEqual(bytes(id) - 17_000);
  });

  it('marker shapes: an array counts its items, an object its fields, a string neither', () => {
    const posture = Object.fromEntries(groups(300).map((g) => [g, true]));
    const id = identity({ claims: { groups: groups(300), note: 'x'.repeat(9000) }, device: { id: 'd-9', posture } });
    const cut = cappedIdentity(id, 4096);
    expect(cut.claims.groups).toEqual(cutOf(id.claims.groups, { items: 300 }));
    expect(cut.claims.note).toEqual(cutOf('x'.repeat(9000)));
    expect(cut.device).toEqual({ id: 'd-9', posture: cutOf(posture, { keys: 300 }) });
    expect(cut.truncated).toEqual(['device.posture', 'claims.note', 'claims.groups']);
    expect(bytes(cut)).toBeLessThanOrEqual(4096);
  });

  it('never cuts what the product needs: user, session id, times, ip, device.id, network.asn, geo.country', () => {
    const long = 'L'.repeat(3000);
    const id = identity({
      device: { id: 'd-' + 'L'.repeat(1000), posture: { os: long } },
      network: { asn: 2856, colo: long, via: long },
      geo: { country: 'GB', city: long, region: long },
      claims: { a: long, b: long },
      attributes: { amr: long },
      refreshed_at: T + 5,
    });
    const cut = cappedIdentity(id, 4096);
    expect(cut).toMatchObject({ session_id: 's-1', user: 'alice@example.com', ip: '81.2.69.142', login_at: T, expires_at: T + 3_600_000, refreshed_at: T + 5 });
    expect(cut.device).toEqual({ id: 'd-' + 'L'.repeat(1000), posture: cutOf({ os: long }, { keys: 1 }) });
    expect(cut.network!.asn).toBe(2856);
    expect(cut.geo!.country).toBe('GB');
    expect(bytes(cut)).toBeLessThanOrEqual(4096);
    // Protected fields alone over the bound: kept whole, the rest cut.
    const hugeId = 'd-' + 'x'.repeat(10_000);
    const huge = cappedIdentity(identity({ device: { id: hugeId, posture: { os: long } } }), 4096);
    expect(huge.device!.id).toBe(hugeId);
    expect(huge.user).toBe('alice@example.com');
    expect(bytes(huge)).toBeLessThan(10_000 + 1024);
  });

  it('many small claims (no one value worth a marker): the whole claims object is cut', () => {
    const claims = Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`c${i}`, i]));
    const id = identity({ claims });
    const cut = cappedIdentity(id, 8192);
    expect(cut.claims).toEqual(cutOf(claims, { keys: 2000 }));
    expect(cut.truncated).toEqual(['claims']);
    expect(bytes(cut)).toBeLessThanOrEqual(8192);
  });

  it('a device of many small fields: cut whole, its id kept beside the marker', () => {
    const device = { id: 'd-9', ...Object.fromEntries(Array.from({ length: 2000 }, (_, i) => [`f${i}`, true])) };
    const cut = cappedIdentity(identity({ device }), 8192);
    expect(cut.device).toEqual({ id: 'd-9', ...cutOf(device, { keys: 2001 }) });
    expect(cut.truncated).toEqual(['device']);
  });

  it('a huge idp or event id: a text marker (they stay strings)', () => {
    const idp = 'okta-' + 'i'.repeat(20_000);
    const cut = cappedIdentity(identity({ idp }), 8192);
    expect(cut.idp).toBe(`[truncated ${bytes(idp)} bytes sha256:${sha256Hex(JSON.stringify(idp))}]`);
    expect(cut.truncated).toEqual(['idp']);
  });

  it('is deterministic: the same identity gives the same bytes; equal sizes go by path', () => {
    const a = groups(300);
    const b = groups(300).map((g) => g.replace('group', 'grouq'));
    const make = () => identity({ claims: { zeta: b, alpha: a } });
    const max = bytes(make()) - 2000;
    const one = JSON.stringify(cappedIdentity(make(), max));
    expect(JSON.stringify(cappedIdentity(make(), max))).toBe(one);
    expect(JSON.parse(one).truncated).toEqual(['claims.alpha']);
    // Capping a capped identity changes nothing.
    const again = cappedIdentity(JSON.parse(one) as SessionIdentity, max);
    expect(JSON.stringify(again)).toBe(one);
  });

  it('a claim shaped like a marker but holding more is cut like any value (an IdP cannot hide a large value behind one)', () => {
    const fake = { truncated: true, bytes: 1, sha256: 'x', pad: 'p'.repeat(20_000) };
    const cut = cappedIdentity(identity({ claims: { fake } }), 8192);
    expect(cut.claims.fake).toEqual(cutOf(fake, { keys: 4 }));
    expect(cut.truncated).toEqual(['claims.fake']);
  });

  it('keeps every result under the bound across sizes', () => {
    for (let n = 0; n <= 3000; n += 250) {
      const id = identity({ claims: { groups: groups(n), roles: groups(n >> 1, 40), email: 'a@example.com' }, attributes: { amr: groups(n >> 2) } });
      for (const max of [4096, 10_000, 32_768]) {
        const cut = cappedIdentity(id, max);
        expect(bytes(cut)).toBeLessThanOrEqual(max);
        if (bytes(id) <= max) expect(cut).toBe(id);
        else expect(cut.truncated!.length).toBeGreaterThan(0);
      }
    }
  });
});

describe('jsonBound', () => {
  it.each<[string, unknown]>([
    ['ASCII', { a: 'hello', n: -1 / 3e300, b: [true, null, false] }],
    ['control characters', { s: '\u0001\u0002\n"\\' }],
    ['astral and lone surrogates', { s: '😀\ud800x', k: 'é' }],
    ['undefined fields and holes', { u: undefined, a: [undefined, 1] }],
  ])('is never under the exact size (%s)', (_n, v) => {
    expect(jsonBound(v, Infinity)).toBeGreaterThanOrEqual(bytes(v));
  });
  it('stops at the limit, and gives up on values JSON.stringify writes otherwise', () => {
    expect(jsonBound({ s: 'x'.repeat(100) }, 50)).toBe(Infinity);
    expect(jsonBound({ d: new Date(0) }, 1000)).toBe(Infinity);
  });
});

describe('buildIdentity applies the bound', () => {
  it('a login with a 500 KB groups claim is stored under sessions.max_identity_bytes, redacted before it is measured and hashed', () => {
    const e = login({ time: T, sessionId: 's-big' });
    const jwt = fakeJwt();
    const big = [...groups(20_000), jwt];
    e.session!.claims = { email: 'alice@example.com', groups: big, id_token: jwt, employee_id: 'E-1' };
    expect(bytes(big)).toBeGreaterThan(500_000);
    const id = buildIdentity(e, settings({ redact_claims: ['employee_id'] }))!;
    expect(bytes(id)).toBeLessThanOrEqual(64 * 1024);
    expect(id.truncated).toEqual(['claims.groups']);
    // The marker describes the value as it would have been stored: the JWT in it fingerprinted.
    const redacted = [...groups(20_000), { redacted: 'jwt', sha256: sha256Hex(jwt) }];
    expect(id.claims).toEqual({ email: 'alice@example.com', groups: cutOf(redacted, { items: 20_001 }), id_token: '[redacted]', employee_id: '[redacted]' });
    expect(JSON.stringify(id)).not.toContain(jwt);
    expect(id).toMatchObject({ session_id: 's-big', device: { id: 'd-9' }, network: { asn: 2856 }, geo: { country: 'GB' }, ip: '81.2.69.142' });
  });

  it('follows sessions.max_identity_bytes (a reload), and leaves a usual login as it was', () => {
    const e = login({ time: T, sessionId: 's-r' });
    e.session!.claims = { groups: groups(1000) };
    expect(buildIdentity(e, settings())!.truncated).toBeUndefined();
    expect(buildIdentity(e, settings({ max_identity_bytes: 8192 }))!.truncated).toEqual(['claims.groups']);
  });

  it('a refresh bringing small claims drops the stored cut from the list; one without claims keeps it', () => {
    const first = login({ time: T, sessionId: 's-x' });
    first.session!.claims = { groups: groups(5000) };
    const stored = buildIdentity(first, settings())!;
    expect(stored.truncated).toEqual(['claims.groups']);
    const refresh = (claims?: Record<string, unknown>) => {
      const r = { ...login({ time: T + 60_000, sessionId: 's-x' }), type: 'session_refresh' };
      if (claims) r.session!.claims = claims;
      else delete r.session!.claims;
      attachStored(r, stored);
      return buildIdentity(r, settings())!;
    };
    const fresh = refresh({ groups: ['eng'] });
    expect(fresh.claims).toEqual({ groups: ['eng'] });
    expect(fresh.truncated).toBeUndefined();
    const kept = refresh();
    expect(kept.refreshed_at).toBe(T + 60_000);
    expect(kept.claims.groups).toEqual(stored.claims.groups);
    expect(kept.truncated).toEqual(['claims.groups']);
  });
});

describe('sessions.max_identity_bytes (config)', () => {
  it('defaults to 64 KiB; under 4 KiB or not a whole number is refused', () => {
    expect(riskstreamSchema.parse({}).sessions.max_identity_bytes).toBe(65_536);
    expect(riskstreamSchema.parse({ sessions: { max_identity_bytes: 4096 } }).sessions.max_identity_bytes).toBe(4096);
    for (const bad of [1024, 4095, 65_536.5, '64KiB']) expect(riskstreamSchema.safeParse({ sessions: { max_identity_bytes: bad } }).success).toBe(false);
  });
});
