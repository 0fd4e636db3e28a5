import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ResolvedReceiver } from '../../src/config/receiver.js';
import { isRiskstreamError } from '../../src/errors.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import { drainRevocationNotices, revocationId, revokeSession, revokeUserSessions, type SessionRevocation } from '../../src/sessions/revoke.js';
import { setQueueSink } from '../../src/sessions/set-sink.js';
import { SessionStore } from '../../src/sessions/store.js';
import { createSetQueue, sessionRevokedJobId } from '../../src/ssf/queue.js';
import { fakeJwt, login, settings, testRedis } from './helpers.js';

const t = testRedis();
const store = new SessionStore(t.redis, t.keys);
const audit = new AuditLog(t.redis, `${t.prefix}:audit`);
const NOW = Date.now();

afterAll(async () => {
  await t.cleanup();
  await t.redis.quit();
});
beforeEach(() => t.cleanup());

async function seed(sessionId: string): Promise<number> {
  const e = login({ sessionId, time: NOW - 1000 });
  await store.put([buildIdentity(e, settings())!]);
  return e.time;
}

/** The revocation of alice's session `sessionId` (logged in at `loginAt`) expected at NOW. */
function expectedChange(sessionId: string, loginAt: number, actor: string, reason: string): SessionRevocation {
  const user = 'alice@example.com';
  return { id: revocationId({ session_id: sessionId, login_at: loginAt, user }, NOW), user, sessionId, reason, actor, time: NOW };
}

