import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { apiClient, CAEP_REVOKED, CAEP_RISK, PUSH, VERIFICATION } from '../helpers/ssf-api.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { MIN, recentIso } from '../helpers/clock.js';

const alice = 'ssf-token-alice-for-stream-tests-0123';
const bob = 'ssf-token-bob-for-the-stream-tests-0123';
const carol = 'ssf-token-carol-for-limit-tests-012345';
const h = workerHarness('ssf-streams', () => ({
  http: { ssf_tokens: [alice, bob, carol] },
  ssf: {
    allowed_endpoints: ['127.0.0.1'],
    limits: { streams_per_owner: 3, description_length: 64, state_length: 64, events_requested: 8, removed_subjects: 2, subject_length: 64 },
  },
}));
const api = apiClient(() => h.worker.url, alice);

async function travel(user: string, hour: number): Promise<void> {
  // `hour` of a recent morning, squeezed to half an hour per hour so that every time is in the
  // past: recent event times, so the trip still counts (an old one would arrive expired).
  const t = (h: number): string => recentIso((h - 8) * 30 * MIN);
  await h.redis.xadd(
    `${h.prefix}:login`,
    '*',
    'event',
    JSON.stringify({ type: 'login', user, time: t(hour), ip: '81.2.69.142', geo: { lat: 51.5, lon: -0.12 } }),
  );
  await h.redis.xadd(
    `${h.prefix}:login`,
    '*',
    'event',
    JSON.stringify({ type: 'login', user, time: t(hour + 1), ip: '1.128.0.1', geo: { lat: -33.87, lon: 151.21 } }),
  );
}

const setsFor = (user: string) => h.receiver.received.filter((s) => (s.claims.sub_id as { email?: string } | undefined)?.email === user);
const delivery = (path: string, extra: Record<string, unknown> = {}) => ({ method: PUSH, endpoint_url: `${h.receiver.url}${path}`, ...extra });

