/**
 * session_hijack's baseline at the partition owner (real Redis, a random prefix): after a crash the
 * new router remembers none of the logins its predecessor routed, so a use routed after the
 * restart carries no baseline when its login was routed but not committed. The owner re-applies
 * that login first and attaches the baseline itself: the use is compared as in a run without the
 * crash. Partition entries are written here as a router would have.
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identityBuilder } from '../../pipelines/session-audit.js';
import { startMonitor } from '../helpers/monitor.js';
import { attachPendingBaselines, sessionFinder, type PendingSessions } from '../../src/engine/pending-sessions.js';
import { PartitionOwner, type OwnerParts } from '../../src/engine/owner.js';
import { notStored } from '../../src/engine/commit-send.js';
import { attachedOf, type RoutedItem } from '../../src/engine/routed.js';
import { SessionStore } from '../../src/sessions/store.js';
import { attachCaptured, capturedOf, revokedUse, type CapturedSession } from '../../src/detect/captured-session.js';
import { attachCapturedSessions, RecentLogins } from '../../src/sessions/captured.js';
import { Keys } from '../../src/keys.js';
import { sessionPairKey } from '../../src/sessions/pair-key.js';
import type { CanonicalEvent } from '../../src/types.js';
import { attachStored, type SessionIdentity } from '../../src/sessions/identity.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { settings } from '../sessions/helpers.js';
import { drainOwner, hijackOwnerParts, routedItem as item, writeRouted } from '../helpers/owner-steps.js';

const redis = redisClient();
const reader = redisClient();
const NOW = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
const USER = 'alice@example.com';
let keys: Keys;
let prefix: string;

beforeEach(async () => {
  prefix = testPrefix('engine-baselines');
  keys = new Keys(prefix, 2);
});
afterEach(() => cleanup(redis, prefix));
afterAll(async () => {
  await redis.quit();
  await reader.quit();
});

const sessionLogin = (time: number, device: string, id = 's-1'): CanonicalEvent => ({
  type: 'login',
  user: USER,
  time,
  outcome: 'success',
  session: { id, expires_at: time + 8 * 60 * MIN },
  device: { id: device },
  network: { asn: 2856 },
  geo: { country: 'GB' },
});
const use = (time: number, device: string, id = 's-1'): CanonicalEvent => ({
  type: 'access',
  user: USER,
  time,
  outcome: 'allowed',
  app: 'drive',
  session: { id },
  device: { id: device },
  network: { asn: 1221 },
  geo: { country: 'AU' },
});

/** The identities each commit was given to store. */
let prepared: SessionIdentity[] = [];

const sessionRefresh = (time: number): CanonicalEvent => ({
  type: 'session_refresh',
  user: USER,
  time,
  outcome: 'success',
  session: { id: 's-1', expires_at: NOW + 60 * MIN },
});

function parts(enabled: boolean, store?: SessionStore): OwnerParts {
  return hijackOwnerParts(
    NOW,
    (ids) => {
      prepared.push(...ids);
      return store ? store.prepare(ids) : { ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) };
    },
    enabled,
  );
}

const writeEntry = (items: RoutedItem[]): Promise<void> => writeRouted(redis, keys, USER, items);

let epochs = 0;
/**
 * An owner of both partitions under a lease of its own (a new epoch, as after a crash or a hand-over:
 * its commit ids never repeat an earlier owner's, which the commit script would take for a resend).
 */
const newOwner = async (enabled: boolean, store?: SessionStore): Promise<PartitionOwner> => {
  const token = `w#${++epochs}`;
  for (let p = 0; p < 2; p++) await redis.set(keys.engineLease(`p${p}`), token);
  const o = new PartitionOwner(redis, reader, keys, { lruSize: 100, readCount: 100, commitInterval: 60_000, commitEntries: 1_000_000 }, parts(enabled, store));
  for (let p = 0; p < 2; p++) o.acquire(p, token);
  return o;
};

const drain = drainOwner;

async function run(enabled: boolean, o?: PartitionOwner): Promise<string[]> {
  await drain(o ?? (await newOwner(enabled)));
  return (await redis.xrange(keys.userEvents(USER), '-', '+')).map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!).behavior ?? f[f.indexOf('kind') + 1]);
}

