/**
 * A `revoke_sessions` response and a session login delivered late (real Redis, a random prefix,
 * real partition owners, outbox relay, session store and response policy): the login is earlier in
 * event time than the trigger's arrival, but applied after the trigger's revocation ran. The owner
 * keeps the trigger's arrival in the user's committed state, so an owner restarted after a crash
 * (applied, not committed) decides the same: one late-login entry in the login's commit, and the
 * relay revokes that session. A login after the trigger's arrival stays. Partition entries are
 * written as a router would (an item's arrival: its order key's time).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { identityBuilder } from '../../pipelines/session-audit.js';
import { AuditLog } from '../../src/audit/audit-log.js';
import type { ResponseRule } from '../../src/config/responses.js';
import { PartitionOwner, type OwnerParts } from '../../src/engine/owner.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import { Keys } from '../../src/keys.js';
import { OutboxRelay } from '../../src/risk/outbox-relay.js';
import { responsePolicy } from '../../src/sessions/response-policy.js';
import type { SessionRevocation } from '../../src/sessions/revoke.js';
import { createSessionService } from '../../src/sessions/service.js';
import { SessionStore } from '../../src/sessions/store.js';
import type { CanonicalEvent } from '../../src/types.js';
import { behavior } from '../helpers/behavior-config.js';
import { readState } from '../helpers/engine.js';
import { drainOwner, QUIET_OWNER, routedItem as item, writeRouted } from '../helpers/owner-steps.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { settings } from '../sessions/helpers.js';

const redis = redisClient();
const reader = redisClient();
const NOW = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
const HOUR = 60 * MIN;
const USER = 'alice@example.com';
const TRIGGER = NOW - HOUR;
/** When the trigger (the EDR's detection) arrived: its feed lags five minutes. The revocation runs then. */
const ARRIVED = TRIGGER + 5 * MIN;
const RULES: ResponseRule[] = [{ when: { level: 'high' }, revoke_sessions: true }];
let keys: Keys;
let prefix: string;

beforeEach(async () => {
  prefix = testPrefix('engine-late-login');
  keys = new Keys(prefix, 2);
  await setLeases('w#1');
});
afterEach(() => cleanup(redis, prefix));
afterAll(async () => {
  await redis.quit();
  await reader.quit();
});

async function setLeases(token: string): Promise<void> {
  for (let p = 0; p < 2; p++) await redis.set(keys.engineLease(`p${p}`), token);
}

const sessionLogin = (time: number, id: string): CanonicalEvent => ({
  type: 'login',
  user: USER,
  time,
  outcome: 'success',
  session: { id, expires_at: NOW + 8 * HOUR },
  device: { id: 'd-9' },
});
const edr: CanonicalEvent = {
  type: 'endpoint',
  id: 'x-1',
  user: USER,
  time: TRIGGER,
  device: { id: 'd-9' },
  vendor: 'crowdstrike',
  detection: 'malware',
  severity: 'critical',
};

function parts(store: SessionStore): OwnerParts {
  const build = identityBuilder(settings());
  return {
    context: () => ({
      behaviors: [behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '24h', min_severity: 'high' })],
      limits: { maxLogins: 10, maxAge: 7 * 24 * HOUR, allowedLateness: 10 * MIN },
      now: NOW,
      revoke: RULES,
    }),
    settings: () => ({ eventsMaxlen: 1000, now: NOW }),
    sessions: { build, prepare: (ids) => store.prepare(ids), after: async () => undefined, enabled: () => true },
    ...QUIET_OWNER,
  };
}

const writeEntry = (items: RoutedItem[]): Promise<void> => writeRouted(redis, keys, USER, items);

/** An owner of both partitions under lease `token` (another token: a new epoch, after a crash), reading `readCount` entries a step. */
function newOwner(store: SessionStore, token: string, readCount = 100): PartitionOwner {
  const o = new PartitionOwner(redis, reader, keys, { lruSize: 100, readCount, commitInterval: 60_000, commitEntries: 1_000_000 }, parts(store));
  for (let p = 0; p < 2; p++) o.acquire(p, token);
  return o;
}

