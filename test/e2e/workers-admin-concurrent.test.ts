/**
 * Three workers on one Redis behind a load balancer that sends the same admin write to every one
 * of them at once (a client retrying on another worker, two admins clicking together), black box:
 * one reset of a user is one level change and one SET, however many workers are asked; one
 * session is revoked once (one 200, the others 404, one session-revoked SET, one audit entry); a
 * revoke-all revokes each session once; a configured receiver's verification is queued once
 * within `min_verification_interval`; a cursor from one worker continues on another; an SSF stream
 * created on one worker is read on the others, and a subject removed through one is honoured by
 * the deliveries of the owners on the others. Real processes, a real loopback receiver.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type ReceivedSet, type TestReceiver } from '../helpers/receiver.js';
import { criticalDetection, sessionLogin, spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { call } from '../api/helpers.js';
import { CAEP_REVOKED, CAEP_RISK } from '../helpers/ssf-api.js';

const prefix = testPrefix('workers-admin');
const redis = redisClient();
const ssfToken = 'ssf-token-workers-admin-0123456789';
const AUD = 'https://rx.test';
const users = ['wa0@x.test', 'wa1@x.test', 'wa2@x.test', 'wa3@x.test', 'wa4@x.test', 'wa5@x.test'];
const ws: WorkerProcess[] = [];
let rx: TestReceiver;
let cfg: TestConfig;

beforeAll(async () => {
  rx = await startReceiver();
  cfg = await writeTestConfig(prefix, {
    receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${rx.url}/events`, audience: AUD, subject_format: 'email' }],
    http: { ssf_tokens: [ssfToken] },
    ssf: { allowed_endpoints: ['127.0.0.1'], limits: { min_verification_interval: '1h' } },
    engine: { partitions: 8 },
  });
  ws.push(...(await Promise.all(['wa-1', 'wa-2', 'wa-3'].map((id) => spawnWorker(cfg.dir, { RISKSTREAM_WORKER_ID: id })))));
  rx.setJwks(`${ws[0]!.url}/.well-known/jwks.json`);
  for (const u of users) {
    await redis.xadd(`${prefix}:login`, '*', 'event', sessionLogin(u, `s-${u}`));
    await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(u, { id: `edr-${u}` }));
  }
  for (const w of ws)
    for (const u of users) await waitFor(async () => (await admin(w, 'GET', `/v1/users/${u}/risk`)).json?.level === 'high', { what: `${u} high` });
  for (const u of users) await waitFor(() => risk(u).length === 1, { what: `${u}'s HIGH SET` });
}, 90_000);

afterAll(async () => {
  for (const w of ws) await w.stop();
  await rx?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

function admin(w: WorkerProcess, method: string, path: string, body?: unknown): ReturnType<typeof call> {
  return call(w.url, path, {
    method,
    token: cfg.adminToken,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
}
function ssf(w: WorkerProcess, method: string, path: string, body?: unknown): ReturnType<typeof call> {
  return call(w.url, path, {
    method,
    token: ssfToken,
    ...(body !== undefined ? { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } } : {}),
  });
}
const all = <T>(fn: (w: WorkerProcess) => Promise<T>): Promise<T[]> => Promise.all(ws.map(fn));
const email = (s: ReceivedSet): string => {
  const sub = s.claims.sub_id as { email?: string; user?: { email?: string } };
  return sub.email ?? sub.user?.email ?? '';
};
/** The risk-level-change SETs the configured receiver got for `user` (`aud` picks a self-registered stream's instead). */
const risk = (user: string, aud = AUD): ReceivedSet[] => rx.received.filter((s) => s.claims.aud === aud && eventOf(s).type === CAEP_RISK && email(s) === user);
const revoked = (user: string): ReceivedSet[] => rx.received.filter((s) => s.claims.aud === AUD && eventOf(s).type === CAEP_REVOKED && email(s) === user);

/**
 * Changes `user`'s level once more (a detection raises a low user, a reset lowers a high one) and
 * waits for that SET: per-user order puts any repeat of an earlier SET of the user before it.
 */
async function marker(user: string, id: string): Promise<void> {
  const before = risk(user).length;
  const high = (await admin(ws[0]!, 'GET', `/v1/users/${user}/risk`)).json.level === 'high';
  if (high) expect((await admin(ws[0]!, 'POST', `/v1/users/${user}/risk/reset`, {})).status).toBe(200);
  else await redis.xadd(`${prefix}:activity`, '*', 'event', criticalDetection(user, { id }));
  const want = high ? 'LOW' : 'HIGH';
  await waitFor(
    () =>
      risk(user)
        .slice(before)
        .some((s) => eventOf(s).body.current_level === want),
    { what: `${user}'s marker SET` },
  );
}

async function auditOf(action: string, target: string): Promise<Array<Record<string, any>>> {
  const r = await admin(ws[0]!, 'GET', `/v1/audit?action=${action}&limit=500`);
  expect(r.status).toBe(200);
  return (r.json.entries as Array<Record<string, any>>).filter((e) => e.action === action && e.target === target);
}