describe('the owner attaches a session’s baseline the router did not know', () => {
  it('a use in a later entry than its login, with no baseline attached (a restarted router), is compared', async () => {
    await writeEntry([item(sessionLogin(NOW - 30 * MIN, 'd-9'), 1000)]);
    await writeEntry([item(use(NOW - 20 * MIN, 'd-77'), 2000)]);
    expect(await run(true)).toContain('session_hijack');
  });

  it('the same with login and use in one entry; a use from the login’s own device is not flagged', async () => {
    await writeEntry([item(sessionLogin(NOW - 30 * MIN, 'd-9'), 1000), item(use(NOW - 25 * MIN, 'd-77'), 1001)]);
    await writeEntry([
      item(sessionLogin(NOW - 30 * MIN, 'd-9', 's-2'), 2000),
      item({ ...use(NOW - 20 * MIN, 'd-9', 's-2'), network: { asn: 2856 }, geo: { country: 'GB' } }, 2001),
    ]);
    const kinds = await run(true);
    expect(kinds.filter((k) => k === 'session_hijack')).toHaveLength(1);
  });

  it('with session audit off nothing is compared', async () => {
    await writeEntry([item(sessionLogin(NOW - 30 * MIN, 'd-9'), 1000)]);
    await writeEntry([item(use(NOW - 20 * MIN, 'd-77'), 2000)]);
    expect(await run(false)).not.toContain('session_hijack');
  });
});

describe('the owner extends a session committed lately', () => {
  it('a refresh and a second login routed before the login’s commit landed, applied after it, extend the committed identity', async () => {
    prepared = [];
    const o = await newOwner(true);
    await writeEntry([item(sessionLogin(NOW - 30 * MIN, 'd-9'), 1000)]);
    await drain(o);
    expect(prepared.map((x) => x.login_at)).toEqual([NOW - 30 * MIN]);
    const refresh = sessionRefresh(NOW - 25 * MIN);
    await writeEntry([item(refresh, 2000), item(sessionLogin(NOW - 20 * MIN, 'd-evil'), 2001)]);
    expect(await run(true, o)).toContain('session_hijack'); // the second login, from another device
    expect(prepared.slice(1).map((x) => [x.login_at, x.device?.id, x.refreshed_at, x.expires_at])).toEqual([
      [NOW - 30 * MIN, 'd-9', NOW - 25 * MIN, NOW - 30 * MIN + 8 * 60 * MIN],
      [NOW - 30 * MIN, 'd-9', NOW - 20 * MIN, NOW - 20 * MIN + 8 * 60 * MIN],
    ]);
  });
});

describe('the owner keeps only what the store took', () => {
  it('a login refused by the store (its session id bound to another user) is no baseline afterwards, as after a restart', async () => {
    const store = new SessionStore(redis, keys, { now: () => NOW });
    let bob = 'bob@example.com';
    for (let i = 0; keys.partitionOf(bob) !== keys.partitionOf(USER); i++) bob = `bob${i}@example.com`;
    const [bobs] = identityBuilder(settings())([
      { ref: { stream: 's', id: '1-0' }, event: { ...sessionLogin(NOW - 40 * MIN, 'd-1'), user: bob }, deliveries: 1 },
    ]);
    expect(await store.put([bobs!])).toMatchObject({ stored: 1 });
    const o = await newOwner(true, store);
    await writeEntry([item(sessionLogin(NOW - 30 * MIN, 'd-9'), 1000)]);
    await drain(o); // alice's login of s-1: refused, s-1 is bob's
    expect(JSON.parse((await redis.get(keys.session(keys.partitionOf(USER), 's-1')))!).user).toBe(bob);
    await writeEntry([item(use(NOW - 20 * MIN, 'd-77'), 2000)]);
    expect(await run(true, o)).not.toContain('session_hijack'); // the owner's memory held the refused login: flagged
    await writeEntry([item(use(NOW - 10 * MIN, 'd-78'), 3000)]);
    expect(await run(true)).not.toContain('session_hijack'); // a restarted owner: the same
  });
});

