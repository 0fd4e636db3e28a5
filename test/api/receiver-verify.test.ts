/**
 * `POST /v1/receivers/{name}/verify`: an admin's check that a configured receiver receives and
 * verifies riskstream's SETs — a configured receiver could list `events: [verification]`, yet
 * nothing ever sent it one (only self-registered SSF streams could ask, with `POST /ssf/verify`).
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { apiClient, VERIFICATION } from '../helpers/ssf-api.js';
import { workerHarness } from '../helpers/worker.js';

const h = workerHarness('api-receiver-verify', (url) => ({
  ssf: { limits: { min_verification_interval: '1h' } },
  receivers: [
    { name: 'siem', kind: 'ssf', endpoint: `${url}/siem`, audience: 'https://siem.example' },
    { name: 'pasted', kind: 'ssf', endpoint: `${url}/pasted`, audience: 'https://pasted.example' },
    { name: 'risk-only', kind: 'ssf', endpoint: `${url}/risk-only`, audience: 'https://risk.example', events: ['risk-level-change'] },
  ],
}));
const api = apiClient(() => h.worker.url, '');
const admin = (path: string, body?: unknown, token?: string) => api('POST', path, body, token ?? h.cfg.adminToken);

describe('POST /v1/receivers/{name}/verify', () => {
  it('queues a signed verification SET to the configured receiver, echoing state, audited; a second within min_verification_interval is 429', async () => {
    const r = await admin('/v1/receivers/siem/verify', { state: 'check-123' });
    expect(r.status, JSON.stringify(r.json)).toBe(202);
    expect(r.json.receiver).toBe('siem');
    const set = await waitFor(() => h.receiver.received.find((s) => s.path === '/siem'), { what: 'the verification SET' });
    expect(set.verified).toBe(true);
    expect(set.claims.aud).toBe('https://siem.example');
    expect(set.claims.sub_id).toEqual({ format: 'opaque', id: 'siem' });
    expect(eventOf(set)).toMatchObject({ type: VERIFICATION, body: { state: 'check-123' } });

    const again = await admin('/v1/receivers/siem/verify', {});
    expect([again.status, again.json.error]).toEqual([429, 'rate_limited']);
    expect(Number(again.headers.get('retry-after'))).toBeGreaterThan(0);

    const audit = await api('GET', '/v1/audit?action=receiver.verification_requested', undefined, h.cfg.adminToken);
    expect(audit.json.entries).toHaveLength(1);
    expect(audit.json.entries[0]).toMatchObject({ target: 'siem', details: { state: 'check-123' } });
    await waitFor(
      async () => {
        const d = await api('GET', '/v1/audit?action=set.delivered', undefined, h.cfg.adminToken);
        return d.json.entries.some((e: { details?: { event?: string; receiver?: string } }) => e.details?.event === 'verification');
      },
      { what: 'the delivery audited' },
    );
  });

  it('no such receiver is 404; one whose events leave verification out is 400, and nothing is sent', async () => {
    const missing = await admin('/v1/receivers/nope/verify');
    expect([missing.status, missing.json.error]).toEqual([404, 'not_found']);
    const refused = await admin('/v1/receivers/risk-only/verify', { state: 'x' });
    expect([refused.status, refused.json.error]).toEqual([400, 'bad_request']);
    const badState = await admin('/v1/receivers/siem/verify', { state: 42 });
    expect([badState.status, badState.json.error]).toEqual([400, 'bad_request']);
    expect(h.receiver.received.filter((s) => s.path === '/risk-only')).toHaveLength(0);
  });

  it("a token pasted into state is neither audited nor sent: the worker's own as [redacted token], another token fingerprinted", async () => {
    const jwt = `${Buffer.from('{"alg":"HS256","typ":"JWT"}').toString('base64url')}.${Buffer.from('{"sub":"x"}').toString('base64url')}.c2lnbmF0dXJlLXNpZ25hdHVyZQ`;
    const state = `check ${h.cfg.adminToken} ${jwt}`;
    expect((await admin('/v1/receivers/pasted/verify', { state })).status).toBe(202);
    const set = await waitFor(() => h.receiver.received.find((s) => s.path === '/pasted'), { what: 'the verification SET' });
    const sent = JSON.stringify(eventOf(set));
    const audit = JSON.stringify((await api('GET', '/v1/audit?action=receiver.verification_requested', undefined, h.cfg.adminToken)).json);
    for (const shown of [sent, audit]) {
      expect(shown).toContain('check ');
      expect(shown).not.toContain(h.cfg.adminToken);
      expect(shown).not.toContain(jwt);
    }
  });

  it('is admin only', async () => {
    expect((await admin('/v1/receivers/siem/verify', {}, 'not-a-token-not-a-token')).status).toBe(401);
    expect((await admin('/v1/receivers/siem/verify', {}, h.cfg.ingestToken)).status).toBe(403);
  });
});
