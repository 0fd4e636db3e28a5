import { sessionRevokedJobId } from '../../src/ssf/queue.js';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { packOps } from '../../src/redis/pack-ops.js';
import { scriptsOn } from '../../src/redis/scripts.js';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import { SessionStore } from '../../src/sessions/store.js';
import { ADMIN, buildApi, login, settings, testRedis } from './helpers.js';

/**
 * Issue 13 row 7: a session id bound to one user is never taken over by another user's login.
 * Within a partition the later login is refused; across partitions (issue 17, cluster key layout)
 * both are stored, and a lookup by id alone answers the earliest login.
 */
const t = testRedis();
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const now = (): number => T0;

afterAll(async () => {
  await t.cleanup();
  await t.redis.quit();
});
beforeEach(() => t.cleanup());

function ident(over: Parameters<typeof login>[0] = {}): SessionIdentity {
  return buildIdentity(login({ time: T0, ...over }), settings())!;
}

const ALICE = 'alice@example.com';
const BOB = 'bob@example.com';

describe('session id collision within a partition', () => {
  // One partition: alice and bob share it (the refusal happens in the partition's commit script).
  const one = new Keys(t.prefix, 1);
  const store = new SessionStore(t.redis, one, { now });

  it('a later login of another user with the same id is refused; alice keeps her session; revoking all of alice revokes it', async () => {
    const a = ident({ sessionId: 's-shared', expiresAt: T0 + 3_600_000 });
    expect(await store.put([a])).toMatchObject({ stored: 1 });
    const b = ident({ sessionId: 's-shared', user: BOB, time: T0 + 60_000, expiresAt: T0 + 7_200_000, device: { id: 'bob-laptop' } });
    const r = await store.put([b]);
    expect(r).toMatchObject({ stored: 0, skipped: 1, refused: [{ session_id: 's-shared', user: BOB, owner: ALICE }] });

    expect((await store.get('s-shared'))?.user).toBe(ALICE);
    expect((await store.listUser(ALICE)).map((s) => s.session_id)).toEqual(['s-shared']);
    expect(await store.listUser(BOB)).toEqual([]);
    expect(await t.redis.zscore(t.keys.userSessions(BOB), 's-shared')).toBeNull();
    // The partition's indexes keep alice's times, not bob's.
    expect(Number(await t.redis.zscore(one.sessionsByLogin(0), 's-shared'))).toBe(T0);
    expect(Number(await t.redis.zscore(one.sessionsByExpiry(0), 's-shared'))).toBe(T0 + 3_600_000);

    const revoked = await store.revokeUser(ALICE, { actor: 'admin', reason: 'test' });
    expect(revoked.map((s) => s.session_id)).toEqual(['s-shared']);
  });

  it('both logins in one batch: the first binding wins; the same user may log in again with the id', async () => {
    const a = ident({ sessionId: 's-2' });
    const b = ident({ sessionId: 's-2', user: BOB, time: T0 + 1 });
    const r = await store.put([a, b]);
    expect(r.stored).toBe(1);
    expect(r.refused).toEqual([{ session_id: 's-2', user: BOB, owner: ALICE }]);
    const again = ident({ sessionId: 's-2', time: T0 + 2 });
    expect(await store.put([again])).toEqual({ stored: 1, skipped: 0, dropped: [] });
    expect((await store.get('s-2'))?.login_at).toBe(T0 + 2);
  });

  it("a refused login trimmed from the other user's full list never deletes the owner's session", async () => {
    const small = new SessionStore(t.redis, one, { now, maxPerUser: 2 });
    await small.put([ident({ sessionId: 's-owned', expiresAt: T0 + 60_000 })]);
    await small.put([ident({ sessionId: 'b-1', user: BOB, expiresAt: T0 + 3_600_000 }), ident({ sessionId: 'b-2', user: BOB, expiresAt: T0 + 3_600_000 })]);
    // Bob's colliding login would be his soonest-expiring session: the per-user trim picks it.
    const r = await small.put([ident({ sessionId: 's-owned', user: BOB, expiresAt: T0 + 30_000 })]);
    expect(r.refused).toHaveLength(1);
    expect(r.dropped).toEqual([]);
    expect((await small.get('s-owned'))?.user).toBe(ALICE);
    expect((await small.listUser(ALICE)).map((s) => s.session_id)).toEqual(['s-owned']);
  });

  it("a refused login never takes a slot of the other user's sessions: none of theirs is trimmed for it (found by a black-box review)", async () => {
    const small = new SessionStore(t.redis, one, { now, maxPerUser: 2 });
    await small.put([ident({ sessionId: 's-owned', expiresAt: T0 + 60_000 })]);
    await small.put([ident({ sessionId: 'b-1', user: BOB, expiresAt: T0 + 600_000 }), ident({ sessionId: 'b-2', user: BOB, expiresAt: T0 + 900_000 })]);
    // Bob's colliding login expires after both of his sessions: the per-user trim would pick b-1.
    const r = await small.put([ident({ sessionId: 's-owned', user: BOB, time: T0 + 1000, expiresAt: T0 + 3_600_000 })]);
    expect(r.refused).toHaveLength(1);
    expect(r.dropped).toEqual([]);
    expect((await small.listUser(BOB)).map((s) => s.session_id)).toEqual(['b-2', 'b-1']);
    expect((await small.get('b-1'))?.user).toBe(BOB);
    expect((await small.get('s-owned'))?.user).toBe(ALICE);
  });

  it("a refused login leaves no device in its user's registry naming the other user's session", async () => {
    await store.put([ident({ sessionId: 's-dev', device: { id: 'alice-laptop' } })]);
    const r = await store.put([ident({ sessionId: 's-dev', user: BOB, time: T0 + 1000, device: { id: 'bob-laptop', posture: { os: 'linux' } } })]);
    expect(r.refused).toHaveLength(1);
    expect(await store.devices(BOB)).toEqual([]);
    expect((await store.devices(ALICE)).map((d) => [d.id, d.session_id])).toEqual([['alice-laptop', 's-dev']]);
  });

  it("in one commit with a login of the user's own from the same device, either order: the device names the user's own session", async () => {
    await store.put([ident({ sessionId: 's-dev2', device: { id: 'alice-laptop' } })]);
    const own = ident({ sessionId: 'b-own', user: BOB, time: T0 + 1000, device: { id: 'bob-laptop', posture: { os: 'linux' } } });
    const refused = ident({ sessionId: 's-dev2', user: BOB, time: T0 + 2000, device: { id: 'bob-laptop', posture: { os: 'evil' } } });
    expect((await store.put([own, refused])).refused).toHaveLength(1);
    expect((await store.devices(BOB)).map((d) => [d.id, d.session_id, d.posture, d.last_seen])).toEqual([['bob-laptop', 'b-own', { os: 'linux' }, T0 + 1000]]);
    await t.redis.del(t.keys.userDevices(BOB));
    const later = ident({ sessionId: 'b-own', user: BOB, time: T0 + 3000, device: { id: 'bob-laptop' } });
    expect((await store.put([refused, later])).refused).toHaveLength(1);
    // No posture reported by bob's own login: it keeps its session's (linux), never the refused one's.
    expect((await store.devices(BOB)).map((d) => [d.id, d.session_id, d.posture, d.last_seen])).toEqual([['bob-laptop', 'b-own', { os: 'linux' }, T0 + 3000]]);
  });

  it("a login of another user with a revoked session's id leaves no device naming it (the tombstone is the other user's)", async () => {
    await store.put([ident({ sessionId: 's-rev', device: { id: 'alice-laptop' } })]);
    expect((await store.revoke('s-rev', { actor: 'admin', reason: 'x' }))?.user).toBe(ALICE);
    const own = ident({ sessionId: 'b-own2', user: BOB, time: T0 + 1000, device: { id: 'bob-phone' } });
    const r = await store.put([own, ident({ sessionId: 's-rev', user: BOB, time: T0 + 2000, device: { id: 'bob-laptop' } })]);
    // The outcome as before: revoked (not stored, not reported as a collision).
    expect(r).toEqual({ stored: 1, skipped: 1, dropped: [] });
    expect((await store.devices(BOB)).map((d) => [d.id, d.session_id])).toEqual([['bob-phone', 'b-own2']]);
    expect(await store.get('s-rev')).toBeNull();
  });

  it('revoke by id still works', async () => {
    await store.put([ident({ sessionId: 's-3' })]);
    await store.put([ident({ sessionId: 's-3', user: BOB })]);
    expect((await store.revoke('s-3', { actor: 'admin', reason: 'x' }))?.user).toBe(ALICE);
    expect(await store.get('s-3')).toBeNull();
  });
});

