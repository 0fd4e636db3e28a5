/**
 * CONTRACT §4 read sentence by sentence, black-box: a real worker pushing to real receivers on
 * loopback. The SET's header and claims as a receiver sees them, and RFC 8935 push answers a
 * receiver may give: a retry keeps its `jti`, `Retry-After` as seconds and as an HTTP-date, any 2xx
 * is delivered, a 400 whose body is not `{"err","description"}` is still permanent (audited, not
 * retried), a redirect is not followed (another host never gets the SET), and a level held back by
 * retries never reaches the receiver after a newer one; a 429's Retry-After holds the whole receiver;
 * a retry across a worker restart keeps its jti.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf, type ReceivedSet } from '../helpers/receiver.js';
import { criticalDetection, spawnWorker, workerHarness } from '../helpers/worker.js';
import type { ReceiverResponse } from '../../src/ssf/local-receiver.js';

const CAEP_RISK = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const OKTA_RISK = 'https://schemas.okta.com/secevent/okta/event-type/user-risk-change';

const h = workerHarness('set-push-conf', (url) => ({
  receivers: [
    { name: 'rx', kind: 'ssf', endpoint: `${url}/rx`, audience: 'https://rx.example' },
    { name: 'rx-iss', kind: 'ssf', endpoint: `${url}/iss`, subject_format: 'iss_sub' },
    { name: 'rx-opaque', kind: 'ssf', endpoint: `${url}/opaque`, subject_format: 'opaque' },
    { name: 'rx-okta', kind: 'okta', endpoint: `${url}/okta`, audience: 'https://org.okta.test', alg: 'ES256' },
  ],
}));

/** Scripted answers of `/rx`, by user; every other receiver (and an unscripted user) gets 202. */
const scripts = new Map<string, (n: number) => ReceiverResponse>();
const userOf = (s: ReceivedSet): string => {
  const sub = s.claims.sub_id as Record<string, string> | undefined;
  return sub?.email ?? sub?.id ?? sub?.sub ?? '';
};
const rxOf = (user: string): ReceivedSet[] => h.receiver.received.filter((s) => s.path === '/rx' && userOf(s) === user);

/** A second server on another port: must never be reached through a redirect. */
let other: Server;
let otherHits = 0;
let otherUrl = '';
beforeAll(async () => {
  h.receiver.respond = (set) => {
    if (set.path !== '/rx') return { status: 202 };
    const script = scripts.get(userOf(set));
    return script ? script(rxOf(userOf(set)).length) : { status: 202 };
  };
  other = createServer((_req, res) => {
    otherHits++;
    res.writeHead(202).end();
  });
  await new Promise<void>((r) => other.listen(0, '127.0.0.1', () => r()));
  otherUrl = `http://127.0.0.1:${(other.address() as AddressInfo).port}`;
});
afterAll(() => new Promise<void>((r) => other.close(() => r())));

async function raise(user: string): Promise<void> {
  await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
}