describe('the owner keeps only what the store kept', () => {
  it('a session trimmed by max_per_user is no baseline afterwards, as after a restart', async () => {
    const store = new SessionStore(redis, keys, { now: () => NOW, maxPerUser: 1 });
    const o = await newOwner(true, store);
    await writeEntry([item(sessionLogin(NOW - 30 * MIN, 'd-9', 's-1'), 1000)]);
    await drain(o);
    await writeEntry([item({ ...sessionLogin(NOW - 25 * MIN, 'd-5', 's-2'), session: { id: 's-2', expires_at: NOW + 10 * 60 * MIN } }, 2000)]);
    await drain(o); // s-1 expires first: trimmed out of the store
    expect(await redis.exists(keys.session(keys.partitionOf(USER), 's-1'))).toBe(0);
    await writeEntry([item(use(NOW - 20 * MIN, 'd-77', 's-1'), 3000)]);
    expect(await run(true, o)).not.toContain('session_hijack');
  });

  it('the replies of a commit resent after it ran (no SPUT replies) forget nothing; refused and trimmed ones are named', () => {
    const [a, b] = identityBuilder(settings())([
      { ref: { stream: 's', id: '1-0' }, event: sessionLogin(NOW - 30 * MIN, 'd-9', 's-a'), deliveries: 1 },
      { ref: { stream: 's', id: '2-0' }, event: sessionLogin(NOW - 20 * MIN, 'd-9', 's-b'), deliveries: 1 },
    ]);
    const put = { ops: [], live: [a!, b!], users: [USER], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) };
    expect(notStored(put, [], [])).toEqual({ unstored: [], trimmed: [] });
    expect(notStored(put, [1, -1], [['s-old']])).toEqual({ unstored: [b], trimmed: [[USER, 's-old']] });
    expect(notStored(undefined, [], [])).toEqual({ unstored: [], trimmed: [] });
  });
});

describe('a revoked session is no baseline', () => {
  it('the router finds the tombstone: the use is marked, no baseline attached, not even the recent login it routed', async () => {
    const store = new SessionStore(redis, keys, { now: () => NOW });
    const [identity] = identityBuilder(settings())([{ ref: { stream: 's', id: '1-0' }, event: sessionLogin(NOW - 30 * MIN, 'd-9'), deliveries: 1 }]);
    expect(await store.put([identity!])).toMatchObject({ stored: 1 });
    const recent = new RecentLogins();
    recent.remember(new Map([[sessionPairKey(USER, 's-1'), identity!]]));
    const before = use(NOW - 25 * MIN, 'd-77');
    await attachCapturedSessions(store, [{ ref: { stream: 's', id: '2-0' }, event: before, deliveries: 1 }], recent);
    expect(capturedOf(before)).toMatchObject({ device: 'd-9' });
    expect(revokedUse(before)).toBe(false);
    await store.revoke('s-1', { actor: 'test', reason: 'stolen' }, USER);
    const after = use(NOW - 20 * MIN, 'd-77');
    await attachCapturedSessions(store, [{ ref: { stream: 's', id: '3-0' }, event: after, deliveries: 1 }], recent);
    expect(capturedOf(after)).toBeUndefined();
    expect(revokedUse(after)).toBe(true);
    expect(attachedOf(after)).toEqual({ r: true }); // carried to the owner in the routed entry
  });

  it('the owner attaches no baseline from its memory to a use routed as revoked', async () => {
    const o = await newOwner(true);
    await writeEntry([item(sessionLogin(NOW - 30 * MIN, 'd-9'), 1000)]);
    await drain(o); // the login's identity in the owner's memory
    const revokedUse_ = use(NOW - 20 * MIN, 'd-77');
    await writeEntry([{ ...item(revokedUse_, 2000), x: { r: true } }]);
    expect(await run(true, o)).not.toContain('session_hijack');
    await writeEntry([item(use(NOW - 10 * MIN, 'd-78'), 3000)]);
    expect(await run(true, o)).toContain('session_hijack'); // unmarked: compared with what the owner holds
  });
});

