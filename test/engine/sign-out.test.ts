/**
 * A sign-out ends its user's stored session (docs/sessions.md, src/sessions/sign-out.ts), through
 * the partition owner and its commit script (real Redis, a random prefix): the session leaves
 * `GET /v1/sessions/{id}` (the store's get), the user's list, the partition's listing and its
 * indexes together; no tombstone, no revocation (a later login with the id starts it again). Event
 * time decides, as for logins: a sign-out before the session's start ends nothing, and a login or
 * refresh arriving late, within the ended session, does not bring it back. Partition entries are
 * written here as a router would have (nothing attached: the owner reads what it holds none of).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { PartitionOwner } from '../../src/engine/owner.js';
import { SessionStore } from '../../src/sessions/store.js';
import type { PutResult } from '../../src/sessions/put-outcome.js';
import { Keys } from '../../src/keys.js';
import type { CanonicalEvent } from '../../src/types.js';
import { storedOf, type SessionIdentity } from '../../src/sessions/identity.js';
import { attachCapturedSessions } from '../../src/sessions/captured.js';
import { attachedOf } from '../../src/engine/routed.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { drainOwner, hijackOwnerParts, routedItem as item, writeRouted } from '../helpers/owner-steps.js';

let keys: Keys;
let prefix: string;
let store: SessionStore;
const USER = 'alice@example.com';
const NOW = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
const redis = redisClient();
const reader = redisClient();
/** The identities each commit was given to store. */
let prepared: SessionIdentity[] = [];
/** What each commit's session store did. */
let results: PutResult[] = [];
const lastResult = (r: PutResult): PutResult => (results.push(r), r);

beforeEach(async () => {
  prefix = testPrefix('engine-sign-out');
  keys = new Keys(prefix, 2);
  store = new SessionStore(redis, keys, { now: () => NOW });
  prepared = [];
  results = [];
});
afterEach(() => cleanup(redis, prefix));
afterAll(async () => {
  await redis.quit();
  await reader.quit();
});

const sessionLogin = (time: number, o: { id?: string; device?: string; user?: string; expires?: number; type?: string } = {}): CanonicalEvent => ({
  type: o.type ?? 'login',
  user: o.user ?? USER,
  time,
  outcome: 'success',
  session: { id: o.id ?? 's-1', expires_at: o.expires ?? time + 8 * 60 * MIN },
  device: { id: o.device ?? 'd-9' },
  network: { asn: 2856 },
  geo: { country: 'GB' },
});
const signOut = (time: number, o: { id?: string; user?: string; type?: string; outcome?: string } = {}): CanonicalEvent => ({
  type: o.type ?? 'logout',
  user: o.user ?? USER,
  time,
  outcome: o.outcome ?? 'success',
  session: { id: o.id ?? 's-1' },
});
/** A use of session s-1 from `device`, in another network and country than the logins'. */
const use = (time: number, device: string): CanonicalEvent => ({
  ...signOut(time),
  type: 'access',
  outcome: 'allowed',
  app: 'drive',
  device: { id: device },
  network: { asn: 1221 },
  geo: { country: 'AU' },
});

let epoch = 1;
/** An owner of both partitions under a new lease epoch (as after a restart: its commit ids are its own). */
const newOwner = async (enabled = true): Promise<PartitionOwner> => {
  epoch++;
  for (let p = 0; p < 2; p++) await redis.set(keys.engineLease(`p${p}`), `w#${epoch}`);
  const parts = hijackOwnerParts(
    NOW,
    (ids) => {
      prepared.push(...ids);
      const put = store.prepare(ids);
      return { ...put, finish: async (puts, dropped) => lastResult(await put.finish(puts, dropped)) };
    },
    enabled,
  );
  const o = new PartitionOwner(redis, reader, keys, { lruSize: 100, readCount: 100, commitInterval: 60_000, commitEntries: 1_000_000 }, parts);
  for (let p = 0; p < 2; p++) o.acquire(p, `w#${epoch}`);
  return o;
};

let seq = 1000;
/** Writes one entry of `events` (each its own item) to the first event's user's partition. */
async function entry(...events: CanonicalEvent[]): Promise<void> {
  seq += 1000;
  await writeRouted(
    redis,
    keys,
    events[0]!.user,
    events.map((e, i) => item(e, seq + i)),
  );
}