describe('SSF stream management', () => {
  let id = '';

  it('publishes transmitter metadata', async () => {
    const meta = (await (await fetch(`${h.worker.url}/.well-known/ssf-configuration`)).json()) as Record<string, unknown>;
    expect(meta).toMatchObject({ issuer: 'https://riskstream.test', delivery_methods_supported: [PUSH] });
    for (const k of ['jwks_uri', 'configuration_endpoint', 'status_endpoint', 'add_subject_endpoint', 'remove_subject_endpoint', 'verification_endpoint']) {
      expect(meta[k], k).toEqual(expect.stringMatching(/^https:\/\//));
    }
  });

  it('refuses callers without the ssf scope', async () => {
    expect((await api('GET', '/ssf/streams', undefined, 'nope-nope-nope-nope')).status).toBe(401);
    expect((await api('GET', '/ssf/streams', undefined, h.cfg.ingestToken)).status).toBe(403);
  });

  it('a stream created through the API receives SETs without a restart, with aud = its endpoint origin', async () => {
    const r = await api('POST', '/ssf/streams', { delivery: delivery('/ssf'), events_requested: [CAEP_RISK, CAEP_REVOKED] });
    expect(r.status).toBe(201);
    expect(r.json).toMatchObject({ iss: 'https://riskstream.test', aud: h.receiver.url, events_delivered: [CAEP_RISK, CAEP_REVOKED] });
    id = r.json.stream_id;
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.stream_id).toBe(id);

    await travel('stream-user@example.com', 8);
    await waitFor(() => setsFor('stream-user@example.com').length >= 1, { what: 'a SET on the new stream' });
    const set = setsFor('stream-user@example.com')[0]!;
    expect(set.verified).toBe(true);
    expect(set.claims.aud).toBe(h.receiver.url);
    expect(eventOf(set)).toMatchObject({ type: CAEP_RISK, body: { current_level: 'HIGH' } });
  });

  it('the caller cannot choose aud: refused on create and on PATCH, so no SET is signed for another audience', async () => {
    const before = (await api('GET', '/ssf/streams')).json.length;
    const created = await api('POST', '/ssf/streams', { delivery: delivery('/x'), aud: 'https://victim.okta.com' });
    expect(created.status).toBe(400);
    expect(created.json.error).toBe('transmitter_supplied');
    expect((await api('GET', '/ssf/streams')).json).toHaveLength(before);

    const patched = await api('PATCH', '/ssf/streams', { stream_id: id, aud: 'https://victim.okta.com' });
    expect([patched.status, patched.json.error]).toEqual([400, 'transmitter_supplied']);
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.aud).toBe(h.receiver.url);
  });

  it('an endpoint may not move to another origin (its aud would no longer fit)', async () => {
    const r = await api('PATCH', '/ssf/streams', { stream_id: id, delivery: { method: PUSH, endpoint_url: 'http://127.0.0.1:1/elsewhere' } });
    expect([r.status, r.json.error]).toEqual([400, 'transmitter_supplied']);
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.delivery.endpoint_url).toBe(`${h.receiver.url}/ssf`);
  });

  it('a verification event round-trips with its state', async () => {
    expect((await api('POST', '/ssf/verify', { stream_id: id, state: 'xyz-123' })).status).toBe(204);
    const v = await waitFor(() => h.receiver.received.find((s) => eventOf(s).type === VERIFICATION && s.path === '/ssf'), { what: 'verification SET' });
    expect(v.verified).toBe(true);
    expect(eventOf(v).body.state).toBe('xyz-123');
  });

  it('another ssf token gets 404 for every operation on a stream it did not create, and changes nothing', async () => {
    const ops: Array<[string, string, unknown?]> = [
      ['GET', `/ssf/streams?stream_id=${id}`],
      ['PATCH', '/ssf/streams', { stream_id: id, description: 'stolen' }],
      ['PUT', '/ssf/streams', { stream_id: id, delivery: delivery('/stolen') }],
      ['GET', `/ssf/status?stream_id=${id}`],
      ['POST', '/ssf/status', { stream_id: id, status: 'disabled' }],
      ['POST', '/ssf/subjects:add', { stream_id: id, subject: { format: 'email', email: 'x@example.com' } }],
      ['POST', '/ssf/subjects:remove', { stream_id: id, subject: { format: 'email', email: 'x@example.com' } }],
      ['POST', '/ssf/verify', { stream_id: id, state: 'bob' }],
      ['DELETE', `/ssf/streams?stream_id=${id}`],
    ];
    for (const [method, path, body] of ops) {
      const r = await api(method, path, body, bob);
      expect([method, path, r.status, r.json?.error]).toEqual([method, path, 404, 'not_found']);
    }
    expect((await api('GET', '/ssf/streams', undefined, bob)).json).toEqual([]);
    const mine = (await api('GET', `/ssf/streams?stream_id=${id}`)).json;
    expect(mine).toMatchObject({ delivery: { endpoint_url: `${h.receiver.url}/ssf` } });
    expect(mine.description).toBeUndefined();
    expect((await api('GET', `/ssf/status?stream_id=${id}`)).json.status).toBe('enabled');
  });

  it('admin tokens see every stream, including streams stored before ownership existed (legacy: admin only)', async () => {
    const legacy = {
      stream_id: 'legacy-1',
      aud: 'https://old.example',
      endpoint_url: 'https://old.example/push',
      events_requested: [CAEP_RISK],
      status: 'disabled',
      removed_subjects: [],
      created_at: 1,
      updated_at: 1,
    };
    await h.redis.hset(`${h.prefix}:ssf:streams`, 'legacy-1', JSON.stringify(legacy));
    expect((await api('GET', '/ssf/streams?stream_id=legacy-1')).status).toBe(404);
    expect((await api('GET', '/ssf/streams')).json.map((s: { stream_id: string }) => s.stream_id)).not.toContain('legacy-1');
    const all = (await api('GET', '/ssf/streams', undefined, h.cfg.adminToken)).json.map((s: { stream_id: string }) => s.stream_id);
    expect(all).toEqual(expect.arrayContaining([id, 'legacy-1']));
    expect((await api('GET', '/ssf/streams?stream_id=legacy-1', undefined, h.cfg.adminToken)).json.aud).toBe('https://old.example');
    expect((await api('DELETE', '/ssf/streams?stream_id=legacy-1', undefined, h.cfg.adminToken)).status).toBe(204);
  });

  it('changing endpoint_url drops the stored authorization_header: the new URL never gets the old secret', async () => {
    const secret = 'Bearer receiver-a-push-secret-0123456789';
    const r = await api('POST', '/ssf/streams', { delivery: delivery('/old', { authorization_header: secret }), events_requested: [CAEP_RISK] });
    const sid = r.json.stream_id as string;
    expect(r.json.delivery.authorization_header).toBe('[set]');
    expect((await api('POST', '/ssf/verify', { stream_id: sid })).status).toBe(204);
    const atOld = await waitFor(() => h.receiver.received.find((s) => s.path === '/old'), { what: 'a SET at the old URL' });
    expect(atOld.authorization).toBe(secret);

    const moved = await api('PATCH', '/ssf/streams', { stream_id: sid, delivery: delivery('/new') });
    expect(moved.status).toBe(200);
    expect(moved.json.delivery).toEqual({ method: PUSH, endpoint_url: `${h.receiver.url}/new` });
    await travel('moved-user@example.com', 14);
    const atNew = await waitFor(() => h.receiver.received.find((s) => s.path === '/new'), { what: 'a SET at the new URL' });
    expect(atNew.authorization).toBeUndefined();
    expect(h.receiver.received.filter((s) => s.authorization === secret).every((s) => s.path === '/old')).toBe(true);

    const rekeyed = await api('PATCH', '/ssf/streams', {
      stream_id: sid,
      delivery: delivery('/newer', { authorization_header: 'Bearer new-secret-0123456789' }),
    });
    expect(rekeyed.json.delivery.authorization_header).toBe('[set]');
    expect((await api('DELETE', `/ssf/streams?stream_id=${sid}`)).status).toBe(204);
  });

  it('a paused stream holds events and delivers them on resume; removed subjects get nothing', async () => {
    expect((await api('POST', '/ssf/status', { stream_id: id, status: 'paused', reason: 'maintenance' })).json).toMatchObject({ status: 'paused' });
    expect((await api('GET', `/ssf/status?stream_id=${id}`)).json.status).toBe('paused');
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: id, subject: { format: 'email', email: 'hidden@example.com' } })).status).toBe(204);
    await travel('paused-user@example.com', 12);
    await travel('hidden@example.com', 12);
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['paused-user@example.com', 'hidden@example.com'] });
    expect(setsFor('paused-user@example.com')).toHaveLength(0);

    await api('POST', '/ssf/status', { stream_id: id, status: 'enabled' });
    await waitFor(() => setsFor('paused-user@example.com').length >= 1, { what: 'held SET after resume' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['paused-user@example.com', 'hidden@example.com'] });
    expect(setsFor('hidden@example.com')).toHaveLength(0);
  });

  it('a subject removed while its SET is held (paused stream) gets nothing on resume', async () => {
    expect((await api('POST', '/ssf/status', { stream_id: id, status: 'paused' })).json).toMatchObject({ status: 'paused' });
    await travel('held-then-removed@example.com', 12);
    await travel('held-kept@example.com', 12);
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['held-then-removed@example.com', 'held-kept@example.com'] });
    expect((await api('POST', '/ssf/subjects:remove', { stream_id: id, subject: { format: 'email', email: 'held-then-removed@example.com' } })).status).toBe(
      204,
    );
    await api('POST', '/ssf/status', { stream_id: id, status: 'enabled' });
    await waitFor(() => setsFor('held-kept@example.com').length >= 1, { what: 'the kept subject’s held SET after resume' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['held-then-removed@example.com', 'held-kept@example.com'] });
    expect(setsFor('held-then-removed@example.com')).toHaveLength(0);
  });

  it('subjects:remove names a user as ingest does: another spelling of the address (case, spaces, a decomposed é) stops its SETs (found by a black-box review)', async () => {
    const sid = (await api('POST', '/ssf/streams', { delivery: delivery('/spelled'), events_requested: [CAEP_RISK] })).json.stream_id as string;
    const user = 'jos\u00e9.spelled@example.com';
    const remove = (email: string) => api('POST', '/ssf/subjects:remove', { stream_id: sid, subject: { format: 'email', email } });
    expect((await remove(' JOSE\u0301.Spelled@Example.COM ')).status).toBe(204);
    const blank = await remove('   ');
    expect([blank.status, blank.json.error]).toEqual([400, 'bad_request']);
    await travel(user, 12);
    await travel('spelled-kept@example.com', 12);
    const at = (u: string) => setsFor(u).filter((s) => s.path === '/spelled');
    await waitFor(() => at('spelled-kept@example.com').length >= 1, { what: 'the kept subject’s SET' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user, 'spelled-kept@example.com'] });
    expect(at(user)).toHaveLength(0);
    expect((await api('DELETE', `/ssf/streams?stream_id=${sid}`)).status).toBe(204);
  });

  it('updates and deletes streams, and audits each change', async () => {
    const r = await api('PATCH', '/ssf/streams', { stream_id: id, description: 'siem' });
    expect(r.json.description).toBe('siem');
    // A stream_id in the query and another in the body: refused, neither stream touched.
    const other = (await api('POST', '/ssf/streams', { delivery: delivery('/other'), events_requested: [CAEP_RISK] })).json.stream_id as string;
    for (const method of ['PATCH', 'DELETE'] as const) {
      const both = await api(method, `/ssf/streams?stream_id=${id}`, { stream_id: other, description: 'x' });
      expect(both.status, method).toBe(400);
    }
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).json.description).toBe('siem');
    expect((await api('DELETE', `/ssf/streams?stream_id=${other}`)).status).toBe(204);
    expect((await api('DELETE', `/ssf/streams?stream_id=${id}`)).status).toBe(204);
    expect((await api('GET', `/ssf/streams?stream_id=${id}`)).status).toBe(404);
    const audit = (await api('GET', '/v1/audit?limit=200', undefined, h.cfg.adminToken)).json.entries as Array<{ action: string }>;
    const actions = audit.map((e) => e.action);
    for (const a of ['receiver.enabled', 'receiver.changed', 'receiver.disabled']) expect(actions).toContain(a);
  });
});