/** The session store, audit log, relay (with the response policy) and the revocations told, over the test's keys. */
function harness(): { store: SessionStore; audit: AuditLog; relay: OutboxRelay; revoked: () => string[] } {
  const store = new SessionStore(redis, keys, { now: () => NOW });
  const audit = new AuditLog(redis, `${prefix}:audit`);
  const sent: SessionRevocation[] = [];
  const service = createSessionService({ store, audit, onRevoked: (r) => void sent.push(r), now: () => NOW });
  const respond = responsePolicy({
    redis,
    keys,
    rules: () => RULES,
    sessions: service,
  });
  const relay = new OutboxRelay(redis, keys, `${prefix}:risk-events`, (changes, hits, late) => respond(changes, hits, late));
  return { store, audit, relay, revoked: () => sent.map((r) => `${r.sessionId} ${r.actor}`) };
}

describe('a session login applied after its revocation trigger, though earlier in event time', () => {
  it('is revoked on its own (actor policy, its SET), also when its owner crashed before committing it; a later login stays', async () => {
    const { store, audit, relay, revoked } = harness();

    // The session, then the EDR detection raising the user to HIGH: committed, relayed, the session revoked.
    await writeEntry([item(sessionLogin(NOW - 3 * HOUR, 's-1'), ARRIVED - 1), item(edr, ARRIVED)]);
    await drainOwner(newOwner(store, 'w#1'));
    expect((await readState(redis, keys, USER))?.revokedUpTo).toBe(ARRIVED);
    await relay.relay([USER]);
    expect(revoked()).toEqual(['s-1 policy']);

    // The IdP's logs arrive: a login before the trigger, one after it. The owner applies them and dies before its commit.
    await writeEntry([item(sessionLogin(TRIGGER - HOUR, 's-late'), NOW - 20 * MIN)]);
    await writeEntry([item(sessionLogin(TRIGGER + 30 * MIN, 's-after'), NOW - 10 * MIN)]);
    await setLeases('w#2');
    const crashing = newOwner(store, 'w#2', 1); // a step that reads anything is not caught up: no commit
    const step = await crashing.step(5);
    expect(step.applied).toBeGreaterThan(0);
    expect(step.committed).toBe(0);

    // Its successor, a new epoch with nothing in memory, applies them from the committed state.
    await setLeases('w#3');
    await drainOwner(newOwner(store, 'w#3'));
    const outbox = (await redis.xrange(keys.userOutbox(USER), '-', '+')).map(([, f]) => [f[1], JSON.parse(f[3]!)]);
    expect(outbox).toEqual([['revoke', { session: 's-late', login_at: TRIGGER - HOUR, trigger: ARRIVED, expires_at: NOW + 8 * HOUR }]]);
    await relay.relay([USER]);
    expect(revoked()).toEqual(['s-1 policy', 's-late policy']);
    expect((await store.listUser(USER)).map((s) => s.session_id)).toEqual(['s-after']);
    const entries = (await audit.list()).entries.filter((e) => e.action === 'session.revoked');
    expect(entries.map((e) => [e.target, e.actor])).toEqual([
      ['s-late', 'policy'],
      ['s-1', 'policy'],
    ]);
  });

  it('revokes a session opened after the compromise but before the detection arrived (the EDR feed lagging too); one opened after it arrived stays', async () => {
    const { store, relay, revoked } = harness();
    const detected = NOW - 5 * HOUR; // the EDR's event time; its feed delivers it two hours later
    const arrived = detected + 2 * HOUR;
    await writeEntry([item({ ...edr, id: 'x-lagging', time: detected }, arrived)]);
    await drainOwner(newOwner(store, 'w#1'));
    await relay.relay([USER]);
    expect(revoked()).toEqual([]); // no session known yet

    // The IdP's shipper lags more: the attacker's login an hour after the compromise, then the user's own after the revocation.
    await writeEntry([item(sessionLogin(detected + HOUR, 's-attacker'), arrived + HOUR)]);
    await writeEntry([item(sessionLogin(arrived + 10 * MIN, 's-user'), arrived + HOUR + 1)]);
    await setLeases('w#2');
    await drainOwner(newOwner(store, 'w#2'));
    await relay.relay([USER]);

    // Delivered before the detection (in input order), the attacker's session would have been revoked with the user's others.
    expect(revoked()).toEqual(['s-attacker policy']);
    expect((await store.listUser(USER)).map((s) => s.session_id)).toEqual(['s-user']);
    expect(await redis.xlen(keys.userOutbox(USER))).toBe(0);
  });

  it("leaves alone another user's session with the same id: the late login was refused (the id is bound to that user)", async () => {
    const { store, relay, revoked } = harness();
    // A user of alice's partition who logged in first with the session id alice's late login carries.
    let other = '';
    for (let i = 0; !other; i++) if (keys.partitionOf(`u${i}@example.com`) === keys.partitionOf(USER)) other = `u${i}@example.com`;
    const theirs = { session_id: 's-shared', user: other, claims: {}, login_at: TRIGGER - 2 * HOUR, expires_at: NOW + 8 * HOUR };
    expect((await store.put([theirs])).stored).toBe(1);

    await writeEntry([item(sessionLogin(NOW - 3 * HOUR, 's-1'), 1000), item(edr, 1001)]);
    await drainOwner(newOwner(store, 'w#1'));
    await relay.relay([USER]);
    await writeEntry([item(sessionLogin(TRIGGER - HOUR, 's-shared'), 2000)]);
    await setLeases('w#2');
    await drainOwner(newOwner(store, 'w#2'));
    expect(await redis.xlen(keys.userOutbox(USER))).toBe(1); // the late login's entry
    await relay.relay([USER]);

    expect(revoked()).toEqual(['s-1 policy']);
    expect((await store.listUser(other)).map((s) => s.session_id)).toEqual(['s-shared']);
    expect(await redis.xlen(keys.userOutbox(USER))).toBe(0); // handled: nothing left to retry
  });

  it("leaves alone a later session with the id when the late login's own session ended before it started", async () => {
    const { store, relay, revoked } = harness();
    await writeEntry([item(sessionLogin(NOW - 3 * HOUR, 's-1'), ARRIVED - 1), item(edr, ARRIVED)]);
    await drainOwner(newOwner(store, 'w#1'));
    await relay.relay([USER]);
    // After the trigger, the IdP starts a session with an id it used before for the user (a session long over).
    await writeEntry([item(sessionLogin(TRIGGER + 30 * MIN, 's-again'), NOW - 20 * MIN)]);
    // That earlier session's login arrives late: before the trigger, and over (its expires_at) before the later one began.
    const over = { ...sessionLogin(TRIGGER - 3 * HOUR, 's-again'), session: { id: 's-again', expires_at: ARRIVED + 10 * MIN } };
    await writeEntry([item(over, NOW - 10 * MIN)]);
    await setLeases('w#2');
    await drainOwner(newOwner(store, 'w#2'));
    expect(await redis.xlen(keys.userOutbox(USER))).toBe(1); // the late login's entry
    await relay.relay([USER]);

    // The later session of the id began after the late login's own ended (and after the trigger arrived).
    expect(revoked()).toEqual(['s-1 policy']);
    expect((await store.listUser(USER)).map((s) => [s.session_id, s.login_at])).toEqual([['s-again', TRIGGER + 30 * MIN]]);
    expect(await redis.xlen(keys.userOutbox(USER))).toBe(0);
  });

  it('a backfilled login whose session was over before the trigger arrived leaves nothing to revoke: no outbox entry, no marker', async () => {
    const { store, relay, revoked } = harness();
    await writeEntry([item(sessionLogin(NOW - 3 * HOUR, 's-1'), ARRIVED - 1), item(edr, ARRIVED)]);
    await drainOwner(newOwner(store, 'w#1'));
    await relay.relay([USER]);
    // Last month's IdP logs replayed (a new log source's history): sessions long over.
    const old = (i: number) => ({
      ...sessionLogin(NOW - (30 - i) * 24 * HOUR, `s-old-${i}`),
      session: { id: `s-old-${i}`, expires_at: NOW - (30 - i) * 24 * HOUR + 8 * HOUR },
    });
    await writeEntry([0, 1, 2].map((i) => item(old(i), NOW - 10 * MIN + i)));
    await setLeases('w#2');
    await drainOwner(newOwner(store, 'w#2'));
    expect(await redis.xlen(keys.userOutbox(USER))).toBe(0);
    await relay.relay([USER]);
    expect(revoked()).toEqual(['s-1 policy']);
    // Only the trigger's own marker: none per replayed login (each kept 7 days).
    expect((await redis.keys(`${prefix}*:policy:*`)).map((k) => k.slice(k.indexOf(':policy:') + 8, k.indexOf(':policy:') + 14))).toEqual(['level:']);
  });

  it('after an admin reset: a login before the first trigger is still revoked late; a new trigger revokes again, and the mark moves to its arrival', async () => {
    const { store, relay, revoked } = harness();
    await writeEntry([item(sessionLogin(NOW - 3 * HOUR, 's-1'), ARRIVED - 1), item(edr, ARRIVED)]);
    await drainOwner(newOwner(store, 'w#1'));
    await relay.relay([USER]);
    const reset: RoutedItem = {
      k: [ARRIVED + 10 * MIN, 0],
      s: 'ctl',
      i: `${ARRIVED + 10 * MIN}-0`,
      c: { op: 'reset', req: 'r-1', user: USER, actor: 'admin', reason: 'reimaged' },
    };
    await writeEntry([reset]);
    await writeEntry([item(sessionLogin(ARRIVED + 15 * MIN, 's-2'), ARRIVED + 15 * MIN + 1)]);
    await setLeases('w#2');
    await drainOwner(newOwner(store, 'w#2'));
    await relay.relay([USER]);
    expect(revoked()).toEqual(['s-1 policy']); // the reset revokes nothing; s-2, after it, stays
    expect(await readState(redis, keys, USER)).toMatchObject({ level: 'low', revokedUpTo: ARRIVED });

    // A new detection (its event at +20 min, arriving at +30 min), then late IdP logs.
    const again = ARRIVED + 30 * MIN;
    await writeEntry([item({ ...edr, id: 'x-2', time: ARRIVED + 20 * MIN }, again)]);
    await setLeases('w#3');
    await drainOwner(newOwner(store, 'w#3'));
    await relay.relay([USER]);
    expect(revoked()).toEqual(['s-1 policy', 's-2 policy']);
    await writeEntry([item(sessionLogin(ARRIVED + 25 * MIN, 's-3'), again + 10 * MIN)]);
    await writeEntry([item(sessionLogin(TRIGGER - 30 * MIN, 's-0'), again + 11 * MIN)]);
    await writeEntry([item(sessionLogin(again + MIN, 's-4'), again + 12 * MIN)]);
    await setLeases('w#4');
    await drainOwner(newOwner(store, 'w#4'));
    expect((await readState(redis, keys, USER))?.revokedUpTo).toBe(again);
    await relay.relay([USER]);
    expect(revoked()).toEqual(['s-1 policy', 's-2 policy', 's-3 policy', 's-0 policy']);
    expect((await store.listUser(USER)).map((x) => x.session_id)).toEqual(['s-4']);
  });
});
