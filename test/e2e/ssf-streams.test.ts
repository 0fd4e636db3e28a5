import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';

const CAEP_RISK = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const CAEP_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';

const ssfToken = 'ssf-token-for-the-stream-tests-0123';
const h = workerHarness('ssf-streams', () => ({ http: { ssf_tokens: [ssfToken] } }));

const api = async (method: string, path: string, body?: unknown, token = ssfToken): Promise<{ status: number; json: any }> => {
  const res = await fetch(`${h.worker.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    ...(body ? { body: JSON.stringify(body) } : {}),
  });
  const text = await res.text();
  return { status: res.status, json: text ? JSON.parse(text) : undefined };
};

async function travel(user: string, hour: number): Promise<void> {
  const t = (h: number): string => `2026-11-23T${String(h).padStart(2, '0')}:00:00Z`;
  await h.redis.xadd(`${h.prefix}:login`, '*', 'event', JSON.stringify({ type: 'login', user, time: t(hour), ip: '81.2.69.142', geo: { lat: 51.5, lon: -0.12 } }));
  await h.redis.xadd(`${h.prefix}:login`, '*', 'event', JSON.stringify({ type: 'login', user, time: t(hour + 1), ip: '1.128.0.1', geo: { lat: -33.87, lon: 151.21 } }));
}

const setsFor = (user: string) => h.receiver.received.filter((s) => (s.claims.sub_id as { email?: string } | undefined)?.email === user);

describe('SSF stream management', () => {
  let id = '';

  it('publishes transmitter metadata', async () => {
    const meta = (await (await fetch(`${h.worker.url}/.well-known/ssf-configuration`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ issuer: 'https://riskstream.test', delivery_methods_supported: ['urn:ietf:rfc:8935'] });
    for (const k of ['jwks_uri', 'configuration_endpoint', 'status_endpoint', 'add_subject_endpoint', 'remove_subject_endpoint', 'verification_endpoint']) {
      expect(meta[k], k).toEqual(expect.stringMatching(/^https:\/\//));
    }
  });

  it('refuses callers without the ssf scope', async () => {
    expect((await api('GET', '/ssf/streams', undefined, 'nope-nope-nope-nope')).status).toBe(401);
    expect((await api('GET', '/ssf/streams', undefined, h.cfg.ingestToken)).status).toBe(403);
  });

  it('a stream created through the API receives SETs without a restart', async () => {
    const r = await api('POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${h.receiver.url}/ssf` }, events_requested: [CAEP_RISK, CAEP_REVOKED], aud: 'https://rx.example' });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ iss: 'https://riskstream.test', aud: 'https://rx.example', events_delivered: [CAEP_RISK, CAEP_REVOKED] });
    id = r.json.stream_id;
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.stream_id).toBe(id);

    await travel('stream-user@example.com', 8);
    await waitFor(() => setsFor('stream-user@example.com').length >= 1, { what: 'a SET on the new stream' });
    const set = setsFor('stream-user@example.com')[0]!;
    expect(set.verified).toBe(true);
    expect(set.claims.aud).toBe('https://rx.example');
    expect(eventOf(set)).toMatchObject({ type: CAEP_RISK, body: { current_level: 'HIGH' } });
  });

  it('a verification event round-trips with its state', async () => {
    expect((await api('POST', '/ssf/verify', { stream_id: id, state: 'xyz-123' })).status).toBe(204);
    const v = await waitFor(() => h.receiver.received.find((s) => eventOf(s).type === VERIFICATION), { what: 'verification SET' });
    expect(v.verified).toBe(true);
    expect(eventOf(v).body.state).toBe('xyz-123');
  });

  it('a paused stream holds events and delivers them on resume; removed subjects get nothing', async () => {
    expect((await api('POST', '/ssf/status', { stream_id: id, status: 'paused', reason: 'maintenance' })).json).toMatchObject({ status: 'paused' });
    expect((await api('GET', `/ssf/status?stream_id=${id}`)).json.status).toBe('paused');
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: id, subject: { format: 'email', email: 'hidden@example.com' } })).status).toBe(204);
    await travel('paused-user@example.com', 12);
    await travel('hidden@example.com', 12);
    await new Promise((r) => setTimeout(r, 1500));
    expect(setsFor('paused-user@example.com')).toHaveLength(0);

    await api('POST', '/ssf/status', { stream_id: id, status: 'enabled' });
    await waitFor(() => setsFor('paused-user@example.com').length >= 1, { what: 'held SET after resume' });
    await new Promise((r) => setTimeout(r, 500));
    expect(setsFor('hidden@example.com')).toHaveLength(0);
  });

  it('updates and deletes streams, and audits each change', async () => {
    const r = await api('PATCH', '/ssf/streams', { stream_id: id, description: 'siem' });
    expect(r.json.description).toBe('siem');
    expect((await api('DELETE', `/ssf/streams?stream_id=${id}`)).status).toBe(204);
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).status).toBe(404);
    const audit = (await api('GET', '/v1/audit?limit=200', undefined, h.cfg.adminToken)).json.entries as Array<{ action: string }>;
    const actions = audit.map((e) => e.action);
    for (const a of ['receiver.enabled', 'receiver.changed', 'receiver.disabled']) expect(actions).toContain(a);
  });
});
