import { createServer } from 'node:http';
import { Writable } from 'node:stream';
import type { AddressInfo } from 'node:net';
import type { Redis } from 'ioredis';
import { createRemoteJWKSet, jwtVerify } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { Keys } from '../../src/keys.js';
import type { DeliveryOutcome } from '../../src/ssf/delivery-outcome.js';
import { startDeliveryWorker, type DeliveryWorker } from '../../src/ssf/delivery-worker.js';
import { KeyRing } from '../../src/ssf/key-ring.js';
import { createLogger } from '../../src/obs/logger.js';
import {
  createSetQueue,
  enqueueLevelChange,
  enqueueSessionRevoked,
  enqueueVerification,
  jtiFor,
  levelChangeJobId,
  type SetQueue,
} from '../../src/ssf/queue.js';
import { CAEP_RISK_LEVEL_CHANGE, CAEP_SESSION_REVOKED, OKTA_USER_RISK_CHANGE, SSF_VERIFICATION } from '../../src/ssf/set-builder.js';
import { change, onlyEvent, startReceiver, testReceiver, verifySet, type Answer } from './helpers.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { untilQuiet } from '../helpers/quiet.js';

const prefix = testPrefix('delivery');
const keys = new Keys(prefix);
const ISSUER = 'https://riskstream.test';
// Mutable: a test switches the invalid_key retry off (the workers read it at each failure).
const delivery = { concurrency: 4, horizon: 86_400_000, backoff_base: 30, backoff_max: 300, invalid_key_retry: 250 };
const receivers = new Map<string, ResolvedReceiver>();
const outcomes: Array<[string, DeliveryOutcome]> = [];
const closers: Array<() => Promise<void>> = [];
let redis: Redis;
let q: SetQueue;
let ring: KeyRing;
let audit: AuditLog;
let workers: DeliveryWorker[];
/** What the delivery workers logged (JSON lines). */
const logged: Array<Record<string, unknown>> = [];
const logDest = new Writable({
  write(chunk: Buffer, _enc, done) {
    for (const l of chunk.toString().split('\n')) if (l) logged.push(JSON.parse(l) as Record<string, unknown>);
    done();
  },
});

beforeAll(async () => {
  redis = redisClient();
  ring = new KeyRing();
  await ring.rotate('ES256');
  await ring.rotate('RS256');
  q = createSetQueue(redis, keys);
  audit = new AuditLog(redis, `${prefix}:audit`);
  // Two workers on one queue: ordering must hold across them.
  workers = [1, 2].map(() =>
    startDeliveryWorker({
      connection: redis,
      keys,
      registry: { get: (n) => receivers.get(n) },
      keyRing: ring,
      issuer: ISSUER,
      audit,
      delivery,
      onOutcome: (r, o) => outcomes.push([r, o]),
      logger: createLogger('info', logDest),
    }),
  );
});
afterAll(async () => {
  await Promise.all(workers.map((w) => w.close()));
  await q.close();
  for (const c of closers) await c();
  await cleanup(redis, prefix);
  await redis.quit();
});

async function receiver(name: string, answer: Parameters<typeof startReceiver>[0], over: Partial<ResolvedReceiver> = {}) {
  const rx = await startReceiver(answer);
  closers.push(rx.close);
  const cfg = testReceiver(name, rx.url, over);
  receivers.set(name, cfg);
  return { rx, cfg };
}

async function auditOf(name: string) {
  const { entries } = await audit.list({ count: 1000 });
  return entries.filter((e) => e.details.receiver === name).reverse();
}

async function jobState(id: string) {
  return (await q.queue.getJob(id))?.getState();
}