async function audit(user: string): Promise<Array<{ action: string; details: Record<string, unknown> }>> {
  const res = await fetch(`${h.worker.url}/v1/audit?limit=1000`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  const body = (await res.json()) as { entries?: unknown[]; items?: unknown[] } | unknown[];
  const list = (Array.isArray(body) ? body : (body.entries ?? body.items ?? [])) as Array<{
    action: string;
    target?: string;
    details: Record<string, unknown>;
  }>;
  return list.filter((e) => e.target === user && e.details?.receiver === 'rx');
}

describe('CONTRACT §4 — SETs as a receiver sees them', () => {
  it('header {alg, typ: "secevent+jwt", kid}; iss, aud, iat (s), jti, sub_id, exactly one CAEP risk-level-change; push headers', async () => {
    const user = 'shape@example.com';
    await raise(user);
    await waitFor(() => rxOf(user).length >= 1, { timeout: 10_000, what: 'the SET' });
    const [set] = rxOf(user);
    expect(set!.verified, set!.error).toBe(true);
    expect(Object.keys(set!.header).sort()).toEqual(['alg', 'kid', 'typ']);
    expect(set!.header).toMatchObject({ alg: 'ES256', typ: 'secevent+jwt' });
    expect(set!.contentType).toBe('application/secevent+jwt');
    expect(set!.accept).toBe('application/json');
    const c = set!.claims;
    expect(c.iss).toBe('https://riskstream.test');
    expect(c.aud).toBe('https://rx.example');
    expect(Number.isInteger(c.iat)).toBe(true);
    expect(Math.abs(c.iat! - Date.now() / 1000)).toBeLessThan(60);
    expect(typeof c.jti).toBe('string');
    expect(c.sub_id).toEqual({ format: 'email', email: user });
    expect(Object.keys(c.events as object)).toEqual([CAEP_RISK]);
    const { body } = eventOf(set!);
    expect(body).toMatchObject({ principal: 'USER', current_level: 'HIGH', previous_level: 'LOW', initiating_entity: 'system' });
    expect(typeof body.risk_reason).toBe('string');
    expect(Number.isInteger(body.event_timestamp)).toBe(true);
    expect(Math.abs((body.event_timestamp as number) - Date.now() / 1000)).toBeLessThan(60);
    // CAEP 1.0: reason_admin is a language-tagged object.
    expect(typeof body.reason_admin).toBe('object');
    expect(typeof (body.reason_admin as Record<string, unknown>).en).toBe('string');

    // sub_id per subject_format; kind okta: Okta's event, lower-case levels, subject inside the event.
    const others = (path: string) => h.receiver.received.find((s) => s.path === path && s.claims.txn === c.txn);
    await waitFor(() => others('/iss') && others('/opaque') && others('/okta'), { timeout: 10_000, what: 'the other receivers' });
    expect(others('/iss')!.claims.sub_id).toMatchObject({ format: 'iss_sub', sub: user });
    expect(typeof (others('/iss')!.claims.sub_id as Record<string, string>).iss).toBe('string');
    expect(others('/opaque')!.claims.sub_id).toEqual({ format: 'opaque', id: user });
    const okta = others('/okta')!;
    expect(okta.claims.aud).toBe('https://org.okta.test');
    expect(Object.keys(okta.claims.events as object)).toEqual([OKTA_RISK]);
    expect(eventOf(okta).body).toMatchObject({ current_level: 'high', previous_level: 'low', subject: { user: { format: 'email', email: user } } });
    // Every SET its own jti.
    const jtis = [set, others('/iss'), others('/opaque'), okta].map((s) => s!.claims.jti);
    expect(new Set(jtis).size).toBe(4);
  });

  it('503 then 202: the retry carries the same jti (and the same claims but iat: signed at send time), delivered once', async () => {
    const user = 'retry503@example.com';
    scripts.set(user, (n) => (n === 1 ? { status: 503 } : { status: 202 }));
    await raise(user);
    await waitFor(() => rxOf(user).length >= 2, { timeout: 10_000, what: 'the retry' });
    await new Promise((r) => setTimeout(r, 1500));
    const got = rxOf(user);
    expect(got).toHaveLength(2);
    expect(got[1]!.claims.jti).toBe(got[0]!.claims.jti);
    const { iat: _a, ...first } = got[0]!.claims;
    const { iat: _b, ...second } = got[1]!.claims;
    expect(second).toEqual(first);
  });

  it.each<[string, string, () => string, number]>([
    ['in seconds', 'ra-seconds@example.com', () => '2', 1900],
    ['as an IMF-fixdate', 'ra-date@example.com', () => new Date(Date.now() + 3000).toUTCString(), 1000],
  ])('429 with Retry-After %s: retried no sooner, same jti', async (_form, user, retryAfter, minGapMs) => {
    scripts.set(user, (n) => (n === 1 ? { status: 429, headers: { 'retry-after': retryAfter() } } : { status: 202 }));
    await raise(user);
    await waitFor(() => rxOf(user).length >= 2, { timeout: 12_000, what: 'the retry' });
    const [a, b] = rxOf(user);
    expect(b!.claims.jti).toBe(a!.claims.jti);
    expect(b!.at - a!.at).toBeGreaterThanOrEqual(minGapMs);
  });

  it("a 429's Retry-After holds the receiver: another user's SET is not pushed to it before the time is up", async () => {
    const a = 'hold-a@example.com';
    const b = 'hold-b@example.com';
    scripts.set(a, (n) => (n === 1 ? { status: 429, headers: { 'retry-after': '3' } } : { status: 202 }));
    await raise(a);
    await waitFor(() => rxOf(a).length >= 1, { timeout: 10_000, what: 'the 429' });
    const at = rxOf(a)[0]!.at;
    await raise(b);
    await waitFor(() => rxOf(b).length >= 1 && rxOf(a).length >= 2, { timeout: 15_000, what: 'both after the pause' });
    expect(rxOf(b)[0]!.at - at).toBeGreaterThanOrEqual(2900);
    expect(rxOf(a)[1]!.at - at).toBeGreaterThanOrEqual(2900);
  });

  it.each([200, 204])('a %i answer is delivered (not retried, audited set.delivered)', async (status) => {
    const user = `ok${status}@example.com`;
    scripts.set(user, () => ({ status }));
    await raise(user);
    await waitFor(async () => (await audit(user)).some((e) => e.action === 'set.delivered'), { timeout: 10_000, what: 'the delivered entry' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(rxOf(user)).toHaveLength(1);
  });

  it('a 400 whose body is not {"err","description"} (text) is permanent: not retried, audited as failed', async () => {
    const user = 'bad400@example.com';
    scripts.set(user, () => ({ status: 400, headers: { 'content-type': 'text/plain' }, body: 'nope' }));
    await raise(user);
    await waitFor(async () => (await audit(user)).some((e) => e.action === 'set.failed'), { timeout: 10_000, what: 'the failed entry' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(rxOf(user)).toHaveLength(1);
    const failed = (await audit(user)).find((e) => e.action === 'set.failed')!;
    expect(failed.details).toMatchObject({ status: 400, outcome: 'rejected' });
  });

  it('a 400 {"err","description"} is permanent and the audit entry carries them', async () => {
    const user = 'err400@example.com';
    scripts.set(user, () => ({ status: 400, body: { err: 'invalid_audience', description: 'wrong aud' } }));
    await raise(user);
    await waitFor(async () => (await audit(user)).some((e) => e.action === 'set.failed'), { timeout: 10_000, what: 'the failed entry' });
    await new Promise((r) => setTimeout(r, 1500));
    expect(rxOf(user)).toHaveLength(1);
    const failed = (await audit(user)).find((e) => e.action === 'set.failed')!;
    expect(failed.details).toMatchObject({ status: 400, err: 'invalid_audience', description: 'wrong aud' });
  });

  it.each([302, 307, 308])('a %i redirect to another host is not followed (permanent, audited)', async (status) => {
    const user = `redirect${status}@example.com`;
    scripts.set(user, () => ({ status, headers: { location: `${otherUrl}/steal` } }));
    const before = otherHits;
    await raise(user);
    await waitFor(async () => (await audit(user)).some((e) => e.action === 'set.failed'), { timeout: 10_000, what: 'the failed entry' });
    await new Promise((r) => setTimeout(r, 1000));
    expect(otherHits).toBe(before);
    expect(rxOf(user)).toHaveLength(1);
  });

  it('a HIGH held back by retries, then a reset to LOW: the receiver never sees HIGH after LOW', async () => {
    const user = 'order@example.com';
    let failing = true;
    scripts.set(user, () => (failing ? { status: 503 } : { status: 202 }));
    await raise(user);
    await waitFor(() => rxOf(user).length >= 2, { timeout: 10_000, what: 'HIGH failing' });
    const reset = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk/reset`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.cfg.adminToken}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(reset.status).toBeLessThan(300);
    await new Promise((r) => setTimeout(r, 500));
    failing = false;
    await waitFor(() => rxOf(user).some((s) => eventOf(s).body.current_level === 'LOW'), { timeout: 15_000, what: 'the LOW' });
    await new Promise((r) => setTimeout(r, 2500));
    const accepted = rxOf(user);
    const lowAt = accepted.findIndex((s) => eventOf(s).body.current_level === 'LOW');
    expect(accepted.slice(lowAt + 1).map((s) => eventOf(s).body.current_level)).not.toContain('HIGH');
    const low = accepted[lowAt]!;
    expect(eventOf(low).body).toMatchObject({ initiating_entity: 'admin', current_level: 'LOW', previous_level: 'HIGH' });
  });
  it('a retry after a worker restart (SIGTERM while the SET waits) keeps its jti; delivered once', async () => {
    const user = 'restart@example.com';
    let failing = true;
    scripts.set(user, () => (failing ? { status: 503, headers: { 'retry-after': '2' } } : { status: 202 }));
    await raise(user);
    await waitFor(() => rxOf(user).length >= 1, { timeout: 10_000, what: 'the 503' });
    await h.worker.stop();
    failing = false;
    h.worker = await spawnWorker(h.cfg.dir);
    await waitFor(async () => (await audit(user)).some((e) => e.action === 'set.delivered'), { timeout: 20_000, what: 'delivered after the restart' });
    await new Promise((r) => setTimeout(r, 1000));
    const got = rxOf(user);
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(new Set(got.map((s) => s.claims.jti)).size).toBe(1);
    expect((await audit(user)).filter((e) => e.action === 'set.delivered')).toHaveLength(1);
  }, 40_000);
});
