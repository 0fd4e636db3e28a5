import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ResponseRule } from '../../src/config/responses.js';
import { capturedOf } from '../../src/detect/captured-session.js';
import { changeId } from '../../src/risk/reducer.js';
import { attachCapturedSessions, RecentLogins } from '../../src/sessions/captured.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import { storedOf } from '../../src/sessions/identity.js';
import { policyTriggers, responsePolicy } from '../../src/sessions/response-policy.js';
import type { SessionRevocation } from '../../src/sessions/revoke.js';
import { createSessionService } from '../../src/sessions/service.js';
import { SessionStore } from '../../src/sessions/store.js';
import type { BehaviorHit, CanonicalEvent, LevelChange } from '../../src/types.js';
import { batchOf, login, settings, testRedis } from './helpers.js';

const t = testRedis();
const store = new SessionStore(t.redis, t.keys);
const audit = new AuditLog(t.redis, `${t.prefix}:audit`);
const NOW = Date.now();

afterAll(async () => {
  await t.cleanup();
  await t.redis.quit();
});
beforeEach(() => t.cleanup());

const use = (sessionId: string, over: Partial<CanonicalEvent> = {}): CanonicalEvent => ({
  type: 'access',
  user: 'alice@example.com',
  time: NOW,
  session: { id: sessionId },
  device: { id: 'd-77' },
  ...over,
});