describe('the owner reads a committed session the router looked for too early', () => {
  it('a refresh carrying a baseline but no stored identity, the owner holding none (its login committed before a crash), extends the stored one', async () => {
    prepared = [];
    const l = sessionLogin(NOW - 30 * MIN, 'd-9');
    const [identity] = identityBuilder(settings())([{ ref: { stream: 's', id: '1-0' }, event: l, deliveries: 1 }]);
    expect(await new SessionStore(redis, keys, { now: () => NOW }).put([identity!])).toMatchObject({ stored: 1 });
    const refresh = sessionRefresh(NOW - 25 * MIN);
    attachCaptured(refresh, { session_id: 's-1', user: USER, login_at: NOW - 30 * MIN, device: 'd-9', asn: 2856, country: 'GB' });
    await writeEntry([{ ...item(refresh, 2000), x: attachedOf(refresh)! }]);
    await run(true);
    expect(prepared.map((x) => [x.login_at, x.device?.id, x.refreshed_at])).toEqual([[NOW - 30 * MIN, 'd-9', NOW - 25 * MIN]]);
  });

  it('a second login carrying a stored identity older than the store’s (a refresh committed after the router looked, then a crash), the owner holding none, extends the store’s', async () => {
    prepared = [];
    const store = new SessionStore(redis, keys, { now: () => NOW });
    const build = identityBuilder(settings());
    const l = sessionLogin(NOW - 30 * MIN, 'd-9');
    const [login] = build([{ ref: { stream: 's', id: '1-0' }, event: l, deliveries: 1 }]);
    // The refresh moved the session's end to 20 h; its commit landed after the router read the store.
    const refreshed: SessionIdentity = { ...login!, expires_at: NOW + 20 * 60 * MIN, refreshed_at: NOW - 25 * MIN };
    expect(await store.put([refreshed])).toMatchObject({ stored: 1 });
    const again = sessionLogin(NOW - 20 * MIN, 'd-y9');
    attachStored(again, login);
    attachCaptured(again, { session_id: 's-1', user: USER, login_at: NOW - 30 * MIN, device: 'd-9', asn: 2856, country: 'GB' });
    await writeEntry([{ ...item(again, 2000), x: attachedOf(again)! }]);
    await run(true);
    expect(prepared.map((x) => [x.login_at, x.device?.id, x.refreshed_at, x.expires_at])).toEqual([
      [NOW - 30 * MIN, 'd-9', NOW - 20 * MIN, NOW + 20 * 60 * MIN],
    ]);
  });
});

