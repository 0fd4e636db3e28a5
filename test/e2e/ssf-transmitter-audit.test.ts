/**
 * An outside audit of riskstream as an SSF 1.0 Transmitter, black-box against a real worker: the
 * departures it found, each a test that failed before its fix. `txn` on the SETs riskstream
 * originates about a stream (verification, stream-updated: SSF 1.0 §4.1.9 "Transmitters SHOULD
 * set the txn claim").
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { apiClient, CAEP_RISK, PUSH, VERIFICATION } from '../helpers/ssf-api.js';
import { workerHarness } from '../helpers/worker.js';

const STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';
const token = 'ssf-token-for-the-transmitter-audit-0123';
const h = workerHarness('ssf-tx-audit', () => ({
  http: { ssf_tokens: [token] },
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
});