describe('revokeSession', () => {
  it("deletes, audits, then calls the sink with the revocation's change id", async () => {
    const loginAt = await seed('s1');
    const calls: SessionRevocation[] = [];
    const r = await revokeSession({ store, audit, onRevoked: (c) => void calls.push(c), now: () => NOW }, 's1', { actor: 'admin:x', reason: 'stolen' });
    const change = expectedChange('s1', loginAt, 'admin:x', 'stolen');
    expect(r.change).toEqual(change);
    expect(calls).toEqual([change]);
    expect(await store.get('s1')).toBeNull();
    const { entries } = await audit.list();
    expect(entries).toEqual([
      expect.objectContaining({
        action: 'session.revoked',
        actor: 'admin:x',
        target: 's1',
        time: NOW,
        details: expect.objectContaining({ user: 'alice@example.com', reason: 'stolen' }),
      }),
    ]);
  });

  it('unknown id → NOT_FOUND, nothing audited, sink not called; a pasted token is not echoed', async () => {
    const calls: SessionRevocation[] = [];
    const jwt = fakeJwt();
    for (const id of ['nope', jwt]) {
      const err = await revokeSession({ store, audit, onRevoked: (c) => void calls.push(c) }, id, { actor: 'a', reason: 'r' }).catch((e: unknown) => e);
      expect(isRiskstreamError(err, 'NOT_FOUND')).toBe(true);
      expect((err as Error).message).not.toContain(jwt);
    }
    expect(calls).toEqual([]);
    expect((await audit.list()).entries).toEqual([]);
  });

  it('a failing sink: the session stays revoked, the failure is audited, INTERNAL is thrown', async () => {
    await seed('s2');
    const err = await revokeSession({ store, audit, onRevoked: () => Promise.reject(new Error('queue down')) }, 's2', { actor: 'a', reason: 'r' }).catch(
      (e: unknown) => e,
    );
    expect(isRiskstreamError(err, 'INTERNAL')).toBe(true);
    expect(await store.get('s2')).toBeNull();
    expect((await audit.list()).entries.map((e) => e.action)).toEqual(['session.revoke_notify_failed', 'session.revoked']);
  });

  it('the SET-queue sink enqueues one session-revoked job per receiver that wants it', async () => {
    const loginAt = await seed('s3');
    const rx = (name: string, events: ResolvedReceiver['events']): ResolvedReceiver =>
      ({
        name,
        kind: 'ssf',
        endpoint: 'https://rx.example/ssf',
        audience: 'https://rx.example',
        events,
        enabled: true,
        alg: 'ES256',
        subject_format: 'email',
        timeout: 10_000,
      }) as ResolvedReceiver;
    const queue = createSetQueue(t.redis, t.keys);
    try {
      const sink = setQueueSink(queue, () => [rx('wants', ['session-revoked']), rx('other', ['risk-level-change'])]);
      const r = await revokeSession({ store, audit, onRevoked: sink, now: () => NOW }, 's3', { actor: 'admin:x', reason: 'stolen' });
      expect(r.change.id).toBe(revocationId({ session_id: 's3', login_at: loginAt, user: 'alice@example.com' }, NOW));
      const job = await queue.queue.getJob(sessionRevokedJobId('wants', 's3', r.change.id));
      expect(job?.data).toMatchObject({
        event: 'session-revoked',
        receiver: 'wants',
        user: 'alice@example.com',
        sessionId: 's3',
        reason: 'stolen',
        initiatingEntity: 'admin',
        time: NOW,
      });
      expect(await queue.queue.getJob(sessionRevokedJobId('other', 's3', r.change.id))).toBeUndefined();
    } finally {
      await queue.close();
    }
  });

  it('a session stored again after its revocation and revoked again is another change: its own SET job per receiver', async () => {
    const e = login({ sessionId: 's4', time: NOW - 1000 });
    const identity = buildIdentity(e, settings())!;
    await store.put([identity]);
    const queue = createSetQueue(t.redis, t.keys);
    try {
      const rx = {
        name: 'wants',
        kind: 'ssf',
        endpoint: 'https://rx.example/ssf',
        audience: 'https://rx.example',
        events: ['session-revoked'],
        enabled: true,
      } as ResolvedReceiver;
      const sink = setQueueSink(queue, () => [rx]);
      const first = await revokeSession({ store, audit, onRevoked: sink, now: () => NOW }, 's4', { actor: 'admin:x', reason: 'first' });
      // Its tombstone gone (it lasts the session's remaining lifetime), the same login is stored again.
      await t.redis.del(t.keys.sessionTombstone(t.keys.partitionOf('alice@example.com'), 's4'));
      await store.put([identity]);
      expect(await store.get('s4')).not.toBeNull();
      const second = await revokeSession({ store, audit, onRevoked: sink, now: () => NOW + 5000 }, 's4', { actor: 'admin:x', reason: 'second' });
      expect(second.change.id).not.toBe(first.change.id);
      const jobs = await Promise.all([first, second].map((r) => queue.queue.getJob(sessionRevokedJobId('wants', 's4', r.change.id))));
      expect(jobs.map((j) => j?.data)).toEqual([
        expect.objectContaining({ event: 'session-revoked', reason: 'first' }),
        expect.objectContaining({ event: 'session-revoked', reason: 'second' }),
      ]);
      expect(jobs[0]!.data.jti).not.toBe(jobs[1]!.data.jti);
    } finally {
      await queue.close();
    }
  });

  it("revoking a user's sessions tells each as it goes: a failing sink stops there, the sessions not reached stay live (a retry revokes and tells them)", async () => {
    for (const [i, id] of ['u1', 'u2', 'u3'].entries()) await store.put([buildIdentity(login({ sessionId: id, time: NOW - 3000 + i }), settings())!]);
    const told: string[] = [];
    let fail = true;
    const deps = {
      store,
      audit,
      onRevoked: (c: SessionRevocation) => {
        if (fail && told.length === 1) throw new Error('queue down');
        told.push(c.sessionId);
      },
      now: () => NOW,
    };
    const opts = { actor: 'policy', reason: 'level high' };
    await expect(revokeUserSessions(deps, 'alice@example.com', opts)).rejects.toSatisfy((e) => isRiskstreamError(e, 'INTERNAL'));
    // Newest login first: u3 told, u2 revoked but its SET failed (audited), u1 untouched.
    expect(told).toEqual(['u3']);
    expect((await store.listUser('alice@example.com')).map((x) => x.session_id)).toEqual(['u1']);
    fail = false;
    const again = await revokeUserSessions(deps, 'alice@example.com', opts);
    expect(again.map((r) => r.identity.session_id)).toEqual(['u1']);
    expect(told).toEqual(['u3', 'u1']);
    const actions = (await audit.list()).entries.map((e) => `${e.action} ${e.target}`);
    expect(actions.sort()).toEqual(['session.revoke_notify_failed u2', 'session.revoked u1', 'session.revoked u2', 'session.revoked u3']);
  });

  it('a revoker that stops between the deletion and the telling (a crash): a later drain tells it, once', async () => {
    const loginAt = await seed('s-crash');
    const part = t.keys.partitionOf('alice@example.com');
    const stop = new Error('killed');
    // The deletion happens; the process "dies" before its audit entry and SETs.
    await expect(store.revokeCopies('s-crash', { actor: 'policy', reason: 'level high', time: NOW }, undefined, () => Promise.reject(stop))).rejects.toBe(stop);
    expect(await store.get('s-crash')).toBeNull();
    expect((await audit.list()).entries).toEqual([]);
    const calls: SessionRevocation[] = [];
    const deps = { store, audit, onRevoked: (c: SessionRevocation) => void calls.push(c) };
    // Within the revoker's claim, nobody else tells it (it may still be telling).
    expect(await drainRevocationNotices(deps, [part])).toBe(0);
    expect(calls).toEqual([]);
    // Past it: told once — the audit entry and the SETs the revoker would have written.
    expect(await drainRevocationNotices(deps, [part], 0)).toBe(1);
    const change = expectedChange('s-crash', loginAt, 'policy', 'level high');
    expect(calls).toEqual([change]);
    expect((await audit.list()).entries).toEqual([
      expect.objectContaining({
        action: 'session.revoked',
        actor: 'policy',
        target: 's-crash',
        time: NOW,
        details: { user: 'alice@example.com', reason: 'level high', change_id: change.id },
      }),
    ]);
    expect(await drainRevocationNotices(deps, [part], 0)).toBe(0);
    expect(calls).toHaveLength(1);
    expect(await t.redis.hlen(t.keys.revocationNotices(part))).toBe(0);
  });

  it('a revocation told in full leaves no notice; a failing sink leaves its notice for a drain', async () => {
    await seed('s-ok');
    await seed('s-fail');
    const part = t.keys.partitionOf('alice@example.com');
    await revokeSession({ store, audit, onRevoked: () => undefined }, 's-ok', { actor: 'admin:x', reason: 'r' });
    expect(await t.redis.hlen(t.keys.revocationNotices(part))).toBe(0);
    await revokeSession({ store, audit, onRevoked: () => Promise.reject(new Error('queue down')) }, 's-fail', { actor: 'admin:x', reason: 'r' }).catch(
      () => undefined,
    );
    expect(await t.redis.hlen(t.keys.revocationNotices(part))).toBe(2); // the notice, and its audited mark
    const calls: string[] = [];
    // Still failing: stays; then queued once the sink works.
    expect(await drainRevocationNotices({ store, audit, onRevoked: () => Promise.reject(new Error('still down')) }, [part], 0)).toBe(0);
    expect(await drainRevocationNotices({ store, audit, onRevoked: (c) => void calls.push(c.sessionId) }, [part], 0)).toBe(1);
    expect(calls).toEqual(['s-fail']);
    expect(await t.redis.hlen(t.keys.revocationNotices(part))).toBe(0);
    // Its audit entry once, however often it was retried; each failure audited.
    const actions = (await audit.list()).entries.filter((e) => e.target === 's-fail').map((e) => e.action);
    expect(actions.filter((a) => a === 'session.revoked')).toHaveLength(1);
    expect(actions.filter((a) => a === 'session.revoke_notify_failed')).toHaveLength(2);
  });

  it('a revoked session leaves its tombstone in the same step: storing the id again is refused', async () => {
    await seed('s-tomb');
    await revokeSession({ store, audit, onRevoked: () => undefined, now: () => NOW }, 's-tomb', { actor: 'admin:x', reason: 'stolen' });
    expect(await t.redis.exists(t.keys.sessionTombstone(t.keys.partitionOf('alice@example.com'), 's-tomb'))).toBe(1);
    await store.put([buildIdentity(login({ sessionId: 's-tomb', time: NOW - 500 }), settings())!]);
    expect(await store.get('s-tomb')).toBeNull();
  });

  it('a session whose id ends in ":revoked" is its own: stored beside the session it names, and kept when that one is revoked', async () => {
    await store.put([buildIdentity(login({ sessionId: 'h-1:revoked', time: NOW - 2000 }), settings())!]);
    await store.put([buildIdentity(login({ sessionId: 'h-1', time: NOW - 1000 }), settings())!]);
    expect((await store.listUser('alice@example.com')).map((x) => x.session_id).sort()).toEqual(['h-1', 'h-1:revoked']);
    await revokeSession({ store, audit, onRevoked: () => undefined, now: () => NOW }, 'h-1', { actor: 'admin:x', reason: 'stolen' });
    expect(await store.get('h-1')).toBeNull();
    expect(await store.get('h-1:revoked')).toMatchObject({ session_id: 'h-1:revoked', user: 'alice@example.com' });
  });
});