describe('attachPendingBaselines', () => {
  const T = NOW - 60 * MIN;
  it('from an earlier login among the events; never to the login that captured it; the owner’s record replaces the router’s baseline', () => {
    const l = sessionLogin(T, 'd-9');
    const u = use(T + MIN, 'd-77');
    attachPendingBaselines([l, u], sessionFinder({ sessions: [] }, undefined));
    expect(capturedOf(l)).toBeUndefined();
    expect(capturedOf(u)).toMatchObject({ session_id: 's-1', login_at: T, device: 'd-9', asn: 2856, country: 'GB' });
    const routed: CapturedSession = { session_id: 's-1', user: USER, login_at: T - MIN, device: 'd-1' };
    const u2 = use(T + 2 * MIN, 'd-77');
    attachCaptured(u2, routed);
    // The owner applies every entry of the partition in order: a login the router knew of it holds too.
    attachPendingBaselines([sessionLogin(T, 'd-9'), u2], sessionFinder({ sessions: [] }, undefined));
    expect(capturedOf(u2)).toMatchObject({ login_at: T, device: 'd-9' });
  });

  it('not from an earlier login among the events whose session expired before the use (as at the router; found by a review)', () => {
    const l = { ...sessionLogin(T, 'd-9'), session: { id: 's-1', expires_at: T + 30 * MIN } };
    const late = use(T + 40 * MIN, 'd-77');
    const inTime = use(T + 20 * MIN, 'd-77');
    attachPendingBaselines([l, inTime, late], sessionFinder({ sessions: [] }, undefined));
    expect(capturedOf(inTime)).toMatchObject({ login_at: T, device: 'd-9' });
    expect(capturedOf(late)).toBeUndefined();
    // A later login of the session that extends it: the use is within the session again.
    const again = { ...sessionLogin(T + 10 * MIN, 'd-9'), session: { id: 's-1', expires_at: T + 60 * MIN } };
    const later = use(T + 40 * MIN, 'd-77');
    attachPendingBaselines([{ ...l }, again, later], sessionFinder({ sessions: [] }, undefined));
    expect(capturedOf(later)).toMatchObject({ login_at: T });
  });

  it('an earlier login the owner holds wins over the router’s later baseline (a refresh a restarted router took)', () => {
    const [pending] = identityBuilder(settings())([{ ref: { stream: 's', id: '1-0' }, event: sessionLogin(T, 'd-9'), deliveries: 1 }]);
    const u = use(T + 2 * MIN, 'd-77');
    attachCaptured(u, { session_id: 's-1', user: USER, login_at: T + MIN, device: 'd-77' });
    attachPendingBaselines([u], sessionFinder({ sessions: [pending!], latest: new Map([[sessionPairKey(USER, 's-1'), pending!]]) }, undefined));
    expect(capturedOf(u)).toMatchObject({ login_at: T, device: 'd-9' });
  });

  it('another user’s baseline the router attached (one session id, two users) does not hide the user’s own', () => {
    const [pending] = identityBuilder(settings())([{ ref: { stream: 's', id: '1-0' }, event: sessionLogin(T, 'd-9'), deliveries: 1 }]);
    const u = use(T + 2 * MIN, 'd-77');
    attachCaptured(u, { session_id: 's-1', user: 'bob@example.com', login_at: T - MIN, device: 'd-1' });
    attachPendingBaselines([u], sessionFinder({ sessions: [pending!], latest: new Map([[sessionPairKey(USER, 's-1'), pending!]]) }, undefined));
    expect(capturedOf(u)).toMatchObject({ user: USER, login_at: T, device: 'd-9' });
  });

  it('from the identity pending in this delta or in the commit in flight; a later login of the session gets it too', () => {
    const [pending] = identityBuilder(settings())([{ ref: { stream: 's', id: '1-0' }, event: sessionLogin(T, 'd-9'), deliveries: 1 }]);
    const latest = new Map([[sessionPairKey(USER, 's-1'), pending!]]);
    for (const [into, inflight] of [
      [{ sessions: [pending!], latest }, undefined],
      [{ sessions: [] }, { sessions: [pending!], latest }],
    ] as Array<[PendingSessions, PendingSessions | undefined]>) {
      const again = sessionLogin(T + MIN, 'd-evil');
      const u = use(T + 2 * MIN, 'd-77');
      attachPendingBaselines([again, u], sessionFinder(into, inflight));
      expect(capturedOf(again)).toMatchObject({ login_at: T, device: 'd-9' });
      expect(capturedOf(u)).toMatchObject({ login_at: T, device: 'd-9' });
    }
  });
});

/** The behaviors hit (and change kinds) in the user's risk events, in order. */
const userKinds = async (): Promise<string[]> =>
  (await redis.xrange(keys.userEvents(USER), '-', '+')).map(([, f]) => JSON.parse(f[f.indexOf('data') + 1]!).behavior ?? f[f.indexOf('kind') + 1]);
/** A session refresh extending to 20 h from NOW. */
const refresh = (time: number): CanonicalEvent => ({ ...sessionRefresh(time), session: { id: 's-1', expires_at: NOW + 20 * 60 * MIN } });

/**
 * A router that restarted (its recent logins forgotten) routes a session refresh, use or second
 * login while the session's login is routed but not committed: the store has nothing yet, so the
 * router attaches nothing (or, for a use beside a refresh, the refresh as its baseline). The
 * login's owner commits the login, then the partition moves (crash, hand-over) before the
 * follow-up is applied. The new owner, which holds nothing of the session, reads it from the store:
 * the follow-up extends it and is compared with its login as in the fault-free run.
 */
/**
 * login routed by the old router; `later` routed by a restarted router before the login's commit;
 * the login committed by owner 1; then `crash`: owner 2 applies `later`, else owner 1 does.
 */
async function scenario(later: CanonicalEvent | CanonicalEvent[], crash: boolean): Promise<void> {
  prepared = [];
  const store = new SessionStore(redis, keys, { now: () => NOW });
  const evs = Array.isArray(later) ? later : [later];
  await writeEntry([item(sessionLogin(NOW - 30 * MIN, 'd-9'), 1000)]);
  // The restarted router: no RecentLogins, the store empty (login not committed yet).
  await attachCapturedSessions(
    store,
    evs.map((event, i) => ({ ref: { stream: 'in', id: `${2000 + i}-0` }, event, deliveries: 1 })),
    new RecentLogins(),
  );
  for (const e of evs) expect(attachedOf(e)?.s).toBeUndefined(); // no stored identity (a refresh gets its own batch 'login' as baseline)
  const o1 = await newOwner(true, store);
  await drain(o1); // the login applied and committed
  expect(await redis.exists(keys.session(keys.partitionOf(USER), 's-1'))).toBe(1);
  await writeEntry(evs.map((e, i) => ({ ...item(e, 2000 + i), ...(attachedOf(e) ? { x: attachedOf(e)! } : {}) }))); // the router's XADD lands now
  await drain(crash ? await newOwner(true, store) : o1); // a new epoch after the crash / hand-over
}

