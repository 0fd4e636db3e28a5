import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { OutboxRelay, STALE_PENDING_MS } from '../../src/risk/outbox-relay.js';
import type { LevelChange } from '../../src/types.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('outbox-relay');
const redis = redisClient();
const keys = new Keys(prefix);
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

const change = (user: string, version: number): LevelChange => ({
  id: `${user}-${version}`,
  user,
  version,
  previous: 'low',
  current: 'high',
  behaviors: ['impossible_travel'],
  reason: 'impossible travel',
  initiatingEntity: 'policy',
  time: 1_000 + version,
  occurredAt: 1_000,
});

/**
 * Two workers' relays on one feed and audit log, and `user` with one change pending: the first
 * worker's relay is in flight (entries read, not yet deleted; its sink waits for `release`).
 */
async function relayInFlight(user: string) {
  const feed = `${prefix}:feed-${user}`;
  const audit = `${prefix}:audit-${user}`;
  let release!: () => void;
  const held = new Promise<void>((r) => (release = r));
  const sunk: string[] = [];
  const first = new OutboxRelay(redis, keys, feed, (cs) => held.then(() => void sunk.push(...cs.map((c) => c.id))), 1000, audit);
  const other = new OutboxRelay(redis, keys, feed, async (cs) => void sunk.push(...cs.map((c) => c.id)), 1000, audit);
  const p = keys.partitionOf(user);
  await redis.xadd(keys.userOutbox(user), '*', 'kind', 'change', 'data', JSON.stringify(change(user, 1)));
  await redis.zadd(keys.outboxPending(p), Date.now(), user);
  const relayed = first.relay([user]);
  await new Promise((r) => setTimeout(r, 50));
  return { feed, audit, sunk, other, p, relayed, release };
}