describe('attachCapturedSessions (the enrich stage)', () => {
  it('attaches the stored login identity, or the same batch’s login; nothing for unknown sessions or logins', async () => {
    await store.put([buildIdentity(login({ sessionId: 's-stored', time: NOW - 60_000 }), settings())!]);
    const inBatchLogin = login({ sessionId: 's-batch', time: NOW - 1000, device: { id: 'd-5' }, network: { asn: 7 } });
    const batch = batchOf([use('s-stored'), inBatchLogin, use('s-batch'), use('s-unknown')]);
    await attachCapturedSessions(store, batch);
    expect(capturedOf(batch[0]!.event)).toEqual({
      session_id: 's-stored',
      user: 'alice@example.com',
      login_at: NOW - 60_000,
      device: 'd-9',
      asn: 2856,
      country: 'GB',
    });
    expect(capturedOf(batch[1]!.event)).toBeUndefined();
    expect(capturedOf(batch[2]!.event)).toMatchObject({ session_id: 's-batch', device: 'd-5', asn: 7, login_at: NOW - 1000 });
    expect(capturedOf(batch[3]!.event)).toBeUndefined();
  });

  it('a user and a session id that join to another pair’s text are another session: no baseline from it (found by a session audit: the pair key was `user NUL sid`)', async () => {
    // alice's session "s\u0000t" and the user "alice@example.com\u0000s"'s session "t" both read `alice@example.com\u0000s\u0000t`.
    const other = 'alice@example.com\u0000s';
    const batch = batchOf([login({ sessionId: 's\u0000t', time: NOW - 1000, device: { id: 'd-5' } }), use('t', { user: other })]);
    await attachCapturedSessions(store, batch);
    expect(capturedOf(batch[1]!.event)).toBeUndefined();
    const recent = new RecentLogins();
    await attachCapturedSessions(store, batchOf([login({ sessionId: 's\u0000t', time: NOW - 1000, device: { id: 'd-5' } })]), recent);
    const later = batchOf([use('t', { user: other })]);
    await attachCapturedSessions(store, later, recent);
    expect(capturedOf(later[0]!.event)).toBeUndefined();
  });

  it('a session refresh is a use: it gets the stored login’s baseline (a login that starts a session gets none)', async () => {
    await store.put([buildIdentity(login({ sessionId: 's-ref', time: NOW - 60_000 }), settings())!]);
    const refresh = login({ sessionId: 's-ref', time: NOW, device: { id: 'd-77' } });
    refresh.type = 'session_refresh';
    const batch = batchOf([refresh, login({ sessionId: 's-new', time: NOW })]);
    await attachCapturedSessions(store, batch);
    expect(capturedOf(batch[0]!.event)).toMatchObject({ session_id: 's-ref', login_at: NOW - 60_000, device: 'd-9' });
    expect(capturedOf(batch[1]!.event)).toBeUndefined();
  });

  it('a later login of the user with a stored session id is a use: it gets the baseline and the stored identity; the same login again gets none', async () => {
    const first = login({ sessionId: 's-again', time: NOW - 60_000 });
    await store.put([buildIdentity(first, settings())!]);
    const batch = batchOf([login({ sessionId: 's-again', time: NOW, device: { id: 'd-evil' } }), { ...first }]);
    await attachCapturedSessions(store, batch);
    expect(capturedOf(batch[0]!.event)).toMatchObject({ session_id: 's-again', login_at: NOW - 60_000, device: 'd-9' });
    expect(storedOf(batch[0]!.event)).toMatchObject({ session_id: 's-again', login_at: NOW - 60_000 });
    expect(capturedOf(batch[1]!.event)).toBeUndefined();
  });

  it('a login routed lately is no baseline for a use after its session expired, nor once its commit must have landed (the store is the word)', async () => {
    const recent = new RecentLogins();
    await attachCapturedSessions(store, batchOf([login({ sessionId: 's-short', time: NOW - 60_000, expiresAt: NOW - 10_000, device: { id: 'd-5' } })]), recent);
    const late = batchOf([use('s-short', { time: NOW })]); // after the session's expiry
    await attachCapturedSessions(store, late, recent);
    expect(capturedOf(late[0]!.event)).toBeUndefined();
    const early = batchOf([use('s-short', { time: NOW - 20_000 })]); // before it: the routed login stands in
    await attachCapturedSessions(store, early, recent);
    expect(capturedOf(early[0]!.event)).toMatchObject({ session_id: 's-short', device: 'd-5' });
    // Routed long ago (by processing time): its commit has landed, and the store has no such session.
    const old = new RecentLogins(10, 30_000);
    const record = { session_id: 's-old', user: 'alice@example.com', claims: {}, login_at: NOW - 1000, expires_at: NOW + 60_000 };
    old.remember(new Map([['alice@example.com\u0000s-old', record]]), Date.now() - 31_000);
    expect(old.get('alice@example.com', 's-old')).toBeUndefined();
    expect(new RecentLogins().get('alice@example.com', 's-none')).toBeUndefined();
  });

  it('a use after its session expired, in the same batch as its login, gets no baseline', async () => {
    const batch = batchOf([login({ sessionId: 's-lapsed', time: NOW - 60_000, expiresAt: NOW - 10_000 }), use('s-lapsed', { time: NOW })]);
    await attachCapturedSessions(store, batch);
    expect(capturedOf(batch[1]!.event)).toBeUndefined();
  });

  it('a login routed in an earlier batch whose identity is not committed yet is the baseline (recent logins); the stored one wins once there', async () => {
    const recent = new RecentLogins();
    await attachCapturedSessions(store, batchOf([login({ sessionId: 's-late', time: NOW - 5000, device: { id: 'd-5' }, network: { asn: 7 } })]), recent);
    // The next batch uses the session before the login's commit landed.
    const next = batchOf([use('s-late')]);
    await attachCapturedSessions(store, next, recent);
    expect(capturedOf(next[0]!.event)).toMatchObject({ session_id: 's-late', device: 'd-5', asn: 7, login_at: NOW - 5000 });
    // Without the router's memory nothing is known yet (the race this closes).
    const alone = batchOf([use('s-late')]);
    await attachCapturedSessions(store, alone);
    expect(capturedOf(alone[0]!.event)).toBeUndefined();
    // A later login of the same session in a batch does not replace the earliest one.
    const later = batchOf([login({ sessionId: 's-late', time: NOW - 1000, device: { id: 'd-6' } }), use('s-late')]);
    await attachCapturedSessions(store, later, recent);
    expect(capturedOf(later[1]!.event)).toMatchObject({ device: 'd-5', login_at: NOW - 5000 });
    // Committed: the stored identity is the baseline.
    await store.put([buildIdentity(login({ sessionId: 's-late', time: NOW - 5000 }), settings())!]);
    const stored = batchOf([use('s-late')]);
    await attachCapturedSessions(store, stored, recent);
    expect(capturedOf(stored[0]!.event)).toMatchObject({ device: 'd-9', asn: 2856 });
  });
});

function change(over: Partial<LevelChange> = {}): LevelChange {
  return {
    id: changeId('alice@example.com', 1, 'x'),
    user: 'alice@example.com',
    version: 1,
    previous: 'low',
    current: 'high',
    behaviors: ['session_hijack'],
    reason: 'session s-1 used from device d-77',
    initiatingEntity: 'system',
    time: NOW,
    ...over,
  };
}
const hit = (over: Partial<BehaviorHit> = {}): BehaviorHit => ({
  behavior: 'session_hijack',
  level: 'high',
  time: NOW,
  summary: 'session s-1 used from device d-77',
  evidence: {},
  eventIds: ['e-1'],
  ...over,
});

