/**
 * A reset with no worker running commits itself under the partition's lease (taken briefly, given
 * back); with an owner holding the lease it goes through the control stream to that owner (real
 * Redis, random prefix).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { resetUser } from '../../src/engine/offline-reset.js';
import { Keys } from '../../src/keys.js';
import { OutboxRelay } from '../../src/risk/outbox-relay.js';
import { decodeState, encodeState } from '../../src/risk/state-codec.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';

const redis = redisClient();
const NOW = Date.now();
let prefix: string;
let keys: Keys;

const settings = () => ({ eventsMaxlen: 100 });

function high(user: string): UserState {
  return {
    ...emptyState(user),
    level: 'high',
    version: 1,
    changedAt: NOW - 60_000,
    updatedAt: NOW - 60_000,
    behaviors: {
      endpoint_detection: { level: 'high', firstAt: NOW - 60_000, lastAt: NOW - 60_000, expiresAt: NOW + 3_600_000, hits: 1, summary: 'edr', evidence: {} },
    },
  };
}

beforeEach(() => {
  prefix = testPrefix('offline-reset');
  keys = new Keys(prefix, 8);
});
afterEach(async () => cleanup(redis, prefix));
afterAll(() => redis.disconnect());

describe('resetUser', () => {
  it('with no worker: a user idle past state.idle_user_ttl is not found (as to its owner), nothing written; without retention it is reset', async () => {
    const user = 'sprayed@example.com';
    const p = keys.partitionOf(user);
    const DAY = 86_400_000;
    const idle: UserState = {
      ...emptyState(user),
      updatedAt: NOW - 40 * DAY,
      windows: { brute_force: { a: [[NOW - 40 * DAY, 'e', '203.0.113.9']], s: [], f: [] } },
    };
    await redis.hset(keys.partitionState(p), user, encodeState(idle));
    const retention = { ttl: 30 * DAY, learners: new Set<string>() };
    expect(await resetUser(redis, keys, { user, actor: 'cli:ops', reason: 'r' }, { ...settings(), retention }, async () => undefined)).toEqual({
      found: false,
    });
    expect(await redis.exists(keys.userEvents(user), keys.userOutbox(user))).toBe(0);
    expect(decodeState(await redis.hgetBuffer(keys.partitionState(p), user), user)).toEqual(idle);
    expect(await resetUser(redis, keys, { user, actor: 'cli:ops', reason: 'r' }, settings(), async () => undefined)).toMatchObject({
      found: true,
      previous: 'low',
      level: 'low',
    });
  });

  it('with no worker: resets the stored state under the lease, records the change and the audit entry, relays, gives the lease back', async () => {
    const user = 'alice@example.com';
    const p = keys.partitionOf(user);
    await redis.hset(keys.partitionState(p), user, encodeState(high(user)));
    const relayed: string[][] = [];
    const sunk: string[] = [];
    const relay = new OutboxRelay(redis, keys, `${prefix}:risk-events`, async (cs) => void sunk.push(...cs.map((c) => c.id)), 100, `${prefix}:audit`);
    const before = Date.now();
    const r = await resetUser(redis, keys, { user, actor: 'cli:ops', reason: 'false positive' }, settings(), async (u) => {
      relayed.push(u);
      await relay.relay(u);
    });
    expect(r).toMatchObject({ found: true, previous: 'high', level: 'low', version: 2 });
    const stored = decodeState(await redis.hgetBuffer(keys.partitionState(p), user), user)!;
    expect(stored).toMatchObject({ level: 'low', version: 2, behaviors: {} });
    const events = await redis.xrange(keys.userEvents(user), '-', '+');
    expect(events.map(([, f]) => f[f.indexOf('kind') + 1])).toEqual(['change']);
    expect(relayed).toEqual([[user]]);
    // The audit entry travelled through the user's outbox: the relay wrote it to the audit stream,
    // once and with the fields the commit used to write itself (not also risk.level_changed), and
    // not to the risk-events feed; the outbox is empty afterwards.
    const audit = await redis.xrange(`${prefix}:audit`, '-', '+');
    expect(audit).toHaveLength(1);
    const f = audit[0]![1];
    expect(f.filter((_, i) => i % 2 === 0)).toEqual(['action', 'actor', 'target', 'time', 'details']);
    expect([f[1], f[3], f[5], JSON.parse(f[9]!)]).toEqual([
      'risk.reset',
      'cli:ops',
      user,
      { previous: 'high', level: 'low', version: 2, reason: 'false positive' },
    ]);
    expect(Number(f[7])).toBeGreaterThanOrEqual(before);
    expect(Number(f[7])).toBeLessThanOrEqual(Date.now());
    const feed = await redis.xrange(`${prefix}:risk-events`, '-', '+');
    expect(feed.map(([, e]) => e[e.indexOf('kind') + 1])).toEqual(['change']);
    expect(sunk).toHaveLength(1);
    expect(await redis.xlen(keys.userOutbox(user))).toBe(0);
    expect(await redis.exists(keys.engineLease(`p${p}`))).toBe(0);
    // The input position of the partition is untouched.
    expect(await redis.hget(keys.partitionPos(p), 'pos')).toBeNull();
  });

  it('a relay that fails after the commit landed: the reset still answers its outcome, and the outbox relay sweep sends it later', async () => {
    const user = 'erin@example.com';
    const p = keys.partitionOf(user);
    await redis.hset(keys.partitionState(p), user, encodeState(high(user)));
    const told: unknown[] = [];
    const r = await resetUser(
      redis,
      keys,
      { user, actor: 'cli:ops', reason: 'vouched' },
      { ...settings(), onRelayFailed: (err) => told.push(err) },
      async () => {
        throw new Error('queue unavailable');
      },
    );
    expect(r).toMatchObject({ found: true, previous: 'high', level: 'low', version: 2 });
    expect(told).toEqual([expect.objectContaining({ message: 'queue unavailable' })]);
    expect(await redis.exists(keys.engineLease(`p${p}`))).toBe(0);
    // The change waits in the outbox, the user marked pending: the relay's sweep takes it up.
    expect(await redis.zscore(keys.outboxPending(p), user)).not.toBeNull();
    const sunk: Array<{ user: string; current: string; version: number }> = [];
    const relay = new OutboxRelay(redis, keys, `${prefix}:risk-events`, async (cs) => void sunk.push(...cs), 100, `${prefix}:audit`);
    expect(await relay.relayPending({ staleMs: 0, now: Date.now() + 1 })).toBe(1);
    expect(sunk).toEqual([expect.objectContaining({ user, previous: 'high', current: 'low', version: 2 })]);
    expect(await redis.xlen(keys.userOutbox(user))).toBe(0);
    expect((await redis.xrange(`${prefix}:audit`, '-', '+')).map(([, f]) => f[1])).toEqual(['risk.reset']);
  });

  it.each([
    ['input not yet routed (the consumer group behind)', 'routed'],
    ['routed input the owner has not applied (the partition stream past its position)', 'applied'],
  ])('with %s: the reset is queued in the control stream (applied in order by a worker), the state untouched', async (_n, what) => {
    const user = 'bob@example.com';
    const p = keys.partitionOf(user);
    const input = { streams: [`${prefix}:login`], group: 'riskstream' };
    await redis.hset(keys.partitionState(p), user, encodeState(high(user)));
    await redis.xgroup('CREATE', input.streams[0]!, input.group, '$', 'MKSTREAM');
    if (what === 'routed') await redis.xadd(input.streams[0]!, '*', 'event', '{"type":"login"}');
    else await redis.xadd(keys.partitionIn(p), '*', 'b', '[]');
    const r = resetUser(redis, keys, { user, actor: 'cli:ops', reason: 'vouched' }, { ...settings(), input }, async () => undefined);
    await expect(r).rejects.toMatchObject({ code: 'UNAVAILABLE', message: expect.stringMatching(/queued behind input/) });
    expect(decodeState(await redis.hgetBuffer(keys.partitionState(p), user), user)).toMatchObject({ level: 'high', version: 1 });
    const control = await redis.xrange(keys.controlStream, '-', '+');
    expect(control.map(([, f]) => f[f.indexOf('user') + 1])).toEqual([user]);
    expect(await redis.exists(keys.engineLease(`p${p}`))).toBe(0);
  });

  it('an unknown user: not found, nothing written, the lease given back', async () => {
    const user = 'nobody@example.com';
    const r = await resetUser(redis, keys, { user, actor: 'cli:ops', reason: '' }, settings(), async () => undefined);
    expect(r).toEqual({ found: false });
    expect(await redis.hexists(keys.partitionState(keys.partitionOf(user)), user)).toBe(0);
    expect(await redis.exists(keys.engineLease(`p${keys.partitionOf(user)}`))).toBe(0);
  });

  it('with an entry the router moves from the input to the partition stream while the reset looks: queued, not committed ahead of it', async () => {
    // A partition's lease is free for a moment at every handover between workers (released by the
    // old owner, taken at the new one's next heartbeat) while the router goes on routing. Here the
    // router finishes its step (partition entry written, input acked) between the reset's reads:
    // whichever it reads first must not be judged stale against the other.
    const user = 'carol@example.com';
    const p = keys.partitionOf(user);
    const input = { streams: [`${prefix}:activity`], group: 'riskstream' };
    await redis.hset(keys.partitionState(p), user, encodeState(high(user)));
    await redis.xgroup('CREATE', input.streams[0]!, input.group, '$', 'MKSTREAM');
    await redis.xadd(input.streams[0]!, '*', 'event', '{"type":"endpoint"}');
    const read = (await redis.xreadgroup('GROUP', input.group, 'riskstream-router', 'COUNT', 10, 'STREAMS', input.streams[0]!, '>')) as Array<
      [string, Array<[string, string[]]>]
    >;
    const id = read[0]![1][0]![0];
    let moved = false;
    const move = async (): Promise<void> => {
      if (moved) return;
      moved = true;
      await redis.xadd(keys.partitionIn(p), '*', 'b', '[]');
      await redis.xack(input.streams[0]!, input.group, id);
    };
    // The first read the reset makes, whichever it is, returns as it was; the router's step lands right after it.
    const after =
      <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
      async (...a: A): Promise<R> => {
        const r = await f(...a);
        await move();
        return r;
      };
    const racing = new Proxy(redis, {
      get(target, prop) {
        if (prop === 'xrevrange') return after(target.xrevrange.bind(target) as (...a: unknown[]) => Promise<unknown>);
        if (prop === 'xlen') return after(target.xlen.bind(target) as (...a: unknown[]) => Promise<unknown>);
        if (prop === 'pipeline')
          return () => {
            const pl = target.pipeline();
            const exec = pl.exec.bind(pl);
            pl.exec = after(exec) as typeof pl.exec;
            return pl;
          };
        const v = Reflect.get(target, prop, target) as unknown;
        return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
      },
    });
    const r = resetUser(racing, keys, { user, actor: 'cli:ops', reason: 'vouched' }, { ...settings(), input }, async () => undefined);
    await expect(r).rejects.toMatchObject({ code: 'UNAVAILABLE' });
    expect(moved).toBe(true);
    // The detection routed before the reset is applied first by the partition's next owner: the reset was not committed ahead of it.
    expect(decodeState(await redis.hgetBuffer(keys.partitionState(p), user), user)).toMatchObject({ level: 'high', version: 1 });
    const control = await redis.xrange(keys.controlStream, '-', '+');
    expect(control.map(([, f]) => f[f.indexOf('user') + 1])).toEqual([user]);
    expect(await redis.exists(keys.engineLease(`p${p}`))).toBe(0);
  });

  it("with an owner holding the partition's lease: the reset goes to it through the control stream, and its outcome is returned", async () => {
    const user = 'bob@example.com';
    const p = keys.partitionOf(user);
    await redis.hset(keys.partitionState(p), user, encodeState(high(user)));
    await redis.set(keys.engineLease(`p${p}`), 'w1#3', 'PX', 30_000);
    const pending = resetUser(redis, keys, { user, actor: 'admin:ops', reason: 'x' }, settings(), async () => undefined);
    // Play the owner: take the request from the control stream, answer it.
    const req = await waitFor(async () => {
      const rows = await redis.xrange(keys.controlStream, '-', '+');
      const f = rows[0]?.[1];
      return f ? f[f.indexOf('req') + 1] : undefined;
    });
    await redis.set(keys.controlResult(p, req!), JSON.stringify({ found: true, previous: 'high', level: 'low', version: 2, change: null }), 'PX', 60_000);
    expect(await pending).toMatchObject({ found: true, level: 'low', version: 2 });
    // The stored state was not touched by the requester: only the owner writes it.
    expect(decodeState(await redis.hgetBuffer(keys.partitionState(p), user), user)).toMatchObject({ level: 'high', version: 1 });
    expect(await redis.get(keys.engineLease(`p${p}`))).toBe('w1#3');
  });
});