/** Runs a fresh owner (as after a restart) over what is written, or `o`. */
async function run(o?: PartitionOwner): Promise<string[]> {
  await drainOwner(o ?? (await newOwner()));
  return (await redis.xrange(keys.userEvents(USER), '-', '+')).map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!).behavior ?? f[f.indexOf('kind') + 1]);
}

/** Where session `id` of `user` is listed: by id, the user's list, the partition's listing and its three indexes. */
async function listed(id = 's-1', user = USER): Promise<Record<string, boolean>> {
  const p = keys.partitionOf(user);
  return {
    get: (await store.get(id)) !== null,
    user: (await store.listUser(user)).some((s) => s.session_id === id),
    all: (await store.listAll()).sessions.some((s) => s.session_id === id),
    byLogin: (await redis.zscore(keys.sessionsByLogin(p), id)) !== null,
    byExpiry: (await redis.zscore(keys.sessionsByExpiry(p), id)) !== null,
    userIndex: (await redis.zscore(keys.userSessions(user), id)) !== null,
  };
}
const LISTED = { get: true, user: true, all: true, byLogin: true, byExpiry: true, userIndex: true };
const GONE = { get: false, user: false, all: false, byLogin: false, byExpiry: false, userIndex: false };

/** The stored identity of `id` (listed or not), raw. */
async function storedRaw(id = 's-1', user = USER): Promise<SessionIdentity | null> {
  const raw = await redis.get(keys.session(keys.partitionOf(user), id));
  return raw ? (JSON.parse(raw) as SessionIdentity) : null;
}

/** A user of `USER`'s partition other than `USER`. */
function otherUser(): string {
  let bob = 'bob@example.com';
  for (let i = 0; keys.partitionOf(bob) !== keys.partitionOf(USER); i++) bob = `bob${i}@example.com`;
  return bob;
}

describe('a sign-out ends the stored session', () => {
  it('a logout leaves every listing and index together; no tombstone; the identity stays the baseline of earlier uses', async () => {
    const o = await newOwner();
    await entry(sessionLogin(NOW - 30 * MIN));
    await run(o);
    expect(await listed()).toEqual(LISTED);
    await entry(signOut(NOW - 10 * MIN));
    await run(o);
    expect(await listed()).toEqual(GONE);
    expect(await redis.exists(keys.sessionTombstone(keys.partitionOf(USER), 's-1'))).toBe(0);
    expect(await storedRaw()).toMatchObject({ login_at: NOW - 30 * MIN, expires_at: NOW - 10 * MIN, signed_out_at: NOW - 10 * MIN });
    // A use within the session, arriving after its sign-out, is still compared with its login.
    await entry(use(NOW - 20 * MIN, 'd-77'));
    expect(await run(o)).toContain('session_hijack');
  });

  it('Okta’s user.session.end ends it; a failed sign-out ends nothing', async () => {
    await entry(sessionLogin(NOW - 30 * MIN), sessionLogin(NOW - 30 * MIN, { id: 's-2' }));
    await entry(signOut(NOW - 10 * MIN, { outcome: 'failure' }), signOut(NOW - 9 * MIN, { id: 's-2', type: 'user.session.end' }));
    await run();
    expect(await listed('s-1')).toEqual(LISTED);
    expect(await listed('s-2')).toEqual(GONE);
  });

  it('login and logout in one commit: the session is listed nowhere', async () => {
    await entry(sessionLogin(NOW - 30 * MIN), signOut(NOW - 10 * MIN));
    await run();
    expect(await listed()).toEqual(GONE);
    expect(prepared.map((s) => s.signed_out_at)).toEqual([undefined, NOW - 10 * MIN]);
  });

  it('a later login with the id (in event time) starts it again, with its own baseline; a use after the sign-out is compared only with that one', async () => {
    const o = await newOwner();
    await entry(sessionLogin(NOW - 30 * MIN), signOut(NOW - 20 * MIN));
    await run(o);
    await entry(use(NOW - 15 * MIN, 'd-77')); // after the sign-out, before any new login: no baseline
    expect(await run(o)).not.toContain('session_hijack');
    await entry(sessionLogin(NOW - 10 * MIN, { device: 'd-new' }));
    await run(o);
    expect(await listed()).toEqual(LISTED);
    expect(await store.get('s-1')).toMatchObject({ login_at: NOW - 10 * MIN, device: { id: 'd-new' } });
    expect((await store.get('s-1'))!.signed_out_at).toBeUndefined();
  });

  it('a sign-out earlier in event time than the session’s login (an earlier session’s, arriving late) ends nothing', async () => {
    await entry(sessionLogin(NOW - 30 * MIN));
    await entry(signOut(NOW - 40 * MIN));
    await run();
    expect(await listed()).toEqual(LISTED);
  });

  it('a sign-out of the earlier session with the id, arriving after the login that started it again, ends nothing', async () => {
    await entry(sessionLogin(NOW - 120 * MIN, { expires: NOW - 100 * MIN }));
    await entry(sessionLogin(NOW - 30 * MIN)); // the first session ended: this one starts it again
    await entry(signOut(NOW - 110 * MIN));
    await run();
    expect(await listed()).toEqual(LISTED);
    expect(await store.get('s-1')).toMatchObject({ login_at: NOW - 30 * MIN });
  });

  it('a logout of a session id stored for another user (same partition) ends nothing; the owner’s own logout does', async () => {
    const bob = otherUser();
    await entry(sessionLogin(NOW - 30 * MIN));
    await entry(signOut(NOW - 20 * MIN, { user: bob }));
    await run();
    expect(await listed()).toEqual(LISTED);
    expect((await storedRaw())!.signed_out_at).toBeUndefined();
    await entry(signOut(NOW - 10 * MIN));
    await run();
    expect(await listed()).toEqual(GONE);
  });

  it('two users of different partitions with one id: a logout ends its own user’s copy only', async () => {
    let carol = 'carol@example.com';
    for (let i = 0; keys.partitionOf(carol) === keys.partitionOf(USER); i++) carol = `carol${i}@example.com`;
    await entry(sessionLogin(NOW - 30 * MIN));
    await entry(sessionLogin(NOW - 25 * MIN, { user: carol }));
    await entry(signOut(NOW - 10 * MIN, { user: carol }));
    await run();
    expect(await listed('s-1', carol)).toMatchObject({ user: false, byLogin: false, byExpiry: false, userIndex: false });
    expect(await listed()).toEqual(LISTED);
    expect(await store.get('s-1')).toMatchObject({ user: USER });
  });
});

