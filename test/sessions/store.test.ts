import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import { SessionStore } from '../../src/sessions/store.js';
import { isRiskstreamError } from '../../src/errors.js';
import { zcardAll } from '../helpers/redis.js';
import { packOps } from '../../src/redis/pack-ops.js';
import { scriptsOn } from '../../src/redis/scripts.js';
import { fakeJwt, login, settings, testRedis } from './helpers.js';

const t = testRedis();
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
let clock = T0;
const now = (): number => clock;

afterAll(async () => {
  await t.cleanup();
  await t.redis.quit();
});
beforeEach(async () => {
  await t.cleanup();
  clock = T0;
});

/** alice's partition (her sessions and the partition's indexes live there). */
const PA = t.keys.partitionOf('alice@example.com');

function ident(over: Parameters<typeof login>[0] = {}): SessionIdentity {
  return buildIdentity(login({ time: T0, ...over }), settings())!;
}

describe('SessionStore', () => {
  const store = new SessionStore(t.redis, t.keys, { now, maxPerUser: 3 });

  it('stores a batch; get / listUser / listAll see it; TTL is the remaining lifetime', async () => {
    const a = ident({ sessionId: 'a', expiresAt: T0 + 60_000 });
    const b = ident({ sessionId: 'b', user: 'bob@example.com', time: T0 + 1000, expiresAt: T0 + 120_000 });
    expect(await store.put([a, b])).toEqual({ stored: 2, skipped: 0, dropped: [] });
    expect(await store.get('a')).toEqual(a);
    expect(await store.listUser('bob@example.com')).toEqual([b]);
    expect((await store.listAll()).sessions.map((s) => s.session_id)).toEqual(['b', 'a']);
    const pttl = await t.redis.pttl(t.keys.session(PA, 'a'));
    expect(pttl).toBeGreaterThan(59_000);
    expect(pttl).toBeLessThanOrEqual(60_000);
  });

  it("a user's list orders logins of one instant as the all-sessions listing does (session id by UTF-8 bytes, descending)", async () => {
    // UTF-16 units and UTF-8 bytes disagree past the BMP: U+1F600 is 0xD83D… (below U+FF61) but F0… (above EF…).
    const ids = ['\u{1F600}', '\uFF61', 'b'];
    await store.put(ids.map((sessionId) => ident({ sessionId, expiresAt: T0 + 60_000 })));
    const all = (await store.listAll()).sessions.map((s) => s.session_id);
    expect(all).toEqual(ids);
    expect((await store.listUser('alice@example.com')).map((s) => s.session_id)).toEqual(all);
  });

  it('skips already-expired sessions and hides sessions once expired (clock), pruning indexes', async () => {
    const live = ident({ sessionId: 'live', expiresAt: T0 + 10_000 });
    const dead = ident({ sessionId: 'dead', expiresAt: T0 - 1 });
    expect(await store.put([live, dead])).toMatchObject({ stored: 1, skipped: 1 });
    expect(await t.redis.exists(t.keys.session(PA, 'dead'))).toBe(0);
    clock = T0 + 10_000;
    expect(await store.get('live')).toBeNull();
    expect(await store.listUser('alice@example.com')).toEqual([]);
    expect(await store.listAll()).toEqual({ sessions: [], next_cursor: null });
    expect(await zcardAll(t.redis, t.keys, (p) => t.keys.sessionsByLogin(p))).toBe(0);
    expect(await zcardAll(t.redis, t.keys, (p) => t.keys.sessionsByExpiry(p))).toBe(0);
    expect(await t.redis.zcard(t.keys.userSessions('alice@example.com'))).toBe(0);
  });

  it('pages newest first with an opaque cursor, ties included, nothing repeated or lost', async () => {
    const ids: SessionIdentity[] = [];
    for (let i = 0; i < 23; i++) {
      // Several users (cap 3 each) and equal login times to exercise ties.
      ids.push(ident({ sessionId: `p${String(i).padStart(2, '0')}`, user: `u${i % 8}@example.com`, time: T0 + Math.floor(i / 3) * 1000 }));
    }
    await store.put(ids);
    const seen: string[] = [];
    let cursor: string | undefined;
    let pages = 0;
    do {
      const page = await store.listAll({ cursor, limit: 5 });
      expect(page.sessions.length).toBeLessThanOrEqual(5);
      seen.push(...page.sessions.map((s) => s.session_id));
      cursor = page.next_cursor ?? undefined;
      pages++;
    } while (cursor);
    expect(pages).toBe(5);
    const expected = [...ids].sort((x, y) => y.login_at - x.login_at || (y.session_id < x.session_id ? -1 : 1)).map((s) => s.session_id);
    expect(seen).toEqual(expected);
  });

  it("a user's listing orders logins of one instant as the listing of all sessions does (session id descending)", async () => {
    // Expiries in another order than the ids (the user's index is read by expiry); three: the store's cap.
    const ss = ['m', 'a', 'z'].map((sid, i) => ident({ sessionId: sid, expiresAt: T0 + 60_000 - i * 1000 }));
    await store.put(ss);
    const all = (await store.listAll()).sessions.map((s) => s.session_id);
    expect(all).toEqual(['z', 'm', 'a']);
    expect((await store.listUser('alice@example.com')).map((s) => s.session_id)).toEqual(all);
  });

  it('rejects a bad cursor or limit with BAD_REQUEST', async () => {
    await expect(store.listAll({ cursor: 'nope' })).rejects.toSatisfy((e) => isRiskstreamError(e, 'BAD_REQUEST'));
    await expect(store.listAll({ limit: 0 })).rejects.toSatisfy((e) => isRiskstreamError(e, 'BAD_REQUEST'));
  });

  it('caps sessions per user (soonest-expiring dropped everywhere)', async () => {
    const s = [1, 2, 3, 4, 5].map((i) => ident({ sessionId: `c${i}`, time: T0 + i, expiresAt: T0 + 60_000 + i }));
    await store.put(s.slice(0, 3));
    const r = await store.put(s.slice(3));
    expect(r.dropped.sort()).toEqual(['c1', 'c2']);
    expect((await store.listUser('alice@example.com')).map((x) => x.session_id)).toEqual(['c5', 'c4', 'c3']);
    expect(await store.get('c1')).toBeNull();
    expect(await t.redis.zscore(t.keys.sessionsByLogin(PA), 'c1')).toBeNull();
    expect(await t.redis.zscore(t.keys.sessionsByLogin(PA), 'c5')).not.toBeNull();
  });

  it('a session dropped over the cap is gone once the commit lands: a worker that dies before its next round trip leaves none listed (found by a black-box review)', async () => {
    const s = [1, 2, 3, 4].map((i) => ident({ sessionId: `k${i}`, time: T0 + i, expiresAt: T0 + 60_000 + i }));
    await store.put(s.slice(0, 3));
    // The partition's commit alone, as the owner sends it; `finish` (the follow-up) never runs: the worker died.
    const prepared = store.prepare([s[3]!]);
    const res = await scriptsOn(t.redis).engineCommit(2, t.keys.engineLease(`p${PA}`), t.keys.partitionPos(PA), '', packOps(prepared.ops), '', '');
    expect(res).not.toBe(-1);
    expect((await store.listUser('alice@example.com')).map((x) => x.session_id)).toEqual(['k4', 'k3', 'k2']);
    expect(await store.get('k1')).toBeNull();
    expect((await store.listAll()).sessions.map((x) => x.session_id)).toEqual(['k4', 'k3', 'k2']);
    expect(await t.redis.zscore(t.keys.sessionsByExpiry(PA), 'k1')).toBeNull();
  });

  it('a replayed login of a revoked session takes no slot: none of the user’s own sessions is trimmed for it', async () => {
    const small = new SessionStore(t.redis, t.keys, { now, maxPerUser: 2 });
    const gone = ident({ sessionId: 'r-gone', expiresAt: T0 + 3_600_000 });
    await small.put([gone]);
    await small.revoke('r-gone', { actor: 'admin', reason: 'test' });
    await small.put([ident({ sessionId: 'r-1', expiresAt: T0 + 60_000 }), ident({ sessionId: 'r-2', expiresAt: T0 + 120_000 })]);
    expect((await small.put([gone])).dropped).toEqual([]);
    expect((await small.listUser('alice@example.com')).map((x) => x.session_id)).toEqual(['r-2', 'r-1']);
    expect(await small.get('r-1')).not.toBeNull();
  });

  it('keeps the latest identity per device, also when logins arrive out of order', async () => {
    const newer = ident({ sessionId: 'n', time: T0 + 5000, ip: '10.0.0.2' });
    newer.device = { id: 'd-9', posture: { os: 'macOS 15.2' } };
    const older = ident({ sessionId: 'o', time: T0, ip: '10.0.0.1' });
    const other = ident({ sessionId: 'x', time: T0 + 1 });
    other.device = { id: 'd-10', posture: { os: 'Windows 11' } };
    await store.put([newer]);
    await store.put([older, other]);
    expect(await store.devices('alice@example.com')).toEqual([
      { id: 'd-9', posture: { os: 'macOS 15.2' }, last_seen: T0 + 5000, ip: '10.0.0.2', session_id: 'n' },
      { id: 'd-10', posture: { os: 'Windows 11' }, last_seen: T0 + 1, ip: '81.2.69.142', session_id: 'x' },
    ]);
  });

  it('a later login from a device that reports no posture keeps the posture reported before', async () => {
    // Its text moved as it is: no JSON decode and encode in between (empty arrays, long numbers,
    // escapes, braces in strings, a session id reading "posture").
    const posture = { os: 'macOS 15.2 "x" {y}', firewall: true, patches: [], build: 1234567890123456, name: 'caf\u00e9 \ud800', nested: { a: [{ b: '}' }] } };
    const first = ident({ sessionId: 'p1', time: T0 });
    first.device = { id: 'd-9', posture };
    const bare = ident({ sessionId: 'posture', time: T0 + 5000, ip: '10.0.0.2' });
    bare.device = { id: 'd-9' };
    await store.put([first]);
    await store.put([bare]);
    expect(await store.devices('alice@example.com')).toEqual([{ id: 'd-9', posture, last_seen: T0 + 5000, ip: '10.0.0.2', session_id: 'posture' }]);
    const raw = await t.redis.hget(t.keys.userDevices('alice@example.com'), 'd-9');
    expect(raw).toBe(JSON.stringify({ id: 'd-9', posture, last_seen: T0 + 5000, ip: '10.0.0.2', session_id: 'posture' }));
    // A posture reported anew replaces it.
    const fresh = ident({ sessionId: 'p3', time: T0 + 9000 });
    fresh.device = { id: 'd-9', posture: { os: 'macOS 15.3' } };
    await store.put([fresh]);
    expect((await store.devices('alice@example.com'))[0]!.posture).toEqual({ os: 'macOS 15.3' });
  });

  it('two logins of a new device in one commit, the later without a posture: the posture is kept', async () => {
    const first = ident({ sessionId: 'q1', time: T0 });
    first.device = { id: 'd-new', posture: { os: 'win11', firewall: true } };
    const second = ident({ sessionId: 'q2', time: T0 + 5000, ip: '10.0.0.2' });
    second.device = { id: 'd-new' };
    await store.put([first, second]);
    expect(await store.devices('alice@example.com')).toEqual([
      { id: 'd-new', posture: { os: 'win11', firewall: true }, last_seen: T0 + 5000, ip: '10.0.0.2', session_id: 'q2' },
    ]);
  });

  it('per-user keys expire: the session zset with its last session, the device registry after its retention', async () => {
    await store.put([ident({ sessionId: 'e1', expiresAt: T0 + 30_000 }), ident({ sessionId: 'e2', expiresAt: T0 + 90_000 })]);
    const zttl = await t.redis.pttl(t.keys.userSessions('alice@example.com'));
    expect(zttl).toBeGreaterThan(89_000);
    expect(zttl).toBeLessThanOrEqual(90_000);
    expect(await t.redis.pttl(t.keys.userDevices('alice@example.com'))).toBeGreaterThan(89 * 86_400_000);
  });

  it('accepts fractional times (stored as integer ms)', async () => {
    const s = ident({ sessionId: 'frac', time: T0 + 0.6, expiresAt: T0 + 1000.4 });
    expect([s.login_at, s.expires_at]).toEqual([T0 + 1, T0 + 1000]);
    const raw = { ...s, session_id: 'frac-raw', expires_at: T0 + 1000.4 };
    expect(await store.put([s, raw])).toMatchObject({ stored: 2 });
  });

  it('an older login of the same session never overwrites a newer one', async () => {
    const newer = ident({ sessionId: 'same', time: T0 + 5000 });
    newer.claims = { v: 2 };
    const older = ident({ sessionId: 'same', time: T0 });
    older.claims = { v: 1 };
    await store.put([newer]);
    expect(await store.put([older])).toMatchObject({ stored: 0, skipped: 1 });
    expect((await store.get('same'))?.claims).toEqual({ v: 2 });
  });

  it('a login after the stored session ended (its expires_at, event time) starts the id’s session again, refresh or login (finding 2 of a determinism review)', async () => {
    const first = ident({ sessionId: 'again', time: T0, expiresAt: T0 + 10_000, device: { id: 'd-1' } });
    await store.put([first]);
    const refresh = { ...ident({ sessionId: 'again', time: T0 + 20_000, expiresAt: T0 + 60_000, device: { id: 'd-2' } }), from_refresh: true as const };
    expect(await store.put([refresh])).toMatchObject({ stored: 1 });
    expect(await store.get('again')).toEqual(refresh);
    // Within the session: an older login is still refused.
    expect(await store.put([ident({ sessionId: 'again', time: T0 + 15_000 })])).toMatchObject({ stored: 1 }); // replaces a refresh's start
    expect(await store.put([ident({ sessionId: 'again', time: T0 + 12_000 })])).toMatchObject({ stored: 0, skipped: 1 });
  });

  it('a refresh’s start is not taken over by its session’s login when that login’s session ended before the refresh (found by a black-box review)', async () => {
    const refresh = { ...ident({ sessionId: 'late', time: T0 + 20_000, expiresAt: T0 + 80_000, device: { id: 'd-2' } }), from_refresh: true as const };
    await store.put([refresh]);
    // The session's login, arriving late, ended (T0 + 10 s) before the refresh: in event-time order the refresh started the session again.
    expect(await store.put([ident({ sessionId: 'late', time: T0, expiresAt: T0 + 10_000, device: { id: 'd-1' } })])).toMatchObject({ stored: 0, skipped: 1 });
    expect(await store.get('late')).toEqual(refresh);
    // One whose session reaches the refresh is the session's start.
    expect(await store.put([ident({ sessionId: 'late', time: T0 + 1000, expiresAt: T0 + 80_000, device: { id: 'd-1' } })])).toMatchObject({ stored: 1 });
  });

  it('an identity already expired on the wall clock is kept for session_hijack (lookupMany, for its lifetime), never listed (finding 3)', async () => {
    const backfill = ident({ sessionId: 'backfill', time: T0 - 3 * 86_400_000, expiresAt: T0 - 3 * 86_400_000 + 3_600_000 });
    expect(await store.put([backfill])).toMatchObject({ stored: 0, skipped: 1 });
    expect(await store.lookupMany([{ sid: 'backfill', user: 'alice@example.com' }])).toEqual([{ s: backfill, revoked: false }]);
    const pttl = await t.redis.pttl(t.keys.session(PA, 'backfill'));
    expect(pttl).toBeGreaterThan(3_500_000);
    expect(pttl).toBeLessThanOrEqual(3_600_000);
    expect(await store.get('backfill')).toBeNull();
    expect(await store.listUser('alice@example.com')).toEqual([]);
    expect(await zcardAll(t.redis, t.keys, (p) => t.keys.sessionsByLogin(p))).toBe(0);
    expect(await t.redis.exists(t.keys.userDevices('alice@example.com'))).toBe(0);
  });

  it('two revokes of one session by the same actor, reason and instant: exactly one gets the session', async () => {
    // Both read the session before either script runs; the second one's GETDEL finds nothing and
    // must not take the first one's tombstone (the same JSON, field for field) for a resend of its own.
    await store.put([ident({ sessionId: 'r2' })]);
    const meta = { actor: 'token:abc', reason: 'incident', time: T0 + 5 };
    const got = await Promise.all([store.revoke('r2', meta), store.revoke('r2', meta)]);
    expect(got.filter((s) => s !== null)).toHaveLength(1);
  });

  it('revoke deletes the session and its index members; a replayed login cannot bring it back', async () => {
    const s = ident({ sessionId: 'r1' });
    await store.put([s]);
    expect(await t.redis.zscore(t.keys.sessionsByLogin(PA), 'r1')).not.toBeNull();
    expect(await store.revoke('r1', { actor: 'test', reason: 'why' })).toEqual(s);
    expect(await store.revoke('r1', { actor: 'test', reason: 'again' })).toBeNull();
    expect(await store.get('r1')).toBeNull();
    expect(await t.redis.zscore(t.keys.sessionsByLogin(PA), 'r1')).toBeNull();
    expect(await t.redis.zscore(t.keys.userSessions(s.user), 'r1')).toBeNull();
    expect(await store.put([s])).toMatchObject({ stored: 0, skipped: 1 });
    expect(await store.get('r1')).toBeNull();
    expect(await t.redis.zscore(t.keys.sessionsByLogin(PA), 'r1')).toBeNull();
    expect(await t.redis.zscore(t.keys.userSessions(s.user), 'r1')).toBeNull();
    expect((await store.listAll()).sessions).toEqual([]);
  });

  it('revokeUser revokes only that user’s sessions', async () => {
    await store.put([ident({ sessionId: 'u1' }), ident({ sessionId: 'u2' }), ident({ sessionId: 'v1', user: 'bob@example.com' })]);
    const r = await store.revokeUser('alice@example.com', { actor: 'test', reason: 'offboarding' });
    expect(r.map((x) => x.session_id).sort()).toEqual(['u1', 'u2']);
    expect((await store.listAll()).sessions.map((x) => x.session_id)).toEqual(['v1']);
  });

  it('looks up a token-valued session id by the token (stored under its fingerprint)', async () => {
    const jwt = fakeJwt();
    const s = ident({ sessionId: jwt });
    await store.put([s]);
    expect((await store.get(jwt))?.session_id).toBe(s.session_id);
    expect(await t.redis.exists(t.keys.session(PA, jwt))).toBe(0);
    expect(await t.redis.exists(t.keys.session(PA, s.session_id))).toBe(1);
  });
});