describe('policyTriggers (pure)', () => {
  const level: ResponseRule[] = [{ when: { level: 'high' }, revoke_sessions: true }];
  const behavior: ResponseRule[] = [{ when: { behavior: 'session_hijack' }, revoke_sessions: true }];
  it('a change reaching the level fires once per change; rises below it, stays at it and admin resets do not', () => {
    expect(policyTriggers(level, [change()], [])).toEqual([expect.objectContaining({ user: 'alice@example.com', marker: `level:${change().id}` })]);
    expect(policyTriggers(level, [change({ current: 'medium' })], [])).toEqual([]);
    expect(policyTriggers(level, [change({ previous: 'high', current: 'high' })], [])).toEqual([]);
    expect(policyTriggers(level, [change({ initiatingEntity: 'admin' })], [])).toEqual([]);
    expect(policyTriggers([{ when: { level: 'medium' }, revoke_sessions: true }], [change()], [])).toHaveLength(1);
  });
  it('a hit of the behavior fires with a deterministic marker; other behaviors, late hits and revoke_sessions: false do not', () => {
    const a = policyTriggers(behavior, [], [{ user: 'alice@example.com', hit: hit() }]);
    expect(a).toHaveLength(1);
    expect(policyTriggers(behavior, [], [{ user: 'alice@example.com', hit: hit() }])).toEqual(a);
    expect(policyTriggers(behavior, [], [{ user: 'alice@example.com', hit: hit({ behavior: 'dlp_detection' }) }])).toEqual([]);
    expect(policyTriggers(behavior, [], [{ user: 'alice@example.com', hit: hit({ expiredOnArrival: true }) }])).toEqual([]);
    expect(policyTriggers([{ when: { behavior: 'session_hijack' }, revoke_sessions: false }], [], [{ user: 'alice@example.com', hit: hit() }])).toEqual([]);
  });
});

describe('responsePolicy', () => {
  it('revokes every active session of the user, audited as actor policy, exactly once per trigger', async () => {
    await store.put(['s-1', 's-2'].map((id) => buildIdentity(login({ sessionId: id, time: NOW - 60_000 }), settings())!));
    await store.put([buildIdentity(login({ sessionId: 's-bob', user: 'bob@example.com', time: NOW - 60_000 }), settings())!]);
    const sent: SessionRevocation[] = [];
    const service = createSessionService({ store, audit, onRevoked: (r) => void sent.push(r) });
    const respond = responsePolicy({
      redis: t.redis,
      keys: t.keys,
      rules: () => [{ when: { level: 'high' }, revoke_sessions: true }],
      sessions: service,
    });
    await respond([change()], []);
    expect(sent.map((r) => [r.sessionId, r.actor]).sort()).toEqual([
      ['s-1', 'policy'],
      ['s-2', 'policy'],
    ]);
    expect(await store.get('s-bob')).not.toBeNull();
    const entries = (await audit.list()).entries.filter((e) => e.action === 'session.revoked');
    expect(entries.map((e) => e.actor)).toEqual(['policy', 'policy']);

    // The relay repeats the call (a crash before the outbox entries were deleted), and the user has a new session by then.
    await store.put([buildIdentity(login({ sessionId: 's-3', time: NOW - 1000 }), settings())!]);
    await respond([change()], []);
    expect(sent).toHaveLength(2);
    expect(await store.get('s-3')).not.toBeNull();
  });
});

describe('responsePolicy: a late login (shipper lag), decided by the owner', () => {
  it('revokes that one session of the user, audited as actor policy, with its SET, exactly once; the user’s others stay', async () => {
    const trigger = NOW - 30_000;
    await store.put(['s-late', 's-after'].map((id, i) => buildIdentity(login({ sessionId: id, time: trigger + (i ? 10_000 : -60_000) }), settings())!));
    await store.put([buildIdentity(login({ sessionId: 's-late', user: 'bob@example.com', time: trigger - 60_000 }), settings())!]);
    const sent: SessionRevocation[] = [];
    const service = createSessionService({ store, audit, onRevoked: (r) => void sent.push(r) });
    const respond = responsePolicy({
      redis: t.redis,
      keys: t.keys,
      rules: () => [], // reloaded without rules since: the owner decided under its rules
      sessions: service,
    });
    const late = [{ user: 'alice@example.com', late: { session: 's-late', login_at: trigger - 60_000, trigger } }];
    await respond([], [], late);
    expect(sent.map((r) => [r.user, r.sessionId, r.actor])).toEqual([['alice@example.com', 's-late', 'policy']]);
    expect(sent[0]!.reason).toMatch(/^policy: session login at .* the revocation trigger arrived at /);
    expect(await store.get('s-late', 'alice@example.com')).toBeNull();
    expect(await store.get('s-after', 'alice@example.com')).not.toBeNull();
    expect(await store.get('s-late', 'bob@example.com')).not.toBeNull();
    const entries = (await audit.list()).entries.filter((e) => e.action === 'session.revoked');
    expect(entries.map((e) => [e.actor, e.target])).toEqual([['policy', 's-late']]);

    // Relayed again (a crash before the outbox entry was deleted): the marker holds, nothing more.
    await respond([], [], late);
    expect(sent).toHaveLength(1);
    expect(await t.redis.keys(`${t.prefix}*policy*`)).toHaveLength(1);
  });
});
