/**
 * An outside audit of riskstream as an SSF 1.0 Transmitter, black-box against a real worker: the
 * departures it found, each a test that failed before its fix. `txn` on the SETs riskstream
 * originates about a stream (verification, stream-updated: SSF 1.0 §4.1.9 "Transmitters SHOULD
 * set the txn claim"), and subjects:add / subjects:remove answering a well-formed subject riskstream
 * does not track with 404 (§8.1.3.2 / §8.1.3.3: "the subject is not recognized by the Event
 * Transmitter"), not 400 (kept for a body that is no subject identifier); a create / PATCH / PUT
 * naming an `inactivity_timeout` — Transmitter-Supplied, and riskstream has none — refused as
 * every other Transmitter-Supplied property that differs (§8.1.1.3), not answered 2xx and ignored;
 * subjects:remove of the stream's own subject answered 403 (§8.1.4.1: it "MAY NOT be removed");
 * a verification the transmitter starts (an admin on a stream it does not own) carrying no `state`
 * (§8.1.4.2: "MUST not be set").
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { apiClient, CAEP_RISK, PUSH, VERIFICATION } from '../helpers/ssf-api.js';
import { workerHarness } from '../helpers/worker.js';

const STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';
const token = 'ssf-token-for-the-transmitter-audit-0123';
const otherToken = 'ssf-token-of-another-receiver-audit-0123';
const h = workerHarness('ssf-tx-audit', () => ({
  http: { ssf_tokens: [token, otherToken] },
  ssf: { allowed_endpoints: ['127.0.0.1'], limits: { min_verification_interval: '0s' } },
}));
const api = apiClient(() => h.worker.url, token);

async function stream(path: string): Promise<string> {
  const r = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${h.receiver.url}${path}` }, events_requested: [CAEP_RISK] });
  expect(r.status).toBe(201);
  return r.json.stream_id as string;
}

const at = (path: string, type: string) => h.receiver.received.filter((s) => s.path === path && eventOf(s).type === type);

describe('SSF 1.0 transmitter audit', () => {
  it('§4.1.9: a verification SET carries a txn, one per verification request', async () => {
    const id = await stream('/verify-txn');
    for (const state of ['first', 'second']) expect((await api('POST', '/ssf/verify', { stream_id: id, state })).status).toBe(204);
    const sets = await waitFor(() => (at('/verify-txn', VERIFICATION).length >= 2 ? at('/verify-txn', VERIFICATION) : undefined), {
      what: 'two verification SETs',
    });
    expect(sets.every((s) => s.verified)).toBe(true);
    const txns = sets.map((s) => s.claims.txn);
    for (const txn of txns) expect(txn).toEqual(expect.stringMatching(/\S/));
    expect(new Set(txns).size).toBe(2); // unique to the request that caused each
  });

  it('§4.1.9: a stream-updated SET (a status the transmitter set) carries a txn', async () => {
    const id = await stream('/updated-txn');
    const r = await api('POST', '/ssf/status', { stream_id: id, status: 'paused', reason: 'maintenance' }, h.cfg.adminToken);
    expect(r.status).toBe(200);
    const [set] = await waitFor(() => (at('/updated-txn', STREAM_UPDATED).length ? at('/updated-txn', STREAM_UPDATED) : undefined), {
      what: 'the stream-updated SET',
    });
    expect(set!.verified).toBe(true);
    expect(eventOf(set!).body).toEqual({ status: 'paused', reason: 'maintenance' });
    expect(set!.claims.txn).toEqual(expect.stringMatching(/\S/));
  });

  it('§8.1.3.2 / §8.1.3.3: a well-formed subject riskstream does not track → 404 not_found, add and remove alike; the spec’s own remove example too', async () => {
    const id = await stream('/subjects');
    const untracked = [
      { format: 'phone', phone_number: '+12065550123' }, // the spec's remove example
      { format: 'phone_number', phone_number: '+12065550123' },
      { format: 'account', uri: 'acct:someone@example.com' },
      { format: 'aliases', identifiers: [{ format: 'did', url: 'did:example:123' }] },
      { format: 'complex', session: { format: 'opaque', id: 's-1' } }, // no user
      { format: 'complex', user: { format: 'did', url: 'did:example:123' } },
    ];
    for (const subject of untracked) {
      for (const op of ['subjects:add', 'subjects:remove']) {
        const r = await api('POST', `/ssf/${op}`, { stream_id: id, subject });
        expect([r.status, r.json?.error], `${op} ${JSON.stringify(subject)}`).toEqual([404, 'not_found']);
      }
    }
    // Not a subject identifier at all: still 400.
    const malformed = [
      'alice@example.com',
      { email: 'alice@example.com' },
      { format: 'email' },
      { format: 'opaque', id: 7 },
      { format: 'complex', user: 'alice@example.com' },
    ];
    for (const subject of malformed) {
      const r = await api('POST', '/ssf/subjects:remove', { stream_id: id, subject });
      expect([r.status, r.json?.error], JSON.stringify(subject)).toEqual([400, 'bad_request']);
    }
    // Tracked formats, directly or as a complex subject's user: accepted.
    const email = { format: 'email', email: 'tracked@example.com' };
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: id, subject: { format: 'complex', user: email } })).status).toBe(204);
    expect((await api('POST', '/ssf/subjects:add', { stream_id: id, subject: email })).status).toBe(200);
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: id, subject: { format: 'iss_sub', iss: 'https://idp.example', sub: 'u-1' } })).status).toBe(
      204,
    );
  });

  it('§8.1.1 / §8.1.1.3: inactivity_timeout is Transmitter-Supplied and riskstream sets none: create, PATCH and PUT naming one → 400 transmitter_supplied, nothing changed', async () => {
    const before = (await api('GET', '/ssf/streams')).json as unknown[];
    const create = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: `${h.receiver.url}/idle` }, inactivity_timeout: 86400 });
    expect([create.status, create.json.error]).toEqual([400, 'transmitter_supplied']);
    expect((await api('GET', '/ssf/streams')).json).toHaveLength(before.length);

    const id = await stream('/idle');
    const config = (await api('GET', `/ssf/streams?stream_id=${id}`)).json as Record<string, unknown>;
    expect(config.inactivity_timeout).toBeUndefined();
    const patch = await api('PATCH', '/ssf/streams', { stream_id: id, description: 'idle', inactivity_timeout: 60 });
    expect([patch.status, patch.json.error]).toEqual([400, 'transmitter_supplied']);
    const put = await api('PUT', '/ssf/streams', { ...config, description: 'idle', inactivity_timeout: 60 });
    expect([put.status, put.json.error]).toEqual([400, 'transmitter_supplied']);
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json).toEqual(config);
    // The configuration read back and replaced as it is (no inactivity_timeout): accepted.
    expect((await api('PUT', '/ssf/streams', { ...config, description: 'idle' })).status).toBe(200);
  });

  it('§8.1.4.1 / §8.1.3.3: the stream\'s own subject "MAY NOT be removed": subjects:remove of it → 403 forbidden; verification still reaches the stream; another token still gets 404', async () => {
    const id = await stream('/own-subject');
    const own = { format: 'opaque', id };
    const r = await api('POST', '/ssf/subjects:remove', { stream_id: id, subject: own });
    expect([r.status, r.json?.error]).toEqual([403, 'forbidden']);
    expect((await api('POST', '/ssf/subjects:add', { stream_id: id, subject: own })).status).toBe(200); // always added: a no-op
    // Another stream's id is just an opaque subject here.
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: id, subject: { format: 'opaque', id: 'some-other-stream' } })).status).toBe(204);
    // A caller that cannot see the stream learns nothing from it: 404, as for any call on it.
    const other = await api('POST', '/ssf/subjects:remove', { stream_id: id, subject: own }, otherToken);
    expect([other.status, other.json?.error]).toEqual([404, 'not_found']);
    expect((await api('POST', '/ssf/verify', { stream_id: id, state: 'still-here' })).status).toBe(204);
    const set = await waitFor(() => at('/own-subject', VERIFICATION)[0], { what: 'the verification SET' });
    expect(eventOf(set).body).toEqual({ state: 'still-here' });
    expect(set.claims.sub_id).toEqual(own);
  });

  it("§8.1.4.2: a verification the transmitter starts (an admin on a receiver's stream) carries no state: one given → 400, none → 204 and a SET without state", async () => {
    const id = await stream('/admin-verify');
    const withState = await api('POST', '/ssf/verify', { stream_id: id, state: 'admin-made-this-up' }, h.cfg.adminToken);
    expect([withState.status, withState.json?.error]).toEqual([400, 'bad_request']);
    expect((await api('POST', '/ssf/verify', { stream_id: id }, h.cfg.adminToken)).status).toBe(204);
    const set = await waitFor(() => at('/admin-verify', VERIFICATION)[0], { what: 'the transmitter’s verification SET' });
    expect(set.verified).toBe(true);
    expect(eventOf(set).body).toEqual({});
    // The receiver's own request still echoes its state.
    expect((await api('POST', '/ssf/verify', { stream_id: id, state: 'receiver-state' })).status).toBe(204);
    const mine = await waitFor(() => at('/admin-verify', VERIFICATION).find((s) => eventOf(s).body.state === 'receiver-state'), {
      what: 'the receiver’s verification SET',
    });
    expect(mine.claims.sub_id).toEqual({ format: 'opaque', id });
    expect(at('/admin-verify', VERIFICATION).filter((s) => eventOf(s).body.state === 'admin-made-this-up')).toHaveLength(0);
  });
});