describe('SSF stream-updated events', () => {
  const STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';
  const updatesAt = (path: string) => h.receiver.received.filter((s) => s.path === path && eventOf(s).type === STREAM_UPDATED);

  it('a status an admin sets on a receiver’s stream is announced with a stream-updated SET (SSF 1.0 §8.1.5); the receiver’s own changes are not (found by a black-box review)', async () => {
    const sid = (await api('POST', '/ssf/streams', { delivery: delivery('/updated'), events_requested: [CAEP_RISK] })).json.stream_id as string;
    const admin = (status: string, reason?: string) => api('POST', '/ssf/status', { stream_id: sid, status, ...(reason ? { reason } : {}) }, h.cfg.adminToken);

    // enabled → paused by the transmitter: the event comes before the stream stops, and nothing after it.
    expect((await admin('paused', 'maintenance')).json).toMatchObject({ status: 'paused' });
    const paused = await waitFor(() => updatesAt('/updated')[0], { what: 'stream-updated (paused)' });
    expect(paused.verified).toBe(true);
    expect(paused.claims.sub_id).toEqual({ format: 'opaque', id: sid });
    expect(paused.claims.aud).toBe(h.receiver.url);
    expect(eventOf(paused).body).toEqual({ status: 'paused', reason: 'maintenance' });
    await travel('updated-held@example.com', 12);
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['updated-held@example.com'] });
    expect(setsFor('updated-held@example.com').filter((s) => s.path === '/updated')).toHaveLength(0);

    // paused → enabled by the transmitter: announced upon re-enabling; the held SET follows.
    await admin('enabled');
    await waitFor(() => updatesAt('/updated').length >= 2, { what: 'stream-updated (enabled)' });
    expect(eventOf(updatesAt('/updated')[1]!).body).toEqual({ status: 'enabled' });
    await waitFor(() => setsFor('updated-held@example.com').some((s) => s.path === '/updated'), { what: 'the held SET after resume' });

    // enabled → disabled by the transmitter: announced although the stream then sends nothing.
    await admin('disabled', 'abuse');
    await waitFor(() => updatesAt('/updated').length >= 3, { what: 'stream-updated (disabled)' });
    expect(eventOf(updatesAt('/updated')[2]!).body).toEqual({ status: 'disabled', reason: 'abuse' });

    // The receiver cannot undo the transmitter's disable (403, SSF 1.0 §8.1.2.2); the admin can.
    const undo = await api('POST', '/ssf/status', { stream_id: sid, status: 'enabled' });
    expect([undo.status, undo.json.error]).toEqual([403, 'forbidden']);
    await admin('enabled');
    await waitFor(() => updatesAt('/updated').length >= 4, { what: 'stream-updated (enabled again)' });

    // The receiver's own requests are answered by the status endpoint, not by an event.
    expect((await api('POST', '/ssf/status', { stream_id: sid, status: 'paused' })).status).toBe(200);
    expect((await api('POST', '/ssf/status', { stream_id: sid, status: 'enabled' })).status).toBe(200);
    expect((await api('POST', '/ssf/status', { stream_id: sid, status: 'paused' })).status).toBe(200);
    await travel('updated-after@example.com', 12);
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['updated-after@example.com'] });
    expect(updatesAt('/updated')).toHaveLength(4);
    expect((await api('DELETE', `/ssf/streams?stream_id=${sid}`)).status).toBe(204);
  });

  it('a stream-updated SET still retrying when the status changes again is not sent: the receiver never learns an outdated status last', async () => {
    const sid = (await api('POST', '/ssf/streams', { delivery: delivery('/updated-twice'), events_requested: [CAEP_RISK] })).json.stream_id as string;
    const admin = (status: string) => api('POST', '/ssf/status', { stream_id: sid, status }, h.cfg.adminToken);
    const accepted: string[] = [];
    let failing = true;
    h.receiver.respond = (set) => {
      if (set.path !== '/updated-twice' || eventOf(set).type !== STREAM_UPDATED) return { status: 202 };
      if (failing) return { status: 503 };
      accepted.push(String(eventOf(set).body.status));
      return { status: 202 };
    };
    try {
      await admin('paused');
      await waitFor(() => updatesAt('/updated-twice').length >= 1, { what: 'the first (refused) stream-updated' });
      await admin('enabled');
      failing = false;
      await waitFor(() => accepted.includes('enabled'), { what: 'stream-updated (enabled) accepted' });
      await untilQuiet(h.redis, { prefix: h.prefix, users: [] });
      await new Promise((r) => setTimeout(r, 1500)); // past the test backoff's 1 s maximum
      expect(accepted.at(-1)).toBe('enabled');
    } finally {
      h.receiver.respond = () => ({ status: 202 });
    }
    expect((await api('DELETE', `/ssf/streams?stream_id=${sid}`)).status).toBe(204);
  });
});