describe('session audit off', () => {
  it('a sign-out stores nothing', async () => {
    const o = await newOwner(false);
    await entry(signOut(NOW - 10 * MIN));
    await run(o);
    expect(prepared).toEqual([]);
    expect(await storedRaw()).toBeNull();
  });
});

describe('event time, not arrival, decides', () => {
  it('a second login and a refresh earlier than the sign-out, arriving after it, extend the ended session but do not list it again', async () => {
    const o = await newOwner();
    await entry(sessionLogin(NOW - 30 * MIN));
    await entry(signOut(NOW - 10 * MIN));
    await run(o);
    await entry(sessionLogin(NOW - 20 * MIN, { expires: NOW + 20 * 60 * MIN }));
    await entry({ ...sessionLogin(NOW - 15 * MIN, { type: 'session_refresh', expires: NOW + 30 * 60 * MIN }) });
    await run(o);
    expect(await listed()).toEqual(GONE);
    expect(await storedRaw()).toMatchObject({
      login_at: NOW - 30 * MIN,
      expires_at: NOW - 10 * MIN,
      refreshed_at: NOW - 15 * MIN,
      signed_out_at: NOW - 10 * MIN,
    });
  });

  it('the same with a restarted owner (nothing in memory: it reads the store)', async () => {
    await entry(sessionLogin(NOW - 30 * MIN));
    await entry(signOut(NOW - 10 * MIN));
    await run();
    await entry(sessionLogin(NOW - 20 * MIN, { expires: NOW + 20 * 60 * MIN }));
    await run();
    expect(await listed()).toEqual(GONE);
  });

  it('a replay of the session’s login after its sign-out does not bring it back', async () => {
    const login = sessionLogin(NOW - 30 * MIN);
    await entry(login);
    await entry(signOut(NOW - 10 * MIN));
    await entry(login);
    await run();
    expect(await listed()).toEqual(GONE);
  });

  it('a refresh applied before a sign-out earlier in event time: the refresh started the session again, it stays listed', async () => {
    await entry(sessionLogin(NOW - 30 * MIN));
    await entry(sessionLogin(NOW - 5 * MIN, { type: 'session_refresh' }));
    await entry(signOut(NOW - 10 * MIN));
    await run();
    expect(await listed()).toEqual(LISTED);
  });

  it('the session’s login arriving after a refresh and the sign-out (the refresh stored as its start) takes the start back, still ended', async () => {
    await entry(sessionLogin(NOW - 20 * MIN, { type: 'session_refresh', device: 'd-evil' }));
    await entry(signOut(NOW - 10 * MIN));
    await entry(sessionLogin(NOW - 30 * MIN));
    await run();
    expect(await listed()).toEqual(GONE);
    expect(await storedRaw()).toMatchObject({ login_at: NOW - 30 * MIN, device: { id: 'd-9' }, expires_at: NOW - 10 * MIN, signed_out_at: NOW - 10 * MIN });
  });

  it('two sign-outs: the earlier one in event time is the end, whatever the order', async () => {
    await entry(sessionLogin(NOW - 30 * MIN));
    await entry(signOut(NOW - 10 * MIN));
    await entry(signOut(NOW - 20 * MIN));
    await run();
    expect(await storedRaw()).toMatchObject({ expires_at: NOW - 20 * MIN, signed_out_at: NOW - 20 * MIN });
  });

  it('a refresh routed with the sign-out, the router holding the session as stored before it, starts the session again', async () => {
    await entry(sessionLogin(NOW - 30 * MIN));
    await run();
    // One routing step: the router reads the stored (not yet ended) session for both events.
    const events = [signOut(NOW - 10 * MIN), sessionLogin(NOW - 5 * MIN, { type: 'session_refresh', device: 'd-new' })];
    await attachCapturedSessions(
      store,
      events.map((event, i) => ({ ref: { stream: 'in', id: `${i}-0` }, event, deliveries: 1 })),
    );
    expect(storedOf(events[1]!)).toMatchObject({ login_at: NOW - 30 * MIN });
    seq += 1000;
    await writeRouted(
      redis,
      keys,
      USER,
      events.map((e, i) => ({ ...item(e, seq + i), x: attachedOf(e)! })),
    );
    await run();
    expect(await listed()).toEqual(LISTED);
    expect(await store.get('s-1')).toMatchObject({ login_at: NOW - 5 * MIN, from_refresh: true, device: { id: 'd-new' } });
  });

  it('a login arriving after its sign-out, earlier in event time (the owner held no login of the session), is ended by it', async () => {
    await entry(signOut(NOW - 10 * MIN));
    await run();
    expect(await listed()).toEqual(GONE);
    expect(await storedRaw()).toMatchObject({ login_at: NOW - 10 * MIN, expires_at: NOW - 10 * MIN, sign_out_only: true });
    await entry(sessionLogin(NOW - 30 * MIN));
    await run(); // a restarted owner: it reads the sign-out from the store
    expect(await listed()).toEqual(GONE);
    expect(await storedRaw()).toMatchObject({ login_at: NOW - 30 * MIN, expires_at: NOW - 10 * MIN, signed_out_at: NOW - 10 * MIN, device: { id: 'd-9' } });
    expect((await storedRaw())!.sign_out_only).toBeUndefined();
  });

  it('the same in one commit, with a refresh: the refresh ended by the sign-out before it; a login after the sign-out starts a session', async () => {
    const o = await newOwner();
    await entry(signOut(NOW - 10 * MIN), sessionLogin(NOW - 30 * MIN, { type: 'session_refresh' }), signOut(NOW - 9 * MIN, { id: 's-2' }));
    await run(o);
    expect(await listed()).toEqual(GONE);
    expect(await storedRaw()).toMatchObject({ login_at: NOW - 30 * MIN, expires_at: NOW - 10 * MIN, from_refresh: true });
    await entry(sessionLogin(NOW - 5 * MIN, { id: 's-2' }));
    await run(o);
    expect(await listed('s-2')).toEqual(LISTED);
  });

  it('a sign-out kept with no login binds no id: another user’s login with the id is stored, not ended', async () => {
    await entry(signOut(NOW - 10 * MIN, { user: otherUser() }));
    await entry(sessionLogin(NOW - 30 * MIN));
    await run();
    expect(await listed()).toEqual(LISTED);
    expect((await storedRaw())!.signed_out_at).toBeUndefined();
  });
});