describe('several workers asked the same admin write at once', () => {
  it('a reset sent to every worker at once: one level change, one SET, the same answer everywhere', async () => {
    const u = users[0]!;
    const res = await all((w) => admin(w, 'POST', `/v1/users/${u}/risk/reset`, { reason: 'vouched' }));
    expect(res.map((r) => r.status)).toEqual([200, 200, 200]);
    const changed = res.filter((r) => r.json.change_id !== null);
    expect(changed).toHaveLength(1);
    expect(changed[0]!.json).toMatchObject({ previous_level: 'high', level: 'low' });
    expect(new Set(res.map((r) => r.json.version))).toEqual(new Set([changed[0]!.json.version]));
    for (const w of ws) expect((await admin(w, 'GET', `/v1/users/${u}/risk`)).json).toMatchObject({ level: 'low', version: changed[0]!.json.version });
    await marker(u, 'edr-wa0-again');
    expect(risk(u).map((s) => eventOf(s).body.current_level)).toEqual(['HIGH', 'LOW', 'HIGH']);
    expect((await auditOf('risk.reset', u)).filter((e) => e.details.previous === 'high')).toHaveLength(1);
  });

  it('a session revoked through every worker at once: one 200, the others 404, one SET and one audit entry', async () => {
    const u = users[1]!;
    const sid = `s-${u}`;
    const res = await all((w) => admin(w, 'DELETE', `/v1/sessions/${encodeURIComponent(sid)}`));
    expect(res.map((r) => r.status).sort()).toEqual([200, 404, 404]);
    expect(res.find((r) => r.status === 200)!.json).toMatchObject({ revoked: true, session_id: sid, user: u });
    for (const r of res.filter((x) => x.status === 404)) expect(r.json.error).toBe('not_found');
    for (const w of ws) expect((await admin(w, 'GET', `/v1/sessions/${encodeURIComponent(sid)}`)).status).toBe(404);
    await waitFor(() => revoked(u).length > 0, { what: 'the session-revoked SET' });
    await marker(u, 'edr-wa1-again'); // delivered after the revoke's SET would be, were it queued twice
    expect(revoked(u)).toHaveLength(1);
    expect(await auditOf('session.revoked', sid)).toHaveLength(1);
  });

  it("a user's sessions revoked through every worker at once: each session once", async () => {
    const u = users[2]!;
    const res = await all((w) => admin(w, 'DELETE', `/v1/users/${u}/sessions?reason=lost`));
    expect(res.map((r) => r.status)).toEqual([200, 200, 200]);
    expect(res.flatMap((r) => r.json.sessions as string[])).toEqual([`s-${u}`]);
    await waitFor(() => revoked(u).length > 0, { what: 'the session-revoked SET' });
    await marker(u, 'edr-wa2-again');
    expect(revoked(u)).toHaveLength(1);
    expect(await auditOf('session.revoked', `s-${u}`)).toHaveLength(1);
  });

  it("a configured receiver's verification asked of every worker at once: queued once, the others 429", async () => {
    const res = await all((w) => admin(w, 'POST', '/v1/receivers/rx/verify', { state: 'once' }));
    expect(res.map((r) => r.status).sort()).toEqual([202, 429, 429]);
    for (const r of res.filter((x) => x.status === 429)) {
      expect(r.json.error).toBe('rate_limited');
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThan(0);
    }
  });

  it('a cursor from one worker continues on the next: the same walk as on one worker', async () => {
    const walk = async (path: string, field: string, pick: (n: number) => WorkerProcess): Promise<unknown[]> => {
      const out: unknown[] = [];
      let cursor = '';
      for (let n = 0; n < 200; n++) {
        const r = await admin(pick(n), 'GET', `${path}&cursor=${encodeURIComponent(cursor)}`);
        expect(r.status).toBe(200);
        out.push(...(r.json[field] as unknown[]));
        if (!r.json.next_cursor) return out;
        cursor = r.json.next_cursor as string;
      }
      throw new Error(`${path}: no last page`);
    };
    for (const [path, field] of [
      ['/v1/users?limit=2', 'users'],
      ['/v1/users?level=high&limit=2', 'users'],
      ['/v1/sessions?limit=1', 'sessions'],
      ['/v1/audit?limit=3', 'entries'],
      [`/v1/users/${users[0]}/events?limit=1`, 'events'],
    ] as const) {
      const one = await walk(path, field, () => ws[0]!);
      expect(one.length).toBeGreaterThan(2);
      expect(await walk(path, field, (n) => ws[n % ws.length]!)).toEqual(one);
    }
  });

  it('an SSF stream made on one worker is read on the others; a subject removed through another is not sent', async () => {
    const created = await ssf(ws[0]!, 'POST', '/ssf/streams', { delivery: { method: 'urn:ietf:rfc:8935', endpoint_url: `${rx.url}/stream` } });
    expect(created.status).toBe(201);
    const id = created.json.stream_id as string;
    const aud = created.json.aud as string;
    for (const w of ws) expect((await ssf(w, 'GET', `/ssf/streams?stream_id=${id}`)).json).toEqual(created.json);
    const [gone, kept] = [users[3]!, users[4]!];
    expect((await ssf(ws[1]!, 'POST', '/ssf/subjects:remove', { stream_id: id, subject: { format: 'email', email: gone } })).status).toBe(204);
    // Each reset through the third worker; their partitions' owners, whichever worker, decide the pushes.
    for (const u of [gone, kept]) expect((await admin(ws[2]!, 'POST', `/v1/users/${u}/risk/reset`, {})).json.level).toBe('low');
    await waitFor(() => risk(kept, aud).length === 1 && risk(gone).length === 2, { what: "the stream's and the receiver's SETs" });
    await marker(gone, 'edr-wa3-again');
    expect(risk(gone, aud)).toEqual([]);
    expect((await ssf(ws[2]!, 'DELETE', `/ssf/streams?stream_id=${id}`)).status).toBe(204);
    for (const w of ws) expect((await ssf(w, 'GET', `/ssf/streams?stream_id=${id}`)).status).toBe(404);
  });
});
