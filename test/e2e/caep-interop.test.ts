/**
 * OpenID CAEP Interoperability Profile 1.0 — the Transmitter's requirements (§ "Transmitters",
 * "Event Subjects", "Event Signatures", "The SSF Transmitter as a Resource Server", "Security Event
 * Token", "Session Revocation / Logout"), walked against a real worker and a real push receiver
 * over loopback. The worker signs with an RS256 key (the profile: "All events MUST be signed using
 * the RS256 algorithm using a minimum of 2048-bit keys"), as `signing.alg: RS256` configures it.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { apiClient, CAEP_REVOKED, PUSH, VERIFICATION } from '../helpers/ssf-api.js';
import { sessionLogin, workerHarness } from '../helpers/worker.js';

const token = 'ssf-token-for-the-caep-interop-walk-0123';
const h = workerHarness('caep-interop', () => ({
  http: { ssf_tokens: [token] },
  ssf: { allowed_endpoints: ['127.0.0.1'], limits: { min_verification_interval: '0s' } },
  signing: { key_file: 'keys/interop-rs256.pem', alg: 'RS256' },
}));
const api = apiClient(() => h.worker.url, token);

let meta: Record<string, unknown> = {};
const path = (endpoint: string): string => new URL(meta[endpoint] as string).pathname;

describe('CAEP Interoperability Profile 1.0 — transmitter', () => {
  let id = '';

  it('metadata: spec_version 1_0, delivery_methods_supported, jwks_uri, configuration / status / verification endpoints', async () => {
    const res = await fetch(`${h.worker.url}/.well-known/ssf-configuration`);
    expect(res.status).toBe(200);
    meta = (await res.json()) as Record<string, unknown>;
    expect(meta.spec_version).toBe('1_0');
    expect(meta.delivery_methods_supported).toEqual(expect.arrayContaining([PUSH]));
    for (const k of ['jwks_uri', 'configuration_endpoint', 'status_endpoint', 'verification_endpoint']) expect(typeof meta[k], k).toBe('string');
  });

  it('metadata: authorization_schemes includes {"spec_urn": "urn:ietf:rfc:6749"}', () => {
    expect(meta.authorization_schemes).toEqual(expect.arrayContaining([{ spec_urn: 'urn:ietf:rfc:6749' }]));
  });

  it('the Resource Server takes the access token in the Authorization header, never in the query (RFC 6750 §2.3)', async () => {
    const inQuery = await fetch(`${h.worker.url}${path('configuration_endpoint')}?access_token=${token}`);
    expect(inQuery.status).toBe(401);
    expect(inQuery.headers.get('www-authenticate')).toMatch(/^Bearer/);
    expect((await api('GET', path('configuration_endpoint'))).status).toBe(200);
  });

  it('stream control: create (POST, push) → a configuration with delivery; read it back', async () => {
    const r = await api('POST', path('configuration_endpoint'), { delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/events` } });
    expect(r.status).toBe(201);
    id = r.json.stream_id;
    expect(r.json.delivery).toMatchObject({ method: PUSH, endpoint_url: `${h.receiver.url}/events` });
    const read = await api('GET', `${path('configuration_endpoint')}?stream_id=${id}`);
    expect([read.status, read.json.delivery?.method]).toEqual([200, PUSH]);
  });

  it('status endpoint: GET, and POST with enabled, paused and disabled', async () => {
    expect((await api('GET', `${path('status_endpoint')}?stream_id=${id}`)).json).toMatchObject({ stream_id: id, status: 'enabled' });
    for (const status of ['paused', 'disabled', 'enabled']) {
      const r = await api('POST', path('status_endpoint'), { stream_id: id, status });
      expect([r.status, r.json.status]).toEqual([200, status]);
      expect((await api('GET', `${path('status_endpoint')}?stream_id=${id}`)).json.status).toBe(status);
    }
  });

  it('verification: one event, sub_id opaque, RS256 with a key of 2048 bits or more from jwks_uri', async () => {
    const r = await api('POST', path('verification_endpoint'), { stream_id: id, state: 'interop' });
    expect(r.status).toBe(204);
    const set = await waitFor(() => h.receiver.received.find((s) => eventOf(s).type === VERIFICATION), { what: 'the verification SET' });
    expect(set.verified).toBe(true); // checked against the keys jwks_uri serves: it provides the current signing key
    expect(set.header.alg).toBe('RS256');
    expect(Object.keys(set.claims.events as object)).toHaveLength(1);
    expect(set.claims.sub_id).toEqual({ format: 'opaque', id });
    const jwks = (await (await fetch(`${h.worker.url}${path('jwks_uri')}`)).json()) as { keys: Array<{ kid: string; n?: string }> };
    const key = jwks.keys.find((k) => k.kid === set.header.kid);
    expect(Buffer.from(key?.n ?? '', 'base64url').length * 8).toBeGreaterThanOrEqual(2048);
  });

  it('session-revoked: one event, an email subject, a non-empty reason_admin (also when the admin gives none)', async () => {
    const user = 'interop.user@example.com';
    const sid = 'interop-session-1';
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(user, sid));
    const admin = { authorization: `Bearer ${h.cfg.adminToken}` };
    await waitFor(async () => (await fetch(`${h.worker.url}/v1/sessions/${sid}`, { headers: admin })).status === 200, { what: 'the stored session' });
    const revoke = await fetch(`${h.worker.url}/v1/sessions/${sid}`, {
      method: 'DELETE',
      headers: { ...admin, 'content-type': 'application/json' },
      body: '{"reason":"  "}',
    });
    expect(revoke.status).toBeLessThan(300);
    const set = await waitFor(() => h.receiver.received.find((s) => eventOf(s).type === CAEP_REVOKED), { what: 'the session-revoked SET' });
    expect(set.verified).toBe(true);
    expect(Object.keys(set.claims.events as object)).toHaveLength(1);
    expect(set.claims.sub_id).toMatchObject({ format: 'complex', user: { format: 'email', email: user } });
    const reason = eventOf(set).body.reason_admin as Record<string, string>;
    expect(Object.values(reason).some((t) => t.trim().length > 0)).toBe(true);
  });
});
