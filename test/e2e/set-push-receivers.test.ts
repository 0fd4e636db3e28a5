/**
 * CONTRACT §4 / §3 `receivers`, black-box, for what set-push-conformance and set-audit leave out:
 * each receiver's `events` filter (a receiver gets only the event types it lists), its
 * `authorization` header sent on every push, and the "network" of "5xx / network / 429 = retry":
 * a connection cut before any answer and a receiver slower than its `timeout` — each retried with
 * the same `jti` until delivered, audited `set.delivered` once.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { decodeJwt } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { criticalDetection, sessionLogin, workerHarness } from '../helpers/worker.js';

const CAEP_RISK = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const CAEP_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
const SECRET = 'Bearer push-receivers-secret-0123456789';

/** A raw receiver: `script` may take over a request (cut it, answer late); else 202. */
type Hit = { path: string; jti: string; email: string };
const hits: Hit[] = [];
let script: (hit: Hit, req: IncomingMessage, res: ServerResponse) => boolean = () => false;
let raw: Server;
let rawUrl = '';
const late: NodeJS.Timeout[] = [];
beforeAll(async () => {
  raw = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const claims = decodeJwt(Buffer.concat(chunks).toString());
      const hit = { path: req.url ?? '', jti: String(claims.jti), email: String((claims.sub_id as { email?: string }).email) };
      hits.push(hit);
      if (!script(hit, req, res)) res.writeHead(202).end();
    });
  });
  await new Promise<void>((r) => raw.listen(0, '127.0.0.1', () => r()));
  rawUrl = `http://127.0.0.1:${(raw.address() as AddressInfo).port}`;
});
afterAll(async () => {
  late.forEach(clearTimeout);
  raw.closeAllConnections();
  await new Promise<void>((r) => raw.close(() => r()));
});

const h = workerHarness('set-push-receivers', (url) => ({
  receivers: [
    { name: 'revoked-only', kind: 'ssf', endpoint: `${url}/revoked-only`, events: ['session-revoked'] },
    { name: 'risk-only', kind: 'ssf', endpoint: `${url}/risk-only`, events: ['risk-level-change'] },
    { name: 'with-auth', kind: 'ssf', endpoint: `${url}/with-auth`, authorization: SECRET },
    // The raw receiver: its URL is known only once it listens (beforeAll above runs first).
    { name: 'raw', kind: 'ssf', endpoint: `${rawUrl}/raw`, timeout: '1s' },
  ],
}));

const at = (path: string, user: string) => h.receiver.received.filter((s) => s.path === path && JSON.stringify(s.claims.sub_id).includes(JSON.stringify(user)));
const rawFor = (user: string) => hits.filter((x) => x.email === user);

async function delivered(user: string, receiver: string): Promise<Array<Record<string, unknown>>> {
  const res = await fetch(`${h.worker.url}/v1/audit?limit=1000`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  const { entries } = (await res.json()) as { entries: Array<{ action: string; target?: string; details: Record<string, unknown> }> };
  return entries.filter((e) => e.action === 'set.delivered' && e.target === user && e.details.receiver === receiver).map((e) => e.details);
}

describe('configured receivers: events filter and authorization', () => {
  it('a receiver gets only the event types its `events` lists; `authorization` goes with every push', async () => {
    const user = 'filtered@example.com';
    const sid = 'push-receivers-session-1';
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', sessionLogin(user, sid));
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
    await waitFor(
      async () => (await fetch(`${h.worker.url}/v1/sessions/${sid}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } })).status === 200,
      {
        what: 'the session stored',
      },
    );
    const revoke = await fetch(`${h.worker.url}/v1/sessions/${sid}`, { method: 'DELETE', headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
    expect(revoke.status).toBe(200);
    // Both SETs reached the receiver that takes both: the others have had their chance.
    await waitFor(() => at('/with-auth', user).length >= 2 && at('/risk-only', user).length >= 1 && at('/revoked-only', user).length >= 1, {
      what: 'the SETs',
    });
    await waitFor(async () => (await delivered(user, 'with-auth')).length >= 2, { what: 'both delivered to with-auth' });

    expect(at('/risk-only', user).map((s) => eventOf(s).type)).toEqual([CAEP_RISK]);
    expect(at('/revoked-only', user).map((s) => eventOf(s).type)).toEqual([CAEP_REVOKED]);
    expect(
      at('/with-auth', user)
        .map((s) => eventOf(s).type)
        .sort(),
    ).toEqual([CAEP_RISK, CAEP_REVOKED].sort());
    for (const s of at('/with-auth', user)) expect(s.authorization).toBe(SECRET);
    // The credential is that receiver's alone.
    for (const s of [...at('/risk-only', user), ...at('/revoked-only', user)]) expect(s.authorization).toBeUndefined();
    for (const s of h.receiver.received) expect(s.verified, s.error).toBe(true);
  });
});

describe('network failures are retried with the same jti', () => {
  it.each<[string, (req: IncomingMessage, res: ServerResponse) => void]>([
    ['a connection cut before any answer', (req) => req.socket.destroy()],
    // Answers long after the receiver's 1 s timeout (the worker has given up by then).
    ['a receiver slower than its `timeout`', (_req, res) => late.push(setTimeout(() => res.writeHead(202).end(), 5000))],
  ])('%s: retried, same jti, delivered once', async (what, fail) => {
    const user = `${what.split(' ')[1]}@example.com`;
    script = (hit, req, res) => {
      if (hit.email !== user || rawFor(user).length > 1) return false;
      fail(req, res);
      return true;
    };
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
    await waitFor(async () => (await delivered(user, 'raw')).length === 1, { what: 'delivered after the failure' });
    const got = rawFor(user);
    expect(got.length).toBeGreaterThanOrEqual(2);
    expect(new Set(got.map((x) => x.jti)).size).toBe(1);
    expect((await delivered(user, 'raw'))[0]).toMatchObject({ jti: got[0]!.jti, outcome: 'delivered' });
  });
});