describe('restarted router, login committed after its lookup, then the partition moves', () => {
  for (const crash of [false, true]) {
    it(`a refresh extends the login's session (${crash ? 'new owner' : 'fault-free'})`, async () => {
      await scenario(refresh(NOW - 25 * MIN), crash);
      expect(prepared.slice(1).map((x) => [x.login_at, x.device?.id, x.refreshed_at, x.expires_at])).toEqual([
        [NOW - 30 * MIN, 'd-9', NOW - 25 * MIN, NOW + 20 * 60 * MIN],
      ]);
      expect(JSON.parse((await redis.get(keys.session(keys.partitionOf(USER), 's-1')))!).login_at).toBe(NOW - 30 * MIN);
    });
    it(`a use from another device is compared (${crash ? 'new owner' : 'fault-free'})`, async () => {
      await scenario(use(NOW - 25 * MIN, 'd-77'), crash);
      expect(await userKinds()).toContain('session_hijack');
    });
    it(`a second login from another device extends the session and is compared (${crash ? 'new owner' : 'fault-free'})`, async () => {
      await scenario(sessionLogin(NOW - 27 * MIN, 'd-y9'), crash);
      expect(prepared.slice(1).map((x) => [x.login_at, x.device?.id, x.refreshed_at])).toEqual([[NOW - 30 * MIN, 'd-9', NOW - 27 * MIN]]);
      expect(await userKinds()).toContain('session_hijack');
    });
    it(`a use routed with a refresh (the router's baseline: the refresh) is compared with the login (${crash ? 'new owner' : 'fault-free'})`, async () => {
      await scenario([refresh(NOW - 26 * MIN), use(NOW - 25 * MIN, 'd-77')], crash);
      expect(await userKinds()).toContain('session_hijack');
    });
  }
});

describe('the owner reads a session from the store at most once while it owns the partition', () => {
  it('a stored session and one the store has not: one read each over several steps', async () => {
    const store = new SessionStore(redis, keys, { now: () => NOW });
    const [identity] = identityBuilder(settings())([{ ref: { stream: 's', id: '1-0' }, event: sessionLogin(NOW - 30 * MIN, 'd-9'), deliveries: 1 }]);
    expect(await store.put([identity!])).toMatchObject({ stored: 1 });
    const reads: string[] = [];
    const p = keys.partitionOf(USER);
    const sentinel = `${prefix}:sentinel`;
    let sentinelSeen = false;
    // A raw MONITOR (test/helpers/monitor.ts): ioredis's monitor() misreads other clients' traffic at its start.
    const monitor = await startMonitor((args, source) => {
      if (source === 'lua' || !/^m?get$/i.test(args[0] ?? '')) return;
      if (args[1] === sentinel) sentinelSeen = true;
      reads.push(...args.slice(1).filter((k) => k === keys.session(p, 's-1') || k === keys.session(p, 's-2')));
    });
    try {
      const o = await newOwner(true, store);
      let ms = 2000;
      for (let i = 0; i < 3; i++) {
        await writeEntry([item(use(NOW - (20 - i) * MIN, 'd-77'), ms++), item(use(NOW - (20 - i) * MIN, 'd-77', 's-2'), ms++)]);
        await drain(o);
      }
      // MONITOR's lines arrive after the commands: wait for one sent last.
      await redis.get(sentinel);
      await waitFor(() => sentinelSeen, { what: 'the monitor to catch up' });
      expect(reads.sort()).toEqual([keys.session(p, 's-1'), keys.session(p, 's-2')]);
      // Each use of s-1 from another device was compared with its stored login.
      expect((await userKinds()).filter((k) => k === 'session_hijack').length).toBeGreaterThanOrEqual(1);
    } finally {
      await monitor.stop();
    }
  });
});