describe('session id collision across partitions', () => {
  const store = new SessionStore(t.redis, t.keys, { now });

  it('alice and bob are in different partitions', () => {
    expect(t.keys.partitionOf(ALICE)).not.toBe(t.keys.partitionOf(BOB));
  });

  // Both arrival orders: the answer follows the login time, not which write came last or which partition is first.
  for (const first of [ALICE, BOB]) {
    it(`both logins are stored; get(id) answers the earlier login (${first}'s); each user lists only their own; revoke(id) revokes both`, async () => {
      const second = first === ALICE ? BOB : ALICE;
      const early = ident({ sessionId: 's-x', user: first, expiresAt: T0 + 3_600_000, device: { id: `${first}-laptop` } });
      const late = ident({ sessionId: 's-x', user: second, time: T0 + 60_000, expiresAt: T0 + 7_200_000, device: { id: `${second}-laptop` } });
      // The later login is written first: the lookup must not just answer the last write.
      expect(await store.put([late])).toEqual({ stored: 1, skipped: 0, dropped: [] });
      expect(await store.put([early])).toEqual({ stored: 1, skipped: 0, dropped: [] });

      expect(await store.get('s-x')).toEqual(early);
      expect(await store.get('s-x', first)).toEqual(early);
      expect(await store.get('s-x', second)).toEqual(late);
      expect(await store.listUser(first)).toEqual([early]);
      expect(await store.listUser(second)).toEqual([late]);

      expect(await store.revoke('s-x', { actor: 'admin', reason: 'x' })).toEqual(early);
      expect(await store.get('s-x')).toBeNull();
      expect(await store.get('s-x', second)).toBeNull();
      expect(await store.listUser(ALICE)).toEqual([]);
      expect(await store.listUser(BOB)).toEqual([]);
      for (const u of [ALICE, BOB]) expect(await t.redis.exists(store.tombstoneKey(u, 's-x'))).toBe(1);
      expect((await store.listAll()).sessions).toEqual([]);
      // Tombstoned in both partitions: a replayed login of either cannot bring it back.
      expect(await store.put([late])).toMatchObject({ stored: 0, skipped: 1 });
      expect(await store.put([early])).toMatchObject({ stored: 0, skipped: 1 });
      expect(await store.get('s-x')).toBeNull();
    });
  }

  it("revoke(id, meta, user) revokes only that user's copy", async () => {
    const a = ident({ sessionId: 's-y' });
    const b = ident({ sessionId: 's-y', user: BOB, time: T0 + 1 });
    await store.put([a]);
    await store.put([b]);
    expect(await store.revoke('s-y', { actor: 'admin', reason: 'x' }, BOB)).toEqual(b);
    expect(await store.get('s-y')).toEqual(a);
    expect(await store.get('s-y', BOB)).toBeNull();
    expect(await store.listUser(ALICE)).toEqual([a]);
  });

  it('DELETE /v1/sessions/{id} revokes both copies, and each user gets an audit entry and a session-revoked SET', async () => {
    const api = await buildApi(t, now);
    try {
      await store.put([ident({ sessionId: 's-z', expiresAt: T0 + 3_600_000 })]);
      await store.put([ident({ sessionId: 's-z', user: BOB, time: T0 + 60_000, expiresAt: T0 + 3_600_000 })]);
      const r = await api.app.inject({ method: 'DELETE', url: '/v1/sessions/s-z', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ session_id: 's-z', user: ALICE });
      expect(api.revoked.map((c) => c.user)).toEqual([ALICE, BOB]);
      const { entries } = await api.audit.list({ action: 'session.revoked' });
      expect(entries.map((e) => e.details.user).sort()).toEqual([ALICE, BOB]);
      expect(await store.get('s-z')).toBeNull();
      expect(await store.get('s-z', BOB)).toBeNull();
    } finally {
      await api.app.close();
    }
  });

  it("GET and DELETE /v1/sessions/{id}?user= address that user's copy only", async () => {
    const api = await buildApi(t, now);
    const call = (method: 'GET' | 'DELETE', url: string) => api.app.inject({ method, url, headers: { authorization: `Bearer ${ADMIN}` } });
    try {
      await store.put([ident({ sessionId: 's-u', expiresAt: T0 + 3_600_000, device: { id: 'alice-laptop' } })]);
      await store.put([ident({ sessionId: 's-u', user: BOB, time: T0 + 60_000, expiresAt: T0 + 3_600_000, device: { id: 'bob-laptop' } })]);
      expect((await call('GET', '/v1/sessions/s-u')).json()).toMatchObject({ user: ALICE });
      expect((await call('GET', `/v1/sessions/s-u?user=${encodeURIComponent(BOB)}`)).json()).toMatchObject({ user: BOB, device: { id: 'bob-laptop' } });
      const none = await call('GET', '/v1/sessions/s-u?user=carol%40example.com');
      expect([none.statusCode, none.json().error]).toEqual([404, 'not_found']);

      const r = await call('DELETE', `/v1/sessions/s-u?user=${encodeURIComponent(BOB)}&reason=stolen`);
      expect(r.statusCode).toBe(200);
      expect(r.json()).toMatchObject({ revoked: true, session_id: 's-u', user: BOB, users: [BOB], reason: 'stolen' });
      expect(api.revoked.map((c) => c.user)).toEqual([BOB]);
      expect(await store.get('s-u', BOB)).toBeNull();
      expect(await store.get('s-u', ALICE)).toMatchObject({ user: ALICE });
      const again = await call('DELETE', `/v1/sessions/s-u?user=${encodeURIComponent(BOB)}`);
      expect([again.statusCode, again.json().error]).toEqual([404, 'not_found']);
      expect(await store.get('s-u', ALICE)).toMatchObject({ user: ALICE });
    } finally {
      await api.app.close();
    }
  });

  it('copies with one login time each get their own change id (one session-revoked SET job per user, not one for all)', async () => {
    const api = await buildApi(t, now);
    try {
      await store.put([ident({ sessionId: 's-same', expiresAt: T0 + 3_600_000 })]);
      await store.put([ident({ sessionId: 's-same', user: BOB, expiresAt: T0 + 3_600_000 })]);
      const r = await api.app.inject({ method: 'DELETE', url: '/v1/sessions/s-same', headers: { authorization: `Bearer ${ADMIN}` } });
      expect(r.statusCode).toBe(200);
      expect(api.revoked.map((c) => c.user).sort()).toEqual([ALICE, BOB]);
      expect(new Set(api.revoked.map((c) => sessionRevokedJobId('rx', c.sessionId, c.id))).size).toBe(2);
    } finally {
      await api.app.close();
    }
  });

  it('GET /v1/sessions pages through copies of one id at one login time in several partitions: each once, at any page size', async () => {
    await store.put([ident({ sessionId: 's-dup', expiresAt: T0 + 3_600_000 })]);
    await store.put([ident({ sessionId: 's-dup', user: BOB, expiresAt: T0 + 3_600_000 })]);
    for (let i = 0; i < 3; i++) await store.put([ident({ sessionId: `s-o${i}`, user: `u${i}@example.com`, time: T0 - i - 1, expiresAt: T0 + 3_600_000 })]);
    for (const limit of [1, 2, 3, 10]) {
      const seen: string[] = [];
      let cursor: string | undefined;
      do {
        const page = await store.listAll({ cursor, limit });
        seen.push(...page.sessions.map((x) => `${x.user} ${x.session_id}`));
        cursor = page.next_cursor ?? undefined;
      } while (cursor);
      expect(seen.sort(), `limit ${limit}`).toEqual(
        [`${ALICE} s-dup`, `${BOB} s-dup`, 'u0@example.com s-o0', 'u1@example.com s-o1', 'u2@example.com s-o2'].sort(),
      );
    }
  });
});

