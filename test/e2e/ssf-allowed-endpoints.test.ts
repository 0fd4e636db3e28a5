/**
 * `ssf.allowed_endpoints` (CONTRACT §3) against a real worker and the system resolver: a host:port
 * entry naming `localhost` (a name that resolves locally only), an IPv6 address and a CIDR. What
 * they list may be plain http and loopback; every other spelling of a loopback, private,
 * link-local or unspecified address — decimal, hex, octal, short, IPv4-mapped IPv6 — is refused
 * with 400 `endpoint_refused`, and nothing is sent to it. The unit tests (test/ssf/endpoint-policy)
 * check the policy with a fake resolver; this checks what a receiver gets through the API.
 */
import { lookup } from 'node:dns/promises';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { apiClient, PUSH, VERIFICATION } from '../helpers/ssf-api.js';
import { workerHarness } from '../helpers/worker.js';

// The connection goes to the first address the resolver gives for the name (the one checked):
// where `localhost` resolves to ::1 first, the receiver (listening on 127.0.0.1) is not there.
const v4First = (await lookup('localhost', { all: true, verbatim: true }))[0]?.address === '127.0.0.1';

const token = 'ssf-token-allowed-endpoints-0123456789';
let port = 0;
const h = workerHarness('ssf-allowed-endpoints', (url) => {
  port = Number(new URL(url).port);
  return { http: { ssf_tokens: [token] }, ssf: { allowed_endpoints: [`localhost:${port}`, '[::1]', '127.0.0.2/31'] } };
});
const api = apiClient(() => h.worker.url, token);

async function create(endpoint_url: string): Promise<{ status: number; error?: string; id?: string }> {
  const r = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url } });
  return { status: r.status, error: r.json?.error, id: r.json?.stream_id };
}

describe('ssf.allowed_endpoints, black-box', () => {
  it('what is listed is accepted, also plain http: the host:port by name (any case, a trailing dot), the IPv6 address, the CIDR (also IPv4-mapped)', async () => {
    for (const endpoint_url of [
      `http://localhost:${port}/a`,
      `http://LOCALHOST.:${port}/a`,
      `http://[::1]:${port}/a`,
      `http://127.0.0.3:${port}/a`,
      `http://[::ffff:127.0.0.2]:${port}/a`,
    ]) {
      const r = await create(endpoint_url);
      expect(r.status, endpoint_url).toBe(201);
      expect((await api('DELETE', `/ssf/streams?stream_id=${r.id}`)).status).toBe(204);
    }
  });

  it('anything else on loopback or a non-public range, in any spelling, is 400 endpoint_refused; nothing is sent', async () => {
    const before = h.receiver.received.length;
    for (const endpoint_url of [
      `http://localhost:${port + 1}/a`, // the name, another port
      `https://localhost:${port + 1}/a`,
      `http://127.0.0.1:${port}/a`, // the name's address is not listed by the name
      `http://2130706433:${port}/a`,
      `http://0x7f000001:${port}/a`,
      `http://0177.0.0.1:${port}/a`,
      `http://127.1:${port}/a`,
      `http://[::ffff:127.0.0.1]:${port}/a`,
      `http://[::ffff:7f00:1]:${port}/a`,
      `http://127.0.0.4:${port}/a`, // next to the CIDR
      'https://0.0.0.0/a',
      'https://[::]/a',
      'https://169.254.169.254/latest/meta-data',
      'https://[fe80::1]/a',
      'https://10.1.2.3/a',
      'https://172.16.0.1/a',
      'https://192.168.1.1/a',
      'https://100.64.0.1/a',
      'https://[fd00::1]/a',
    ]) {
      const r = await create(endpoint_url);
      expect([r.status, r.error], endpoint_url).toEqual([400, 'endpoint_refused']);
    }
    expect((await api('GET', '/ssf/streams')).json).toEqual([]);
    expect(h.receiver.received.length).toBe(before);
  });

  it.skipIf(!v4First)('a stream at the listed name receives its SETs (verification, signed, aud = the origin)', async () => {
    const r = await create(`http://localhost:${port}/by-name`);
    expect(r.status).toBe(201);
    expect((await api('POST', '/ssf/verify', { stream_id: r.id, state: 'by-name' })).status).toBe(204);
    const set = await waitFor(() => h.receiver.received.find((s) => s.path === '/by-name'), { what: 'the verification SET' });
    expect(set.verified, set.error).toBe(true);
    expect(eventOf(set)).toEqual({ type: VERIFICATION, body: { state: 'by-name' } });
    expect(set.claims.aud).toBe(`http://localhost:${port}`);
    expect((await api('DELETE', `/ssf/streams?stream_id=${r.id}`)).status).toBe(204);
  });
});