describe('a sign-out kept with no login that the store no longer holds (its 12 hours over, or replaced)', () => {
  it('is gone from the owner too: a login arriving later is stored as if no sign-out had come, by a running owner as by a restarted one', async () => {
    for (const restarted of [false, true]) {
      const id = restarted ? 's-restarted' : 's-running';
      const o = await newOwner();
      await entry(signOut(NOW - 10 * MIN, { id }));
      await run(o);
      expect(await storedRaw(id)).toMatchObject({ sign_out_only: true });
      // Its wall-clock time to live (SIGN_OUT_ONLY_KEPT_MS) over: the store lets it go.
      await redis.del(keys.session(keys.partitionOf(USER), id));
      await entry(sessionLogin(NOW - 30 * MIN, { id }));
      await run(restarted ? undefined : o);
      expect(await listed(id)).toEqual(LISTED);
      expect(await storedRaw(id)).toMatchObject({ login_at: NOW - 30 * MIN, expires_at: NOW - 30 * MIN + 8 * 60 * MIN });
      expect((await storedRaw(id))!.signed_out_at).toBeUndefined();
    }
  });

  it('another user’s login replacing it (it binds no id) leaves the user’s late login refused as without it, by a running owner', async () => {
    const bob = otherUser();
    const o = await newOwner();
    await entry(signOut(NOW - 10 * MIN, { id: 'shared' }));
    await run(o);
    await entry(sessionLogin(NOW - 40 * MIN, { id: 'shared', user: bob }));
    await run(o);
    expect(await storedRaw('shared')).toMatchObject({ user: bob });
    results = [];
    await entry(sessionLogin(NOW - 30 * MIN, { id: 'shared' }));
    await run(o);
    expect(results.flatMap((r) => r.refused ?? [])).toEqual([{ session_id: 'shared', user: USER, owner: bob }]);
    expect(await listed('shared', bob)).toEqual(LISTED);
  });
});

