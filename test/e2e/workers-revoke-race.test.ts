/**
 * A session revoked through one worker (`DELETE /v1/sessions/{id}`) while the owner of its user's
 * partition, on another worker, is applying an event about it — black box, three workers on one
 * Redis, 40 users, each race started a few milliseconds apart so some land on each side of the
 * owner's commit:
 * - the user's detection makes the owner revoke every session (`responses: revoke_sessions` at
 *   high): each session is revoked once — one session-revoked SET, one `session.revoked` audit
 *   entry (the admin's or the policy's), whoever won;
 * - a login replayed with the session's id, or a refresh of it: the revoked session never comes
 *   back on any worker (docs/sessions.md: "A revoked session cannot come back").
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { eventOf, startReceiver, type ReceivedSet, type TestReceiver } from '../helpers/receiver.js';
import { criticalDetection, sessionLogin, spawnWorker, writeTestConfig, type TestConfig, type WorkerProcess } from '../helpers/worker.js';
import { CAEP_REVOKED } from '../helpers/ssf-api.js';
import { call } from '../api/helpers.js';

const prefix = testPrefix('workers-revoke-race');
const redis = redisClient();
const ws: WorkerProcess[] = [];
let rx: TestReceiver;
let cfg: TestConfig;

beforeAll(async () => {
  rx = await startReceiver();
  cfg = await writeTestConfig(
    prefix,
    {
      receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${rx.url}/events`, audience: 'https://rx.test', subject_format: 'email' }],
      engine: { partitions: 8 },
    },
    {
      endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' },
      responses: [{ when: { level: 'high' }, revoke_sessions: true }],
    },
  );
  ws.push(...(await Promise.all(['rr-1', 'rr-2', 'rr-3'].map((id) => spawnWorker(cfg.dir, { RISKSTREAM_WORKER_ID: id })))));
  rx.setJwks(`${ws[0]!.url}/.well-known/jwks.json`);
}, 60_000);

afterAll(async () => {
  for (const w of ws) await w.stop();
  await rx?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

const admin = (w: WorkerProcess, method: string, path: string): ReturnType<typeof call> =>
  call(w.url, path, { method, token: cfg.adminToken, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
const sessionOf = (s: ReceivedSet): string => (s.claims.sub_id as { session?: { id?: string } }).session?.id ?? '';
const revokedSets = (): ReceivedSet[] => rx.received.filter((s) => eventOf(s).type === CAEP_REVOKED);

/** `n` users of `tag`, each with a stored session `s-<user>`. */
async function usersWithSessions(tag: string, n: number): Promise<string[]> {
  const users = Array.from({ length: n }, (_, i) => `${tag}${i}@x.test`);
  for (const u of users) await redis.xadd(`${prefix}:login`, '*', 'event', sessionLogin(u, `s-${u}`));
  for (const u of users) await waitFor(async () => (await admin(ws[0]!, 'GET', `/v1/sessions/s-${u}`)).status === 200, { what: `s-${u} stored` });
  return users;
}

/** For each user, `input(u, i)` appended to `stream` and `DELETE /v1/sessions/s-<u>` sent to a worker, a few ms apart; the DELETE statuses. */
async function race(users: string[], stream: 'login' | 'activity', input: (u: string, i: number) => string): Promise<number[]> {
  return Promise.all(
    users.map(async (u, i) => {
      await new Promise((r) => setTimeout(r, i * 40));
      const [, del] = await Promise.all([
        redis.xadd(`${prefix}:${stream}`, '*', 'event', input(u, i)),
        new Promise((r) => setTimeout(r, (i % 8) * 3)).then(() => admin(ws[i % ws.length]!, 'DELETE', `/v1/sessions/s-${encodeURIComponent(u)}`)),
      ]);
      return del.status;
    }),
  );
}

async function revokedAudit(): Promise<Array<{ target: string; actor: string }>> {
  const r = await admin(ws[1]!, 'GET', '/v1/audit?action=session.revoked&limit=1000');
  expect(r.status).toBe(200);
  return r.json.entries as Array<{ target: string; actor: string }>;
}

describe('an admin revoke through one worker racing the owner on another', () => {
  it("against the owner's policy revocation: every session revoked once, one SET and one audit entry each", async () => {
    const users = await usersWithSessions('pol', 40);
    const statuses = await race(users, 'activity', (u) => criticalDetection(u));
    expect(statuses.every((s) => s === 200 || s === 404)).toBe(true);
    const sids = users.map((u) => `s-${u}`);
    await waitFor(() => sids.every((id) => revokedSets().some((s) => sessionOf(s) === id)), {
      what: 'a session-revoked SET for every session',
      timeout: 30_000,
    });
    // The users' next level change is delivered after any repeat of their revocations.
    for (const u of users) expect((await admin(ws[2]!, 'POST', `/v1/users/${u}/risk/reset`)).status).toBe(200);
    await waitFor(() => users.every((u) => rx.received.some((s) => eventOf(s).body.current_level === 'LOW' && JSON.stringify(s.claims.sub_id).includes(u))), {
      what: 'the resets delivered',
      timeout: 30_000,
    });
    for (const id of sids) expect(revokedSets().filter((s) => sessionOf(s) === id)).toHaveLength(1);
    const audit = (await revokedAudit()).filter((e) => sids.includes(e.target));
    expect(audit.map((e) => e.target).sort()).toEqual([...sids].sort());
    // Logged, not asserted (timing): how the races fell.
    console.log(
      `revoke race: ${audit.filter((e) => e.actor === 'policy').length} by the policy, ${audit.filter((e) => e.actor !== 'policy').length} by the admin`,
    );
    for (const w of ws) for (const id of sids) expect((await admin(w, 'GET', `/v1/sessions/${encodeURIComponent(id)}`)).status).toBe(404);
  }, 60_000);

  it('against a replayed login or a refresh of the session: it never comes back', async () => {
    const users = await usersWithSessions('rep', 40);
    const statuses = await race(users, 'login', (u, i) =>
      i % 2
        ? sessionLogin(u, `s-${u}`, { id: `again-${u}`, time: Date.now() })
        : JSON.stringify({
            type: 'session_refresh',
            id: `refresh-${u}`,
            user: u,
            time: Date.now(),
            outcome: 'success',
            ip: '81.2.69.142',
            session: { id: `s-${u}` },
          }),
    );
    expect(statuses).toEqual(users.map(() => 200));
    // Every racing event applied: each user's next login, with another session, is stored after it.
    for (const u of users) await redis.xadd(`${prefix}:login`, '*', 'event', sessionLogin(u, `next-${u}`, { id: `next-${u}` }));
    for (const u of users) await waitFor(async () => (await admin(ws[0]!, 'GET', `/v1/sessions/next-${u}`)).status === 200, { what: `next-${u} stored` });
    for (const w of ws) for (const u of users) expect((await admin(w, 'GET', `/v1/sessions/s-${encodeURIComponent(u)}`)).status).toBe(404);
    for (const u of users)
      expect(((await admin(ws[0]!, 'GET', `/v1/users/${u}/sessions`)).json.sessions as Array<{ session_id: string }>).map((x) => x.session_id)).toEqual([
        `next-${u}`,
      ]);
  }, 60_000);
});