describe('OutboxRelay', () => {
  it('the pipeline and the sweep relaying the same outbox at once deliver and audit each change once', async () => {
    const feed = `${prefix}:risk-events`;
    const audit = `${prefix}:audit`;
    const sunk: string[] = [];
    const relay = new OutboxRelay(redis, keys, feed, async (cs) => void sunk.push(...cs.map((c) => c.id)), 1000, audit);
    for (const u of ['alice', 'bob']) {
      await redis.xadd(keys.userOutbox(u), '*', 'kind', 'change', 'data', JSON.stringify(change(u, 1)));
      await redis.zadd(keys.outboxPending(keys.partitionOf(u)), Date.now(), u);
    }
    const [a, b, c] = await Promise.all([relay.relay(['alice', 'bob']), relay.relayPending({ owns: () => true }), relay.relay(['alice'])]);
    expect([...a, ...c].length + b).toBeGreaterThan(0);
    expect(sunk.sort()).toEqual(['alice-1', 'bob-1']);
    expect(await redis.xlen(audit)).toBe(2);
    expect(await redis.xlen(feed)).toBe(2);
    expect(await redis.xlen(keys.userOutbox('alice'))).toBe(0);
  });

  it('an outbox relayed to its end is deleted, not kept empty (≈ 370 bytes a user for good, and a key the start-up recovery marks)', async () => {
    const relay = new OutboxRelay(redis, keys, `${prefix}:feed-del`, async () => undefined, 1000, `${prefix}:audit-del`);
    await redis.xadd(keys.userOutbox('dora'), '*', 'kind', 'change', 'data', JSON.stringify(change('dora', 1)));
    await redis.zadd(keys.outboxPending(keys.partitionOf('dora')), Date.now(), 'dora');
    await relay.relay(['dora']);
    expect(await redis.exists(keys.userOutbox('dora'))).toBe(0);
    expect(await redis.zscore(keys.outboxPending(keys.partitionOf('dora')), 'dora')).toBeNull();
  });

  it("another worker's periodic relay leaves an owner's fresh outboxes to it (no feed or audit entry twice); a stale mark any worker relays", async () => {
    const { feed, audit, sunk, other, p, relayed, release } = await relayInFlight('gina');
    expect(await other.relayPending({ owns: (q) => q !== p })).toBe(0);
    release();
    await relayed;
    expect(sunk).toEqual(['gina-1']);
    expect(await redis.xlen(audit)).toBe(1);
    expect(await redis.xlen(feed)).toBe(1);
    // A mark its owner left behind (a failed relay, an owner gone) is relayed by anyone once stale.
    await redis.xadd(keys.userOutbox('gina'), '*', 'kind', 'change', 'data', JSON.stringify(change('gina', 2)));
    await redis.zadd(keys.outboxPending(p), Date.now() - STALE_PENDING_MS - 1_000, 'gina');
    expect(await other.relayPending({ owns: (q) => q !== p })).toBe(1);
    expect(sunk).toEqual(['gina-1', 'gina-2']);
    expect(await redis.xlen(audit)).toBe(2);
  });

  it('a commit that marks the user again while a relay runs keeps its mark and its entries (relayed next)', async () => {
    const feed = `${prefix}:feed-remark`;
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const sunk: string[] = [];
    let first = true;
    const relay = new OutboxRelay(redis, keys, feed, async (cs) => {
      if (first) {
        first = false;
        await held;
      }
      sunk.push(...cs.map((c) => c.id));
    });
    const p = keys.partitionOf('hank');
    await redis.xadd(keys.userOutbox('hank'), '*', 'kind', 'change', 'data', JSON.stringify(change('hank', 1)));
    await redis.zadd(keys.outboxPending(p), Date.now(), 'hank');
    const relayed = relay.relay(['hank']);
    await new Promise((r) => setTimeout(r, 50));
    // The next commit lands meanwhile: a new entry, the user marked again.
    await redis.xadd(keys.userOutbox('hank'), '*', 'kind', 'change', 'data', JSON.stringify(change('hank', 2)));
    await redis.zadd(keys.outboxPending(p), Date.now(), 'hank');
    release();
    await relayed;
    expect(sunk).toEqual(['hank-1']);
    expect(await redis.xlen(keys.userOutbox('hank'))).toBe(1);
    expect(await redis.zscore(keys.outboxPending(p), 'hank')).not.toBeNull();
    expect(await relay.relayPending({ owns: (q) => q === p })).toBe(1);
    expect(sunk).toEqual(['hank-1', 'hank-2']);
    expect(await redis.zscore(keys.outboxPending(p), 'hank')).toBeNull();
  });

  it('a late login to revoke goes to the sink only (no risk event, no audit entry), and leaves the outbox', async () => {
    const feed = `${prefix}:feed-late`;
    const audit = `${prefix}:audit-late`;
    const sunk: unknown[] = [];
    const relay = new OutboxRelay(redis, keys, feed, async (_cs, _hits, late) => void sunk.push(...late), 1000, audit);
    const late = { session: 's-1', login_at: 900, trigger: 1_000 };
    await redis.xadd(keys.userOutbox('kim'), '*', 'kind', 'revoke', 'data', JSON.stringify(late));
    await redis.zadd(keys.outboxPending(keys.partitionOf('kim')), Date.now(), 'kim');
    await relay.relay(['kim']);
    expect(sunk).toEqual([{ user: 'kim', late }]);
    expect(await redis.exists(feed, audit)).toBe(0);
    expect(await redis.xlen(keys.userOutbox('kim'))).toBe(0);
  });

  it('an outbox longer than one read stays marked until it is empty', async () => {
    const p = keys.partitionOf('ivy');
    const add = redis.pipeline();
    for (let v = 1; v <= 1_001; v++) add.xadd(keys.userOutbox('ivy'), '*', 'kind', 'change', 'data', JSON.stringify(change('ivy', v)));
    add.zadd(keys.outboxPending(p), Date.now(), 'ivy');
    await add.exec();
    const relay = new OutboxRelay(redis, keys, `${prefix}:feed-long`, async () => undefined);
    expect(await relay.relay(['ivy'])).toHaveLength(1_000);
    expect(await redis.zscore(keys.outboxPending(p), 'ivy')).not.toBeNull();
    expect(await relay.relay(['ivy'])).toHaveLength(1);
    expect(await redis.zscore(keys.outboxPending(p), 'ivy')).toBeNull();
  });

  it("two workers' relays of one partition at once: one passes the entries on, the other leaves them (the partition's relay lock)", async () => {
    const { feed, audit, sunk, other: b, p, relayed: first, release } = await relayInFlight('jo');
    expect(await b.relay(['jo'])).toEqual([]);
    expect(await b.relayPending({ owns: () => true })).toBe(1); // marked, but locked: nothing passed on
    release();
    expect(await first).toHaveLength(1);
    expect(sunk).toEqual(['jo-1']);
    expect(await redis.xlen(audit)).toBe(1);
    expect(await redis.xlen(feed)).toBe(1);
    expect(await redis.exists(keys.outboxRelayLock(p))).toBe(0);
  });

  it('a lock left by a process that died mid-relay (kill -9) frees the partition within seconds; a live relay renews its lock', async () => {
    const user = 'kim';
    const p = keys.partitionOf(user);
    const sunk: string[] = [];
    const relay = new OutboxRelay(redis, keys, `${prefix}:feed-kim`, async (cs) => void sunk.push(...cs.map((c) => c.id)), 1000);
    await redis.xadd(keys.userOutbox(user), '*', 'kind', 'change', 'data', JSON.stringify(change(user, 1)));
    // The dead process's lock, as its relay took it: short-lived, nothing renews it.
    await redis.set(keys.outboxRelayLock(p), 'dead-process-token', 'PX', 3_000);
    expect(await relay.relay([user])).toEqual([]);
    const ttl = await redis.pttl(keys.outboxRelayLock(p));
    expect(ttl).toBeGreaterThan(0);
    expect(ttl).toBeLessThanOrEqual(3_000);
    await new Promise((r) => setTimeout(r, ttl + 50));
    expect(await relay.relay([user])).toHaveLength(1);
    expect(sunk).toEqual(['kim-1']);

    // A relay that takes longer than the lock's life keeps it (renewed), so no other relay reads its entries.
    await redis.xadd(keys.userOutbox(user), '*', 'kind', 'change', 'data', JSON.stringify(change(user, 2)));
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const slow = new OutboxRelay(redis, keys, `${prefix}:feed-kim`, (cs) => held.then(() => void sunk.push(...cs.map((c) => c.id))), 1000);
    const running = slow.relay([user]);
    await new Promise((r) => setTimeout(r, 4_000));
    expect(await redis.exists(keys.outboxRelayLock(p))).toBe(1);
    expect(await relay.relay([user])).toEqual([]);
    release();
    expect(await running).toHaveLength(1);
    expect(sunk).toEqual(['kim-1', 'kim-2']);
  }, 20_000);

  it("a reset's audit entry goes to the audit log (not the feed) and its outcome is answered only once it is there", async () => {
    const feed = `${prefix}:feed-reset`;
    const audit = `${prefix}:audit-reset`;
    const entry = {
      action: 'risk.reset',
      actor: 'admin:ops',
      target: 'carol',
      time: 1_234,
      details: { previous: 'high', level: 'low', version: 2, reason: 'x' },
    };
    const outcome = { found: true, previous: 'high', level: 'low', version: 2, change: null };
    await redis.xadd(keys.userOutbox('carol'), '*', 'kind', 'audit', 'data', JSON.stringify(entry));
    await redis.xadd(keys.userOutbox('carol'), '*', 'kind', 'result', 'data', JSON.stringify({ req: 'rq-1', outcome }));
    let failing = true;
    const relay = new OutboxRelay(
      redis,
      keys,
      feed,
      async () => {
        if (failing) throw new Error('sink down');
      },
      1000,
      audit,
    );
    await expect(relay.relay(['carol'])).rejects.toThrow('sink down');
    expect(await redis.exists(keys.controlResult(keys.partitionOf('carol'), 'rq-1'))).toBe(0); // no outcome before the audit entry
    failing = false;
    await relay.relay(['carol']);
    const rows = await redis.xrange(audit, '-', '+');
    expect(rows).toHaveLength(1);
    expect(rows[0]![1]).toContain('risk.reset');
    expect(await redis.exists(feed)).toBe(0);
    expect(JSON.parse((await redis.get(keys.controlResult(keys.partitionOf('carol'), 'rq-1')))!)).toEqual(outcome);
    expect(await redis.xlen(keys.userOutbox('carol'))).toBe(0);
  });

  it('a failing relay does not block the next one', async () => {
    let fail = true;
    const relay = new OutboxRelay(redis, keys, `${prefix}:feed2`, async () => {
      if (fail) throw new Error('receiver queue down');
    });
    await redis.xadd(keys.userOutbox('carol'), '*', 'kind', 'change', 'data', JSON.stringify(change('carol', 1)));
    await redis.zadd(keys.outboxPending(keys.partitionOf('carol')), Date.now(), 'carol');
    await expect(relay.relay(['carol'])).rejects.toThrow('receiver queue down');
    // Still marked pending, so the periodic relayPending retries it (not only the next start).
    expect(await redis.zscore(keys.outboxPending(keys.partitionOf('carol')), 'carol')).not.toBeNull();
    fail = false;
    expect(await relay.relayPending({ owns: () => true })).toBe(1);
    expect(await redis.zscore(keys.outboxPending(keys.partitionOf('carol')), 'carol')).toBeNull();
    expect(await redis.xlen(keys.userOutbox('carol'))).toBe(0);
  });

  it("recover marks every user with an outbox pending in that user's partition (a crash between a commit and its marks); relayPending then relays them", async () => {
    const own = testPrefix('outbox-recover'); // only these outboxes exist under it
    const k = new Keys(own);
    const users = ['dan', 'erin{x}', 'fay%1'];
    expect(new Set(users.map((u) => k.partitionOf(u))).size).toBe(3);
    try {
      for (const u of users) await redis.xadd(k.userOutbox(u), '*', 'kind', 'change', 'data', JSON.stringify(change(u, 1)));
      const sunk: string[] = [];
      const relay = new OutboxRelay(redis, k, `${own}:feed`, async (cs) => void sunk.push(...cs.map((c) => c.id)));
      await relay.recover();
      for (const u of users) expect(await redis.zscore(k.outboxPending(k.partitionOf(u)), u), u).not.toBeNull();
      expect(await relay.relayPending({ owns: () => true })).toBe(3);
      expect(sunk.sort()).toEqual(users.map((u) => `${u}-1`).sort());
      for (const u of users) expect(await redis.zscore(k.outboxPending(k.partitionOf(u)), u)).toBeNull();
    } finally {
      await cleanup(redis, own);
    }
  });
});