describe('max_per_user with a sign-out', () => {
  it('a login and its sign-out in one commit push the user’s other session out as in two commits (the login counted until the sign-out)', async () => {
    store = new SessionStore(redis, keys, { now: () => NOW, maxPerUser: 1 });
    const stored: Record<string, unknown> = {};
    for (const oneCommit of [false, true]) {
      const [a, b] = oneCommit ? ['one-a', 'one-b'] : ['two-a', 'two-b'];
      const o = await newOwner();
      await entry(sessionLogin(NOW - 30 * MIN, { id: a }));
      await run(o);
      if (oneCommit) await entry(sessionLogin(NOW - 20 * MIN, { id: b }), signOut(NOW - 10 * MIN, { id: b }));
      else {
        await entry(sessionLogin(NOW - 20 * MIN, { id: b }));
        await run(o);
        await entry(signOut(NOW - 10 * MIN, { id: b }));
      }
      await run(o);
      // `a` was trimmed by `b`'s login (the user's limit: 1); `b` then ended.
      stored[String(oneCommit)] = { a: await listed(a), b: await listed(b), aStored: (await storedRaw(a)) !== null };
    }
    expect(stored.true).toEqual(stored.false);
    expect(stored.false).toEqual({ a: GONE, b: GONE, aStored: false });
  });

  it('a session ended in its login’s commit, itself the soonest to expire, is trimmed; the other stays listed', async () => {
    store = new SessionStore(redis, keys, { now: () => NOW, maxPerUser: 1 });
    await entry(sessionLogin(NOW - 30 * MIN, { id: 'long' }));
    await run();
    await entry(sessionLogin(NOW - 20 * MIN, { id: 'short', expires: NOW + 10 * MIN }), signOut(NOW - 10 * MIN, { id: 'short' }));
    await run();
    expect(await listed('long')).toEqual(LISTED);
    expect(await listed('short')).toEqual(GONE);
  });

  it('an ended session does not count: a login after a sign-out of the user’s only session keeps both stored', async () => {
    store = new SessionStore(redis, keys, { now: () => NOW, maxPerUser: 1 });
    await entry(sessionLogin(NOW - 30 * MIN, { id: 'first' }), signOut(NOW - 20 * MIN, { id: 'first' }), sessionLogin(NOW - 10 * MIN, { id: 'second' }));
    await run();
    expect(await listed('first')).toEqual(GONE);
    expect(await storedRaw('first')).toMatchObject({ signed_out_at: NOW - 20 * MIN });
    expect(await listed('second')).toEqual(LISTED);
  });
});
