/**
 * A late login (earlier in event time than the session's stored login) that SPUT does not store
 * must not move the session's places in the indexes: the user's list is trimmed over
 * `max_per_user` by the stored sessions' own expiries (found by a black-box review).
 */
import { describe, expect, it } from 'vitest';
import { buildIdentity } from '../../src/sessions/build-identity.js';
import type { SessionIdentity } from '../../src/sessions/identity.js';
import { SessionStore } from '../../src/sessions/store.js';
import { cleanRedisEach, login, settings, testRedis } from './helpers.js';

const t = testRedis();
const T0 = Date.UTC(2026, 10, 23, 8, 0, 0);
const HOUR = 3_600_000;
cleanRedisEach(t);

const PA = t.keys.partitionOf('alice@example.com');
const ident = (over: Parameters<typeof login>[0]): SessionIdentity => buildIdentity(login({ time: T0, ...over }), settings())!;

describe('a late login not stored leaves the indexes as the stored session has them', () => {
  const store = new SessionStore(t.redis, t.keys, { now: () => T0 + 10_000, maxPerUser: 2 });

  it('its later expiry is in no index; the soonest-expiring stored session is the one trimmed', async () => {
    const newer = ident({ sessionId: 'b', time: T0 + 5000, expiresAt: T0 + HOUR });
    await store.put([newer]);
    // The session's earlier login, arriving late, with a later expiry: refused (the newer one stays).
    expect(await store.put([ident({ sessionId: 'b', time: T0, expiresAt: T0 + 10 * HOUR })])).toMatchObject({ stored: 0, skipped: 1 });
    expect(await store.get('b')).toEqual(newer);
    expect(Number(await t.redis.zscore(t.keys.userSessions('alice@example.com'), 'b'))).toBe(T0 + HOUR);
    expect(Number(await t.redis.zscore(t.keys.sessionsByExpiry(PA), 'b'))).toBe(T0 + HOUR);
    // Two more sessions, both ending after b: b, ending soonest, is the one that goes.
    await store.put([ident({ sessionId: 'c', time: T0 + 6000, expiresAt: T0 + 5 * HOUR })]);
    const r = await store.put([ident({ sessionId: 'd', time: T0 + 7000, expiresAt: T0 + 6 * HOUR })]);
    expect(r.dropped).toEqual(['b']);
    expect((await store.listUser('alice@example.com')).map((s) => s.session_id)).toEqual(['d', 'c']);
  });

  it('both logins in one commit, the later first: the later one is indexed with its own expiry', async () => {
    const newer = ident({ sessionId: 'e', time: T0 + 5000, expiresAt: T0 + HOUR });
    const late = ident({ sessionId: 'e', time: T0, expiresAt: T0 + 10 * HOUR });
    expect(await store.put([newer, late])).toMatchObject({ stored: 1, skipped: 1 });
    expect(await store.get('e')).toEqual(newer);
    expect(Number(await t.redis.zscore(t.keys.userSessions('alice@example.com'), 'e'))).toBe(T0 + HOUR);
    expect(Number(await t.redis.zscore(t.keys.sessionsByExpiry(PA), 'e'))).toBe(T0 + HOUR);
  });
});