describe('SSF stream limits', () => {
  const create = (body: Record<string, unknown> = {}, token = carol) =>
    api('POST', '/ssf/streams', { delivery: delivery('/limits'), events_requested: [CAEP_REVOKED], ...body }, token);

  it('field sizes: description, events_requested, endpoint_url, authorization_header → 413', async () => {
    const tooLarge = async (body: Record<string, unknown>): Promise<void> => {
      const r = await create(body);
      expect([r.status, r.json.error]).toEqual([413, 'payload_too_large']);
    };
    await tooLarge({ description: 'd'.repeat(65) });
    await tooLarge({ events_requested: Array.from({ length: 9 }, (_, i) => `urn:example:e${i}`) });
    await tooLarge({ events_requested: [`urn:example:${'e'.repeat(600)}`] });
    await tooLarge({ delivery: delivery(`/${'p'.repeat(2100)}`) });
    await tooLarge({ delivery: delivery('/limits', { authorization_header: `Bearer ${'s'.repeat(4100)}` }) });
    expect((await api('GET', '/ssf/streams', undefined, carol)).json).toEqual([]);
  });

  it('an authorization_header HTTP cannot carry (CR/LF, control or non-ASCII characters) → 400 on create and on PATCH; nothing stored', async () => {
    for (const bad of ['Bearer x\r\nX-Injected: 1', 'Bearer \u0100', 'Bearer x\u0000', 'Bearer \u007f']) {
      const r = await create({ delivery: delivery('/hdr', { authorization_header: bad }) });
      expect([r.status, r.json.error]).toEqual([400, 'bad_request']);
      expect(JSON.stringify(r.json)).not.toContain('Injected');
    }
    expect((await api('GET', '/ssf/streams', undefined, carol)).json).toEqual([]);
    const ok = await create({ delivery: delivery('/hdr', { authorization_header: 'Bearer fine-0123456789' }) });
    expect(ok.status).toBe(201);
    const patched = await api(
      'PATCH',
      '/ssf/streams',
      { stream_id: ok.json.stream_id, delivery: delivery('/hdr', { authorization_header: 'Bearer x\ny' }) },
      carol,
    );
    expect([patched.status, patched.json.error]).toEqual([400, 'bad_request']);
    await api('DELETE', `/ssf/streams?stream_id=${ok.json.stream_id}`, undefined, carol);
  });

  it('streams per owner: the fourth stream of one token → 403 stream_limit (SSF 1.0 §8.1.1.1: "not allowed to create a stream"; a 429 would be retried); other tokens are not affected', async () => {
    const ids: string[] = [];
    for (let i = 0; i < 3; i++) ids.push((await create({ description: `s${i}` })).json.stream_id);
    const fourth = await create();
    expect([fourth.status, fourth.json.error]).toEqual([403, 'stream_limit']);
    expect(fourth.headers.get('retry-after')).toBeNull();
    const other = await create({}, bob);
    expect(other.status).toBe(201);
    expect((await api('DELETE', `/ssf/streams?stream_id=${ids[0]}`, undefined, carol)).status).toBe(204);
    expect((await create()).status).toBe(201);
  });

  it('verify: a state over the limit → 413; a second request within min_verification_interval → 429 with Retry-After', async () => {
    const sid = (await api('GET', '/ssf/streams', undefined, carol)).json[0].stream_id as string;
    const big = await api('POST', '/ssf/verify', { stream_id: sid, state: 's'.repeat(65) }, carol);
    expect([big.status, big.json.error]).toEqual([413, 'payload_too_large']);
    expect((await api('POST', '/ssf/verify', { stream_id: sid, state: 'first' }, carol)).status).toBe(204);
    const again = await api('POST', '/ssf/verify', { stream_id: sid, state: 'second' }, carol);
    expect([again.status, again.json.error]).toEqual([429, 'rate_limited']);
    const retry = Number(again.headers.get('retry-after'));
    expect(retry).toBeGreaterThanOrEqual(1);
    expect(retry).toBeLessThanOrEqual(30);
    expect((await api('GET', `/ssf/streams?stream_id=${sid}`, undefined, carol)).json.min_verification_interval).toBe(30);
  });

  it('subjects: a subject id over subject_length, or more removed subjects than removed_subjects → 413', async () => {
    const sid = (await api('GET', '/ssf/streams', undefined, carol)).json[0].stream_id as string;
    const remove = (email: string) => api('POST', '/ssf/subjects:remove', { stream_id: sid, subject: { format: 'email', email } }, carol);
    expect((await remove(`${'u'.repeat(60)}@example.com`)).status).toBe(413);
    expect((await remove('a@example.com')).status).toBe(204);
    expect((await remove('b@example.com')).status).toBe(204);
    const third = await remove('c@example.com');
    expect([third.status, third.json.error]).toEqual([413, 'payload_too_large']);
    expect((await api('POST', '/ssf/subjects:add', { stream_id: sid, subject: { format: 'email', email: 'a@example.com' } }, carol)).status).toBe(200);
    expect((await remove('c@example.com')).status).toBe(204);
  });

  it('refuses endpoints outside the policy with 400 endpoint_refused, before any connection', async () => {
    const port = new URL(h.receiver.url).port;
    const before = h.receiver.received.length;
    for (const endpoint_url of [
      `https://[::1]:${port}/ssf`,
      `https://[::ffff:a9fe:a9fe]/x`,
      'https://169.254.169.254/latest/meta-data',
      'https://10.0.0.1/ssf',
      'ftp://127.0.0.1/x',
    ]) {
      const r = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url }, events_requested: [CAEP_RISK] }, bob);
      expect(r.status, endpoint_url).toBe(400);
      expect(r.json.error, endpoint_url).toMatch(/^(endpoint_refused|bad_request)$/);
    }
    const r = await api('POST', '/ssf/streams', { delivery: { method: PUSH, endpoint_url: 'https://169.254.169.254/' } }, bob);
    expect(r.json.error).toBe('endpoint_refused');
    // Credentials in the URL would be shown back in the stream's configuration.
    const creds = await api(
      'POST',
      '/ssf/streams',
      { delivery: { method: PUSH, endpoint_url: `${h.receiver.url.replace('http://', 'http://user:s3cret-pass@')}/ssf` } },
      bob,
    );
    expect(creds.status).toBe(400);
    expect(JSON.stringify(creds.json)).not.toContain('s3cret-pass');
    expect(h.receiver.received.length).toBe(before);
  });
});