/*
 * The partition's session indexes (by login, by expiry) after a commit whose logins the script did
 * not store — a revoked session's login replayed, a login refused because its session id is another
 * user's — are right when the commit script returns, with no clean-up round trip after it: a worker
 * that dies right after its commit (before any later write) leaves no index member of a session
 * that was not stored, and no owner's session moved to the refused login's times.
 */
describe('session indexes are final when the commit script returns (no clean-up round trip after it)', () => {
  const one = new Keys(t.prefix, 1);
  const store = new SessionStore(t.redis, one, { now });
  /** The commit script alone, as an owner that crashes right after it runs it: nothing of `finish`. */
  async function commitOnly(ids: SessionIdentity[]): Promise<unknown[]> {
    const prepared = store.prepare(ids);
    const res = await scriptsOn(t.redis).engineCommit(2, one.engineLease('p0'), one.partitionPos(0), '', packOps(prepared.ops), '', '');
    return (res as [number, unknown[], string[][]])[1];
  }

  async function indexed(id: string): Promise<[string | null, string | null]> {
    return [await t.redis.zscore(one.sessionsByLogin(0), id), await t.redis.zscore(one.sessionsByExpiry(0), id)];
  }

  it("a refused login leaves the owner's times in the partition's indexes and is in no index of its user", async () => {
    await store.put([ident({ sessionId: 's-shared', expiresAt: T0 + 3_600_000 })]);
    const puts = await commitOnly([ident({ sessionId: 's-shared', user: BOB, time: T0 + 60_000, expiresAt: T0 + 7_200_000 })]);
    expect(Array.isArray(puts[0])).toBe(true);
    expect(await indexed('s-shared')).toEqual([String(T0), String(T0 + 3_600_000)]);
    expect(await t.redis.zscore(one.userSessions(BOB), 's-shared')).toBeNull();
    expect((await store.listAll()).sessions.map((s) => [s.session_id, s.user])).toEqual([['s-shared', ALICE]]);
  });

  it('a revoked session whose login is replayed is in no index', async () => {
    const a = ident({ sessionId: 's-gone', expiresAt: T0 + 3_600_000 });
    await store.put([a]);
    expect(await store.revoke('s-gone', { actor: 'admin', reason: 'test' })).toEqual(a);
    const puts = await commitOnly([a, ident({ sessionId: 's-kept', expiresAt: T0 + 3_600_000 })]);
    expect(puts).toEqual([-1, 1]);
    expect(await indexed('s-gone')).toEqual([null, null]);
    expect(await t.redis.zscore(one.userSessions(ALICE), 's-gone')).toBeNull();
    expect(await indexed('s-kept')).toEqual([String(T0), String(T0 + 3_600_000)]);
    expect((await store.listAll()).sessions.map((s) => s.session_id)).toEqual(['s-kept']);
  });

  it('two users log in with one id in one commit: the first binding is indexed with its own times', async () => {
    const puts = await commitOnly([
      ident({ sessionId: 's-two', expiresAt: T0 + 600_000 }),
      ident({ sessionId: 's-two', user: BOB, time: T0 + 1000, expiresAt: T0 + 9_000_000 }),
    ]);
    expect(puts[0]).toBe(1);
    expect(Array.isArray(puts[1])).toBe(true);
    expect(await indexed('s-two')).toEqual([String(T0), String(T0 + 600_000)]);
  });
});
