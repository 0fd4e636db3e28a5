/**
 * OpenID Shared Signals Framework 1.0, receiver side, against a real worker over HTTP: discovery
 * (§7), stream management (§8.1.1 create / read / update / replace / delete), status (§8.1.2),
 * subjects (§8.1.3) and verification (§8.1.4), with the spec's status codes and bodies. The five
 * departures issue 14 found are the tests marked "issue 14".
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { apiClient, CAEP_REVOKED, CAEP_RISK, PUSH, VERIFICATION } from '../helpers/ssf-api.js';
import { workerHarness } from '../helpers/worker.js';

const token = 'ssf-token-for-the-conformance-walk-0123';
const h = workerHarness('ssf-conformance', () => ({ http: { ssf_tokens: [token] }, ssf: { allowed_endpoints: ['127.0.0.1'] } }));
const api = apiClient(() => h.worker.url, token);

/** The worker-relative path of an endpoint the metadata names (the issuer host is not this test's). */
let meta: Record<string, unknown> = {};
const path = (endpoint: string): string => new URL(meta[endpoint] as string).pathname;

describe('OpenID SSF 1.0 — receiver-side flow', () => {
  let id = '';
  let config: Record<string, any> = {}; // the stream configuration JSON

  it('§7.2: the transmitter configuration metadata at /.well-known/ssf-configuration', async () => {
    const res = await fetch(`${h.worker.url}/.well-known/ssf-configuration`);
    expect(res.status).toBe(200);
    meta = (await res.json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ spec_version: '1_0', issuer: 'https://riskstream.test', delivery_methods_supported: expect.arrayContaining([PUSH]) });
    for (const k of ['jwks_uri', 'configuration_endpoint', 'status_endpoint', 'add_subject_endpoint', 'remove_subject_endpoint', 'verification_endpoint']) {
      expect(meta[k], k).toEqual(expect.stringMatching(/^https:\/\/riskstream\.test\//));
    }
    expect(path('add_subject_endpoint')).toBe('/ssf/subjects:add');
    const jwks = (await (await fetch(`${h.worker.url}${path('jwks_uri')}`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.length).toBeGreaterThan(0);
    expect(jwks.keys.every((k) => k.d === undefined)).toBe(true);
  });

  it('§8.1: management calls without a bearer token → 401', async () => {
    const res = await fetch(`${h.worker.url}${path('configuration_endpoint')}`);
    expect(res.status).toBe(401);
  });

  it('§8.1.1.1: create → 201 with the whole configuration; iss is the metadata issuer', async () => {
    const r = await api('POST', path('configuration_endpoint'), {
      delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/events` },
      events_requested: [CAEP_RISK, 'urn:example:secevent:events:unknown'],
      description: 'conformance walk',
    });
    expect(r.status).toBe(201);
    config = r.json;
    id = config.stream_id;
    expect(id).toMatch(/^[A-Za-z0-9._~-]+$/); // §8.1.1: RFC 3986 §2.3 characters
    expect(config).toMatchObject({
      iss: meta.issuer,
      aud: h.receiver.url,
      delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/events` },
      events_requested: [CAEP_RISK, 'urn:example:secevent:events:unknown'],
      events_delivered: [CAEP_RISK],
      description: 'conformance walk',
    });
    expect(config.events_supported).toEqual(expect.arrayContaining([CAEP_RISK, CAEP_REVOKED, VERIFICATION]));
    // "a subset … of the intersection of events_supported and events_requested"
    for (const e of config.events_delivered) expect(config.events_supported.includes(e) && config.events_requested.includes(e)).toBe(true);
    expect(Number.isInteger(config.min_verification_interval)).toBe(true);
  });

  it('issue 14 (2), §8.1.1 "aud: Transmitter-Supplied": a create naming another aud → 400, nothing created', async () => {
    const r = await api('POST', path('configuration_endpoint'), {
      delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/events` },
      aud: 'https://someone-else.example',
    });
    expect([r.status, r.json.error]).toEqual([400, 'transmitter_supplied']);
    expect((await api('GET', path('configuration_endpoint'))).json).toHaveLength(1);
  });

  it("§8.1.1.2: read one (200, the same configuration), the list (all of this receiver's), an unknown id → 404", async () => {
    const one = await api('GET', `${path('configuration_endpoint')}?stream_id=${id}`);
    expect(one.status).toBe(200);
    expect(one.json).toEqual(config);
    expect(one.headers.get('cache-control')).toBe('no-store');
    const list = await api('GET', path('configuration_endpoint'));
    expect([list.status, list.json]).toEqual([200, [config]]);
    expect((await api('GET', `${path('configuration_endpoint')}?stream_id=nope`)).status).toBe(404);
  });

  it('§8.1.1.3: PATCH → 200 with the entire updated configuration; missing properties unchanged', async () => {
    const r = await api('PATCH', path('configuration_endpoint'), {
      stream_id: id,
      events_requested: [CAEP_RISK, CAEP_REVOKED],
      aud: config.aud,
      events_delivered: config.events_delivered,
    });
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      stream_id: id,
      iss: meta.issuer,
      aud: config.aud,
      events_delivered: [CAEP_RISK, CAEP_REVOKED],
      description: 'conformance walk',
    });
    expect(r.json.delivery).toEqual(config.delivery);
    config = r.json;
  });

  it('issue 14 (2), §8.1.1 "[aud] cannot be updated" / §8.1.1.3 "a Transmitter-Supplied property is incorrect" → 400', async () => {
    const r = await api('PATCH', path('configuration_endpoint'), { stream_id: id, aud: 'https://someone-else.example' });
    expect([r.status, r.json.error]).toEqual([400, 'transmitter_supplied']);
    expect((await api('GET', `${path('configuration_endpoint')}?stream_id=${id}`)).json.aud).toBe(config.aud);
  });

  it('issue 14 (3), §8.1.1.3 "The events_delivered property, if present, MUST match the Transmitter\'s expected value before any updates are applied" → 400', async () => {
    const r = await api('PATCH', path('configuration_endpoint'), { stream_id: id, events_requested: [CAEP_RISK], events_delivered: [CAEP_RISK] });
    expect([r.status, r.json.error]).toEqual([400, 'transmitter_supplied']);
    expect((await api('GET', `${path('configuration_endpoint')}?stream_id=${id}`)).json.events_requested).toEqual([CAEP_RISK, CAEP_REVOKED]);
  });

  it('issue 14 (4), §8.1.1.4 "Missing Receiver-Supplied properties MUST be interpreted as requested to be deleted": PUT without events_requested / description', async () => {
    await api('PATCH', path('configuration_endpoint'), { stream_id: id, events_requested: [CAEP_REVOKED] });
    const r = await api('PUT', path('configuration_endpoint'), { stream_id: id, delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/events` } });
    expect(r.status).toBe(200);
    expect(r.json.events_requested).toEqual([CAEP_RISK, CAEP_REVOKED]); // the defaults, not the old [CAEP_REVOKED]
    expect(r.json.description).toBeUndefined();
    expect(r.json).toMatchObject({ stream_id: id, iss: meta.issuer, aud: config.aud });
  });

  it('§8.1.2.1 / §8.1.2.2: read and update the status (200 with stream_id, status, reason)', async () => {
    const read = await api('GET', `${path('status_endpoint')}?stream_id=${id}`);
    expect([read.status, read.json]).toEqual([200, { stream_id: id, status: 'enabled' }]);
    const paused = await api('POST', path('status_endpoint'), { stream_id: id, status: 'paused', reason: 'SYSTEM_DOWN_FOR_MAINTENANCE' });
    expect([paused.status, paused.json]).toEqual([200, { stream_id: id, status: 'paused', reason: 'SYSTEM_DOWN_FOR_MAINTENANCE' }]);
    expect((await api('GET', `${path('status_endpoint')}?stream_id=${id}`)).json.status).toBe('paused');
    const enabled = await api('POST', path('status_endpoint'), { stream_id: id, status: 'enabled' });
    expect([enabled.status, enabled.json]).toEqual([200, { stream_id: id, status: 'enabled' }]);
    // §8.1.2: a disabled stream is sent nothing (nor held), so a verification it could never get is refused.
    expect((await api('POST', path('status_endpoint'), { stream_id: id, status: 'disabled' })).json.status).toBe('disabled');
    const verify = await api('POST', path('verification_endpoint'), { stream_id: id, state: 'never-sent' });
    expect([verify.status, verify.json.error]).toEqual([400, 'bad_request']);
    expect((await api('POST', path('status_endpoint'), { stream_id: id, status: 'enabled' })).json.status).toBe('enabled');
    expect((await api('GET', `${path('status_endpoint')}?stream_id=nope`)).status).toBe(404);
    expect((await api('POST', path('status_endpoint'), { stream_id: id, status: 'sleeping' })).status).toBe(400);
  });

  it('issue 14 (5), §8.1.3.2 "the Event Transmitter responds with an empty 200 OK response"; §8.1.3.3 remove → 204', async () => {
    const subject = { format: 'email', email: 'example.user@example.com' };
    const added = await api('POST', path('add_subject_endpoint'), { stream_id: id, subject, verified: true });
    expect([added.status, added.text]).toEqual([200, '']);
    const removed = await api('POST', path('remove_subject_endpoint'), { stream_id: id, subject });
    expect([removed.status, removed.text]).toEqual([204, '']);
    expect((await api('POST', path('add_subject_endpoint'), { stream_id: 'nope', subject })).status).toBe(404);
    expect((await api('POST', path('add_subject_endpoint'), { stream_id: id, subject: 'not-an-object' })).status).toBe(400);
    // §8.1.3.2: `verified` is a boolean; a string is a malformed request (was 200, as if true).
    const notBoolean = await api('POST', path('add_subject_endpoint'), { stream_id: id, subject, verified: 'yes' });
    expect([notBoolean.status, notBoolean.json.error]).toEqual([400, 'bad_request']);
  });

  it('§8.1.4.2: verify → empty 204; issue 14 (1), §8.1.4.1: the verification SET\'s sub_id is {"format":"opaque","id":<stream_id>}', async () => {
    const r = await api('POST', path('verification_endpoint'), { stream_id: id, state: 'VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo=' });
    expect([r.status, r.text]).toEqual([204, '']);
    const set = await waitFor(() => h.receiver.received.find((s) => eventOf(s).type === VERIFICATION), { what: 'the verification SET' });
    expect(set.verified).toBe(true); // signature checked against the worker's JWKS
    expect(set.header).toMatchObject({ typ: 'secevent+jwt' });
    expect(set.contentType).toBe('application/secevent+jwt');
    expect(set.path).toBe('/events');
    expect(set.claims).toMatchObject({ iss: meta.issuer, aud: config.aud, sub_id: { format: 'opaque', id } });
    expect(eventOf(set).body).toEqual({ state: 'VGhpcyBpcyBhbiBleGFtcGxlIHN0YXRlIHZhbHVlLgo=' });
    expect((await api('POST', path('verification_endpoint'), { stream_id: 'nope' })).status).toBe(404);
  });

  it('§8.1.1.5: delete → empty 204; the stream is gone (404) from read, status and the list', async () => {
    const r = await api('DELETE', `${path('configuration_endpoint')}?stream_id=${id}`);
    expect([r.status, r.text]).toEqual([204, '']);
    expect((await api('GET', `${path('configuration_endpoint')}?stream_id=${id}`)).status).toBe(404);
    expect((await api('GET', `${path('status_endpoint')}?stream_id=${id}`)).status).toBe(404);
    expect((await api('DELETE', `${path('configuration_endpoint')}?stream_id=${id}`)).status).toBe(404);
    expect((await api('GET', path('configuration_endpoint'))).json).toEqual([]);
  });
});