describe('SET delivery worker', () => {
  it('retries 503 with backoff, then delivers once with the same jti on every attempt', async () => {
    const { rx, cfg } = await receiver('r503', ({ n }) => ({ status: n < 3 ? 503 : 202 }));
    const c503 = change('u503@example.com', 1, 'low', 'high');
    const [id] = await enqueueLevelChange(q, c503, [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'completed', { timeout: 8000, what: 'delivery' });
    expect(rx.requests.map((r) => r.status)).toEqual([503, 503, 503, 202]);
    expect(new Set(rx.requests.map((r) => r.claims.jti))).toEqual(new Set([jtiFor(id!, c503.id)]));
    const { payload } = await verifySet(rx.requests[3]!.body, ring, cfg.audience);
    expect(payload.iss).toBe(ISSUER);
    const log = await auditOf('r503');
    expect(log.map((e) => e.action)).toEqual(['set.retry', 'set.retry', 'set.retry', 'set.delivered']);
    expect(log[3]!.details).toMatchObject({
      user: 'u503@example.com',
      event: 'risk-level-change',
      jti: jtiFor(id!, c503.id),
      version: 1,
      outcome: 'delivered',
      status: 202,
      attempts: 4,
    });
    expect(log[0]!.details).toMatchObject({ outcome: 'http', status: 503, attempts: 1 });
  });

  it('a SET retrying when its subject is removed (or its event no longer requested) is not sent again', async () => {
    const { rx, cfg } = await receiver('rremoved', () => ({ status: 503 }));
    const [id] = await enqueueLevelChange(q, change('gone@example.com', 1, 'low', 'high'), [cfg]);
    const [other] = await enqueueLevelChange(q, change('other@example.com', 1, 'low', 'high'), [cfg]);
    await waitFor(() => rx.requests.length >= 2, { timeout: 5000, what: 'first attempts' });
    receivers.set('rremoved', { ...cfg, removedSubjects: ['gone@example.com'], events: ['session-revoked'] });
    await waitFor(async () => (await jobState(id!)) === 'failed' && (await jobState(other!)) === 'failed', { timeout: 5000, what: 'both dropped' });
    const last = (await auditOf('rremoved')).filter((e) => e.action === 'set.failed');
    expect(last.map((e) => [e.details.user, e.details.outcome]).sort()).toEqual([
      ['gone@example.com', 'subject_removed'],
      ['other@example.com', 'event_not_requested'],
    ]);
    const sent = rx.requests.length;
    await new Promise((r) => setTimeout(r, 400)); // past the backoff: nothing more
    expect(rx.requests.length).toBe(sent);
  });

  it('honours Retry-After on 429', async () => {
    const { rx, cfg } = await receiver('r429', ({ n }) => (n === 0 ? { status: 429, headers: { 'retry-after': '1' } } : { status: 202 }));
    const [id] = await enqueueLevelChange(q, change('u429@example.com', 1, 'low', 'medium'), [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'completed', { timeout: 5000, what: 'delivery' });
    expect(rx.requests).toHaveLength(2);
    expect(rx.requests[1]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(950);
    expect((await auditOf('r429'))[0]!.details).toMatchObject({ outcome: 'rate_limited', status: 429, retry_after_ms: 1000 });
    expect(outcomes).toContainEqual(['r429', 'rate_limited']);
  });

  it('honours Retry-After on 503 too (contract §4: 5xx, network and 429 retried honouring Retry-After)', async () => {
    const { rx, cfg } = await receiver('r503ra', ({ n }) => (n === 0 ? { status: 503, headers: { 'retry-after': '1' } } : { status: 202 }));
    const [id] = await enqueueLevelChange(q, change('u503ra@example.com', 1, 'low', 'medium'), [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'completed', { timeout: 5000, what: 'delivery' });
    expect(rx.requests).toHaveLength(2);
    expect(rx.requests[1]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(950);
    expect((await auditOf('r503ra'))[0]!.details).toMatchObject({ outcome: 'http', status: 503, retry_after_ms: 1000 });
  });

  it("honours a 408's Retry-After too (a timeout: retried as a 5xx, its Retry-After a floor under the backoff)", async () => {
    const { rx, cfg } = await receiver('r408ra', ({ n }) => (n === 0 ? { status: 408, headers: { 'retry-after': '1' } } : { status: 202 }));
    const [id] = await enqueueLevelChange(q, change('u408ra@example.com', 1, 'low', 'medium'), [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'completed', { timeout: 5000, what: 'delivery' });
    expect(rx.requests).toHaveLength(2);
    expect((await auditOf('r408ra'))[0]!.details).toMatchObject({ outcome: 'http', status: 408, retry_after_ms: 1000 });
  });

  it('a 503 with Retry-After: 0 still backs off (the header is a floor, never a retry at once)', async () => {
    const { rx, cfg } = await receiver('r503ra0', ({ n }) => (n < 2 ? { status: 503, headers: { 'retry-after': '0' } } : { status: 202 }));
    const [id] = await enqueueLevelChange(q, change('u503ra0@example.com', 1, 'low', 'medium'), [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'completed', { timeout: 5000, what: 'delivery' });
    expect(rx.requests).toHaveLength(3);
    const retries = (await auditOf('r503ra0')).filter((e) => e.action === 'set.retry');
    expect(retries).toHaveLength(2);
    for (const r of retries) expect(r.details.delay_ms).toBeGreaterThanOrEqual(15); // backoff_base 30 ms, jittered
  });

  it('a 429 with Retry-After: 0 or a date past still backs off, growing (the header is a floor)', async () => {
    const past = 'Thu, 01 Jan 2026 00:00:00 GMT';
    const { rx, cfg } = await receiver('r429ra0', ({ n }) => (n < 3 ? { status: 429, headers: { 'retry-after': n === 1 ? past : '0' } } : { status: 202 }));
    const [id] = await enqueueLevelChange(q, change('u429ra0@example.com', 1, 'low', 'medium'), [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'completed', { timeout: 5000, what: 'delivery' });
    expect(rx.requests).toHaveLength(4);
    const retries = (await auditOf('r429ra0')).filter((e) => e.action === 'set.retry');
    expect(retries).toHaveLength(3);
    // backoff_base 30 ms, jittered to [½, 1] of 30, 60, 120 ms.
    expect(retries.map((r) => r.details.delay_ms as number).every((d, i) => d >= 15 * 2 ** i)).toBe(true);
    expect(rx.requests[3]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(100);
  });

  it('400 invalid_request: no retry, failed job kept, audited', async () => {
    const { rx, cfg } = await receiver('r400', () => ({ status: 400, body: { err: 'invalid_request', description: 'malformed' } }));
    const [id] = await enqueueLevelChange(q, change('u400@example.com', 1, 'low', 'high'), [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'failed', { timeout: 5000, what: 'failure' });
    await untilQuiet(redis, { prefix, streams: [] }); // a retry would be waiting, delayed or active
    expect(rx.requests).toHaveLength(1);
    const log = await auditOf('r400');
    expect(log.map((e) => e.action)).toEqual(['set.failed']);
    expect(log[0]!.details).toMatchObject({ outcome: 'rejected', status: 400, err: 'invalid_request', description: 'malformed', version: 1 });
    expect(outcomes).toContainEqual(['r400', 'failed']);
  });

  it('invalid_key is permanent when delivery.invalid_key_retry is 0s (the default)', async () => {
    delivery.invalid_key_retry = 0;
    try {
      const { rx, cfg } = await receiver('rkey0', () => ({ status: 400, body: { err: 'invalid_key', description: 'unknown kid' } }));
      const [id] = await enqueueLevelChange(q, change('ukey0@example.com', 1, 'low', 'high'), [cfg]);
      await waitFor(async () => (await jobState(id!)) === 'failed', { timeout: 5000, what: 'failure' });
      await untilQuiet(redis, { prefix, streams: [] });
      expect(rx.requests).toHaveLength(1);
      const log = await auditOf('rkey0');
      expect(log.map((e) => e.action)).toEqual(['set.failed']);
      expect(log[0]!.details).toMatchObject({ outcome: 'rejected', status: 400, err: 'invalid_key' });
    } finally {
      delivery.invalid_key_retry = 250;
    }
  });

  it('invalid_key gets exactly one delayed retry when delivery.invalid_key_retry is set', async () => {
    const { rx, cfg } = await receiver('rkey', () => ({ status: 400, body: { err: 'invalid_key' } }));
    const [id] = await enqueueLevelChange(q, change('ukey@example.com', 1, 'low', 'high'), [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'failed', { timeout: 5000, what: 'failure' });
    expect(rx.requests).toHaveLength(2);
    expect(rx.requests[1]!.at - rx.requests[0]!.at).toBeGreaterThanOrEqual(delivery.invalid_key_retry - 10);
    expect((await auditOf('rkey')).map((e) => e.action)).toEqual(['set.retry', 'set.failed']);
  });

  it('Okta\'s 400 authentication_failed "Could not verify message signature" (its JWKS copy older than a rotation) gets that one retry too, then delivers', async () => {
    const { rx, cfg } = await receiver('rsig', ({ n }) =>
      n === 0 ? { status: 400, body: { err: 'authentication_failed', description: 'Could not verify message signature.' } } : { status: 202 },
    );
    const [id] = await enqueueLevelChange(q, change('usig@example.com', 1, 'low', 'high'), [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'completed', { timeout: 5000, what: 'delivery' });
    expect(rx.requests).toHaveLength(2);
    const log = await auditOf('rsig');
    expect(log.map((e) => e.action)).toEqual(['set.retry', 'set.delivered']);
    // The receiver's own code, as sent (docs/interfaces.md §4), not only the outcome riskstream gave it.
    expect(log[0]!.details).toMatchObject({ outcome: 'invalid_key', status: 400, err: 'authentication_failed' });
  });

  it('401 fails without retry and is reported as unauthorized', async () => {
    const { rx, cfg } = await receiver('r401', () => ({ status: 401 }), { authorizationValue: 'Bearer wrong-token' });
    const [id] = await enqueueLevelChange(q, change('u401@example.com', 1, 'low', 'high'), [cfg]);
    await waitFor(async () => (await jobState(id!)) === 'failed', { timeout: 5000, what: 'failure' });
    expect(rx.requests).toHaveLength(1);
    expect(rx.requests[0]!.headers.authorization).toBe('Bearer wrong-token');
    const log = await auditOf('r401');
    expect(log[0]!.details).toMatchObject({ outcome: 'unauthorized', status: 401, alert: true });
    expect(JSON.stringify(log)).not.toContain('wrong-token');
    expect(outcomes).toContainEqual(['r401', 'unauthorized']);
  });

  it('a receiver refusing our authorization is logged once per worker and interval, naming the cause, not once per SET', async () => {
    const { cfg } = await receiver('r401many', () => ({ status: 401 }), { authorizationValue: 'Bearer wrong-again' });
    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(...(await enqueueLevelChange(q, change(`u401-${i}@example.com`, 1, 'low', 'high'), [cfg])));
    for (const id of ids) await waitFor(async () => (await jobState(id)) === 'failed', { timeout: 5000, what: 'failure' });
    const lines = logged.filter((l) => l.receiver === 'r401many');
    // Two delivery workers, each with its own failure log: at most one line each within the interval.
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThanOrEqual(2);
    for (const l of lines) expect(l).toMatchObject({ outcome: 'unauthorized', status: 401 });
    expect(JSON.stringify(logged)).not.toContain('wrong-again');
  });

  it('after an outage the receiver holds the latest level and never sees an older one after a newer one', async () => {
    let down = true;
    const { rx, cfg } = await receiver('rdown', () => ({ status: down ? 503 : 202 }));
    const user = 'udown@example.com';
    const levels = [change(user, 1, 'medium', 'low'), change(user, 2, 'low', 'high'), change(user, 3, 'high', 'medium')];
    for (const c of levels) {
      const seen = rx.requests.length;
      await enqueueLevelChange(q, c, [cfg]);
      await waitFor(() => rx.requests.length > seen, { timeout: 3000, what: 'an attempt while down' });
    }
    down = false;
    await waitFor(async () => (await q.state.versions(user, 'rdown')).delivered === 3, { timeout: 5000, what: 'recovery' });
    await untilQuiet(redis, { prefix, streams: [] }); // every stale job has run
    const accepted = rx.requests.filter((r) => r.status === 202).map((r) => (onlyEvent(r.claims)[1] as { current_level: string }).current_level);
    expect(accepted).toEqual(['MEDIUM']);
    const superseded = (await auditOf('rdown')).filter((e) => e.action === 'set.superseded').map((e) => e.details.version);
    expect(superseded.sort()).toEqual([1, 2]);
  });

  it('a burst of changes arrives in version order across two workers', async () => {
    const { rx, cfg } = await receiver('rburst', () => ({ status: 202 }));
    const user = 'uburst@example.com';
    const lv = ['low', 'medium', 'high'] as const;
    for (let v = 1; v <= 8; v++) await enqueueLevelChange(q, change(user, v, lv[(v - 1) % 3]!, lv[v % 3]!), [cfg]);
    await waitFor(async () => (await q.state.versions(user, 'rburst')).delivered === 8, { timeout: 5000, what: 'delivery of v8' });
    await untilQuiet(redis, { prefix, streams: [] });
    const versions = rx.requests.map((r) => Number(String(r.claims.txn).split('-').pop()));
    expect(versions.at(-1)).toBe(8);
    for (let i = 1; i < versions.length; i++) expect(versions[i]!).toBeGreaterThan(versions[i - 1]!);
  });

  it('a newer version waits for an in-flight send of an older one (per user+receiver lock)', async () => {
    let started = false;
    // The receiver applies a SET when it finishes handling it; v1 takes 400 ms.
    const { rx, cfg } = await receiver('rlock', async ({ claims }) => {
      if (claims.txn === 'chg-ulock@example.com-1') {
        started = true;
        await new Promise((r) => setTimeout(r, 400));
      }
      return { status: 202 };
    });
    const user = 'ulock@example.com';
    await enqueueLevelChange(q, change(user, 1, 'low', 'high'), [cfg]);
    await waitFor(() => started, { timeout: 3000, what: 'v1 in flight' });
    await enqueueLevelChange(q, change(user, 2, 'high', 'medium'), [cfg]);
    await waitFor(async () => (await q.state.versions(user, 'rlock')).delivered === 2, { timeout: 5000, what: 'v2 delivered' });
    expect(rx.requests.map((r) => r.claims.txn)).toEqual([`chg-${user}-1`, `chg-${user}-2`]);
  });

  it('okta-kind and ssf-kind receivers each get their own correctly shaped, verifiable SET', async () => {
    const jwksServer = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(ring.jwks())));
    await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
    closers.push(() => new Promise((r) => jwksServer.close(() => r())));
    const jwks = createRemoteJWKSet(new URL(`http://127.0.0.1:${(jwksServer.address() as AddressInfo).port}/jwks.json`));

    const okta = await receiver('okta', () => ({ status: 202 }), {
      kind: 'okta',
      alg: 'RS256',
      audience: 'https://org.okta.test',
      authorizationValue: 'SSWS okta-token',
    });
    const ssf = await receiver('ssf', () => ({ status: 204 }), { subject_format: 'opaque' });
    const c = change('ushape@example.com', 4, 'low', 'high', { behaviors: ['impossible_travel', 'dlp_detection'] });
    await enqueueLevelChange(q, c, [okta.cfg, ssf.cfg]);
    await waitFor(() => okta.rx.requests.length === 1 && ssf.rx.requests.length === 1, { timeout: 5000, what: 'both deliveries' });

    const o = await jwtVerify(okta.rx.requests[0]!.body, jwks, { typ: 'secevent+jwt', issuer: ISSUER, audience: 'https://org.okta.test' });
    expect(o.protectedHeader).toEqual({ alg: 'RS256', typ: 'secevent+jwt', kid: ring.key('RS256').kid });
    expect(okta.rx.requests[0]!.headers.authorization).toBe('SSWS okta-token');
    expect(o.payload.sub_id).toEqual({ format: 'email', email: 'ushape@example.com' });
    expect(o.payload.events).toEqual({
      [OKTA_USER_RISK_CHANGE]: {
        current_level: 'high',
        previous_level: 'low',
        event_timestamp: Math.floor(c.time / 1000),
        initiating_entity: 'system',
        reason_admin: { en: c.reason },
        subject: { user: { format: 'email', email: 'ushape@example.com' } },
      },
    });

    const s = await jwtVerify(ssf.rx.requests[0]!.body, jwks, { typ: 'secevent+jwt', issuer: ISSUER, audience: ssf.cfg.audience });
    expect(s.protectedHeader).toEqual({ alg: 'ES256', typ: 'secevent+jwt', kid: ring.key('ES256').kid });
    expect(s.payload.sub_id).toEqual({ format: 'opaque', id: 'ushape@example.com' });
    expect(onlyEvent(s.payload)).toEqual([
      CAEP_RISK_LEVEL_CHANGE,
      {
        principal: 'USER',
        current_level: 'HIGH',
        previous_level: 'LOW',
        risk_reason: 'impossible_travel, dlp_detection',
        event_timestamp: Math.floor(c.time / 1000),
        initiating_entity: 'system',
        reason_admin: { en: c.reason },
      },
    ]);
    expect(o.payload.txn).toBe(c.id);
    expect(s.payload.txn).toBe(c.id);
    expect(o.payload.jti).not.toBe(s.payload.jti);
    expect(typeof s.payload.iat).toBe('number');
  });

  it('delivers session-revoked and verification SETs', async () => {
    const { rx, cfg } = await receiver('rsess', () => ({ status: 202 }));
    await enqueueSessionRevoked(
      q,
      { id: 'rev-9', user: 'usess@example.com', sessionId: 's-9', reason: 'revoked by admin', initiatingEntity: 'admin', time: Date.now() },
      [cfg],
    );
    await enqueueVerification(q, 'rsess', 'ver-1', 'state-xyz');
    await waitFor(() => rx.requests.length === 2, { timeout: 5000, what: 'two SETs' });
    const byType = new Map(rx.requests.map((r) => [onlyEvent(r.claims)[0], r.claims]));
    expect(byType.get(CAEP_SESSION_REVOKED)?.sub_id).toEqual({
      format: 'complex',
      user: { format: 'email', email: 'usess@example.com' },
      session: { format: 'opaque', id: 's-9' },
    });
    expect(byType.get(SSF_VERIFICATION)?.events).toEqual({ [SSF_VERIFICATION]: { state: 'state-xyz' } });
  });

  it('per-receiver rate_limit spaces one receiver out without slowing another', async () => {
    const slow = await receiver('rslow', () => ({ status: 202 }), { rate_limit: 4 });
    const fast = await receiver('rfast', () => ({ status: 202 }));
    for (let i = 0; i < 8; i++) await enqueueLevelChange(q, change(`urate${i}@example.com`, 1, 'low', 'high'), [slow.cfg, fast.cfg]);
    await waitFor(() => fast.rx.requests.length === 8 && slow.rx.requests.length === 8, { timeout: 5000, what: 'both receivers' });
    const span = (rx: typeof slow.rx) => rx.requests.at(-1)!.at - rx.requests[0]!.at;
    expect(span(slow.rx)).toBeGreaterThanOrEqual(850); // 4 in the first second's burst, then one per 250 ms
    // Throttled with the slow one, the fast one would be spaced out the same (≥ 850 ms); a margin for a loaded machine.
    expect(span(fast.rx)).toBeLessThan(span(slow.rx) * 0.75);
  });

  it('gives up at the horizon and keeps the failed job', async () => {
    const { rx, cfg } = await receiver('rhorizon', () => ({ status: 503 }));
    const c = change('uhorizon@example.com', 1, 'low', 'high');
    const jobId = levelChangeJobId(cfg.name, c.user, c.version);
    // Enqueued "almost a horizon ago": only ~1.5 s of retrying left (backoff 30–300 ms: several tries, even on a loaded machine).
    await q.queue.add(
      'risk-level-change',
      { event: 'risk-level-change', change: c, receiver: cfg.name, jti: jtiFor(jobId, c.id) },
      { jobId, timestamp: Date.now() - delivery.horizon + 1_500 },
    );
    await waitFor(async () => (await jobState(jobId)) === 'failed', { timeout: 10_000, what: 'failure at the horizon' });
    expect(rx.requests.length).toBeGreaterThanOrEqual(2);
    const log = await auditOf('rhorizon');
    expect(log.at(-1)).toMatchObject({ action: 'set.failed', details: { outcome: 'expired', last_outcome: 'http' } });
  });

  it('close() waits for an in-flight send to finish', async () => {
    let answer: ((a: Answer) => void) | undefined;
    const { rx, cfg } = await receiver('rclose', () => new Promise<Answer>((r) => (answer = r)));
    const [id] = await enqueueLevelChange(q, change('uclose@example.com', 1, 'low', 'high'), [cfg]);
    await waitFor(() => answer !== undefined, { timeout: 3000, what: 'send in flight' });
    const t0 = Date.now();
    const closing = Promise.all(workers.map((w) => w.close()));
    setTimeout(() => answer!({ status: 202 }), 300);
    await closing;
    expect(Date.now() - t0).toBeGreaterThanOrEqual(290);
    expect(rx.requests).toHaveLength(1);
    expect(await jobState(id!)).toBe('completed');
  });
});
