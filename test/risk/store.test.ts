/**
 * RiskStore (read-only) and the partition owner's storage guarantees on a real Redis (random
 * prefix, purged after), replacing the per-user scorer's: an entry is applied once however often
 * it is delivered (skipped by its order key, not by applied markers), a replay after a crash gives
 * the same states and risk events, a stale owner's commit is fenced (nothing written), a reducer
 * failure is dead-lettered at once while the rest goes on, and the per-partition expiry index
 * drives the owner's sweep.
 */
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { behavior } from '../helpers/behavior-config.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { PartitionOwner, type OwnerParts, type StepReport } from '../../src/engine/owner.js';
import { encodeRouted, ROUTED_FIELD, type RoutedItem } from '../../src/engine/routed.js';
import { Router } from '../../src/engine/router.js';
import { Keys } from '../../src/keys.js';
import { keyId, orderKey } from '../../src/partition.js';
import { decodeState, encodeState } from '../../src/risk/state-codec.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { RiskStore } from '../../src/risk/store.js';
import type { CanonicalEvent, RawEntry } from '../../src/types.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const HOUR = 3_600_000;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * 24 * HOUR, allowedLateness: 600_000 };

const BEHAVIORS = [
  behavior('dlp_detection', { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' }),
  behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '2h', min_severity: 'high' }),
];

const redis = redisClient();
const reader = redisClient();
const prefixes: string[] = [];
let prefix: string;
let keys: Keys;
let activity: string;
let user: string;
let n = 0;

function fresh(): void {
  prefix = testPrefix('risk-store');
  prefixes.push(prefix);
  keys = new Keys(prefix);
  activity = `${prefix}:activity`;
}

beforeEach(() => {
  fresh();
  user = `u-${++n}@example.com`;
});

afterAll(async () => {
  for (const p of prefixes) await cleanup(redis, p);
  redis.disconnect();
  reader.disconnect();
});

const dlp = (who: string, time: number, id = `dlp-${who}-${time}`): CanonicalEvent =>
  ({ type: 'dlp', id, user: who, time, profile: 'pii', severity: 'high', action: 'block', app: 'drive' }) as CanonicalEvent;
const edr = (who: string, time: number, id = `edr-${who}-${time}`): CanonicalEvent =>
  ({ type: 'endpoint', id, user: who, time, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' }) as CanonicalEvent;

/** A routed item for input entry `id` of the activity stream (source 0). */
function item(id: string, e: CanonicalEvent): RoutedItem {
  const k = orderKey(id, 0);
  return { k: [k.ms, k.seq], s: activity, i: id, e };
}

/** Writes one partition entry holding `items` (its id: the highest key), as the router does. */
async function route(items: RoutedItem[]): Promise<void> {
  const byPartition = new Map<number, RoutedItem[]>();
  for (const it of items) {
    const p = keys.partitionOf('e' in it ? it.e.user : it.c.user);
    byPartition.set(p, [...(byPartition.get(p) ?? []), it]);
  }
  for (const [p, list] of byPartition) {
    const top = list.at(-1)!.k;
    await redis.xadd(keys.partitionIn(p), keyId({ ms: top[0], seq: top[1] }), ROUTED_FIELD, encodeRouted(list));
  }
}

interface TestOwner {
  owner: PartitionOwner;
  dead: Array<{ raw: RawEntry; reason: string }>;
  fenced: number[];
  errors: unknown[];
  /** Steps until nothing more is read, waiting for each commit. */
  drain(): Promise<StepReport[]>;
}

/** An owner of every partition under lease token `token` (the lease keys set to it, as a lease holder's). */
async function ownerOf(token: string, opts: { now?: number; readCount?: number; commitEntries?: number } = {}): Promise<TestOwner> {
  const dead: TestOwner['dead'] = [];
  const fenced: number[] = [];
  const errors: unknown[] = [];
  const parts: OwnerParts = {
    context: () => ({ behaviors: BEHAVIORS, limits: LIMITS, now: opts.now ?? NOW }),
    settings: () => ({ eventsMaxlen: 1000, now: opts.now ?? NOW }),
    sessions: { build: () => [], prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }), after: async () => undefined },
    deadLetter: async (bad) => void dead.push(...bad),
    relay: () => undefined,
    onCommitError: (err) => void errors.push(err),
    onFenced: (p) => void fenced.push(p),
  };
  const owner = new PartitionOwner(
    redis,
    reader,
    keys,
    { lruSize: 100, readCount: opts.readCount ?? 100, commitInterval: 60_000, commitEntries: opts.commitEntries ?? 100_000 },
    parts,
  );
  const p = redis.pipeline();
  for (let i = 0; i < keys.partitions; i++) {
    p.set(keys.engineLease(`p${i}`), token);
    owner.acquire(i, token);
  }
  await p.exec();
  return {
    owner,
    dead,
    fenced,
    errors,
    drain: async () => {
      const reports: StepReport[] = [];
      for (let i = 0; i < 50; i++) {
        const r = await owner.step(5);
        await owner.settle();
        reports.push(r);
        if (i > 0 && r.read === 0) break;
      }
      return reports;
    },
  };
}

const total = (rs: StepReport[], k: 'applied' | 'skipped' | 'deadLettered' | 'read'): number => rs.reduce((s, r) => s + r[k], 0);

async function stored(u = user): Promise<UserState | null> {
  return (await new RiskStore(redis, keys).get(u))?.state ?? null;
}

/** A user's risk events as stored: `kind:data` in order. */
async function events(u = user): Promise<string[]> {
  return (await redis.xrange(keys.userEvents(u), '-', '+')).map(([, f]) => `${f[f.indexOf('kind') + 1]}:${f[f.indexOf('data') + 1]}`);
}

describe('RiskStore (read-only)', () => {
  it("reads a user's state from its partition's hash; unknown and unreadable states are null", async () => {
    const store = new RiskStore(redis, keys);
    const a: UserState = { ...emptyState(user), level: 'medium', version: 1, changedAt: NOW, updatedAt: NOW };
    await redis.hset(keys.userState(user), user, encodeState(a));
    await redis.hset(keys.userState('broken@example.com'), 'broken@example.com', Buffer.from([0xc1, 0x00]));
    await redis.hset(keys.userState('not-a-state@example.com'), 'not-a-state@example.com', encodeState([1, 2] as unknown as UserState));
    expect(await store.get(user)).toEqual({ state: a });
    expect(await store.get('nobody@example.com')).toBeNull();
    expect(await store.get('broken@example.com')).toBeNull();
    expect(await store.getMany([user, 'nobody@example.com', 'broken@example.com', 'not-a-state@example.com', user])).toEqual([a, null, null, null, a]);
    expect(await store.getMany([])).toEqual([]);
    // One hash per partition, one field per user: nothing else under the user's name.
    expect(await redis.hkeys(keys.partitionState(keys.partitionOf(user)))).toContain(user);
  });
});

describe('PartitionOwner: each entry applied once', () => {
  it('applies, commits state + risk events + outbox + indexes + position in one step', async () => {
    const o = await ownerOf('w#1');
    const id = `${NOW - 1000}-0`;
    await route([item(id, dlp(user, NOW - 1000))]);
    const rs = await o.drain();
    expect(total(rs, 'applied')).toBe(1);
    expect(await stored()).toMatchObject({ level: 'medium', version: 1 });
    expect((await events()).map((e) => e.slice(0, e.indexOf(':')))).toEqual(['hit', 'change']);
    expect(await redis.xlen(keys.userOutbox(user))).toBe(2);
    expect(await redis.zscore(keys.usersByLevel(keys.partitionOf(user)), user)).not.toBeNull();
    expect(Number(await redis.zscore(keys.partitionExpiry(keys.partitionOf(user)), user))).toBe(NOW - 1000 + 24 * HOUR);
    expect(await redis.hget(keys.partitionPos(keys.partitionOf(user)), 'pos')).toBe(keyId(orderKey(id, 0)));
    expect(o.errors).toEqual([]);
  });

  it('an item delivered again (re-routed with new ones after a crash) is skipped by its order key: state, events and outbox untouched', async () => {
    const o = await ownerOf('w#1');
    const first = item(`${NOW - 3000}-0`, dlp(user, NOW - 3000));
    const second = item(`${NOW - 3000}-1`, dlp(user, NOW - 2999));
    await route([first, second]);
    await o.drain();
    const state = (await redis.hgetBuffer(keys.userState(user), user))?.toString('hex');
    const evs = await events();
    const outbox = await redis.xlen(keys.userOutbox(user));
    // Both again, in a later partition entry (a router that crashed before acking re-reads them).
    const again = await o.owner.step(5);
    expect(again.read).toBe(0);
    const third = item(`${NOW - 2000}-0`, dlp(user, NOW - 2000));
    await route([first, second, third]);
    const rs = await o.drain();
    expect(total(rs, 'skipped')).toBe(2);
    expect(total(rs, 'applied')).toBe(1);
    expect((await stored())!.behaviors.dlp_detection!.hits).toBe(3);
    // Only the new item's hit was added.
    expect((await events()).slice(0, evs.length)).toEqual(evs);
    expect((await events()).slice(evs.length).map((e) => e.slice(0, e.indexOf(':')))).toEqual(['hit']);
    expect(await redis.xlen(keys.userOutbox(user))).toBe(outbox + 1);
    expect((await redis.hgetBuffer(keys.userState(user), user))?.toString('hex')).not.toBe(state);
  });

  it('a crash before the commit: the next owner re-applies from the committed position — the same states and risk events as one run', async () => {
    const other = `other-${n}@example.com`;
    const batches = [
      [item(`${NOW - 9000}-0`, dlp(user, NOW - 9000)), item(`${NOW - 9000}-1`, dlp(other, NOW - 9000))],
      [item(`${NOW - 8000}-0`, edr(user, NOW - 8000)), item(`${NOW - 8000}-1`, dlp(other, NOW - 8000))],
      [item(`${NOW - 7000}-0`, dlp(user, NOW - 7000)), item(`${NOW - 7000}-1`, edr(other, NOW - 7000))],
    ];
    // The reference: one owner, no fault.
    const ref = await ownerOf('ref#1');
    for (const b of batches) await route(b);
    await ref.drain();
    const blob = async (u: string): Promise<string | undefined> => (await redis.hgetBuffer(keys.userState(u), u))?.toString('hex');
    const want = { user: await blob(user), other: await blob(other) };
    const wantEvents = { user: await events(user), other: await events(other) };
    expect(decodeState(Buffer.from(want.user!, 'hex'), user)?.level).toBe('high');

    fresh();
    const a = await ownerOf('w#1', { readCount: 1 });
    await route(batches[0]!);
    await a.owner.step(5);
    await a.owner.commit(); // the first entry of each partition is committed …
    await a.owner.settle();
    await route(batches[1]!);
    await route(batches[2]!);
    await a.owner.step(5); // … the next applied in memory only: then the process dies.
    expect(await redis.xlen(keys.userEvents(user))).toBe(2);
    const b = await ownerOf('w#2'); // its successor (a new lease epoch)
    const rs = await b.drain();
    expect(total(rs, 'applied')).toBe(4);
    expect(await blob(user)).toBe(want.user);
    expect(await blob(other)).toBe(want.other);
    expect({ user: await events(user), other: await events(other) }).toEqual(wantEvents);
  });

  it('a failed step while a commit is in flight: the partitions re-read from the committed position, nothing is applied twice', async () => {
    const o = await ownerOf('w#1');
    await route([item(`${NOW - 3000}-0`, dlp(user, NOW - 3000)), item(`${NOW - 3000}-1`, dlp(user, NOW - 2999))]);
    await o.owner.step(5); // loads the positions
    await route([item(`${NOW - 2000}-0`, dlp(user, NOW - 2000))]);
    const applied = await o.owner.step(5); // applies …
    expect(applied.applied).toBeGreaterThan(0);
    await o.owner.commit(); // … and starts its commit (sent, not settled)
    o.owner.rewindAll(); // … when the step loop fails (a dropped connection) and rewinds
    await o.owner.settle(); // the commit lands
    const evs = await events();
    const rs = await o.drain();
    expect(total(rs, 'applied')).toBe(0);
    expect(await events()).toEqual(evs);
    expect((await stored())!.behaviors.dlp_detection!.hits).toBe(3);
  });

  it('the input group rewound (XGROUP SETID 0): re-routing adds no partition entry, the owner applies nothing twice', async () => {
    const router = new Router(
      redis,
      keys,
      { sources: [activity], group: 'riskstream', consumer: 'riskstream-router', count: 100 },
      {
        decode: (raw) => ({ ok: true, event: JSON.parse(raw.fields.event!) as CanonicalEvent }),
        enrich: async () => undefined,
        deadLetter: async () => undefined,
      },
    );
    await router.ensureGroups();
    await redis.set(keys.engineLease('r:*'), 'r#1');
    router.start('r#1');
    const routeAll = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) {
        const r = await router.step();
        if (r === 'fenced') throw new Error('router fenced');
        const pending = ((await redis.xpending(activity, 'riskstream')) as [number])[0];
        const info = (await redis.xinfo('GROUPS', activity)) as unknown[][];
        const lag = Number(info[0]![info[0]!.indexOf('lag') + 1]);
        if (pending === 0 && lag === 0 && r.buffered === 0) return;
        await new Promise((res) => setTimeout(res, 5));
      }
      throw new Error('router did not drain');
    };
    const o = await ownerOf('w#1');
    for (let i = 0; i < 5; i++) await redis.xadd(activity, '*', 'event', JSON.stringify(dlp(user, NOW - 5000 + i)));
    await routeAll();
    expect(total(await o.drain(), 'applied')).toBe(5);
    const p = keys.partitionOf(user);
    const entries = await redis.xrange(keys.partitionIn(p), '-', '+');
    const state = (await redis.hgetBuffer(keys.userState(user), user))?.toString('hex');
    const evs = await events();

    await redis.xgroup('SETID', activity, 'riskstream', '0');
    await routeAll();
    expect(await redis.xrange(keys.partitionIn(p), '-', '+')).toEqual(entries);
    const rs = await o.drain();
    expect(total(rs, 'applied')).toBe(0);
    expect((await redis.hgetBuffer(keys.userState(user), user))?.toString('hex')).toBe(state);
    expect(await events()).toEqual(evs);
    // A new entry after the rewind is applied.
    await redis.xadd(activity, '*', 'event', JSON.stringify(dlp(user, NOW - 100)));
    await routeAll();
    expect(total(await o.drain(), 'applied')).toBe(1);
    expect((await stored())!.behaviors.dlp_detection!.hits).toBe(6);
  });

  it("a stale owner (its partition's lease moved) is fenced: its commit writes nothing; the new owner's work stands", async () => {
    const a = await ownerOf('w#1');
    await route([item(`${NOW - 5000}-0`, dlp(user, NOW - 5000))]);
    await a.drain();
    const before = {
      state: (await redis.hgetBuffer(keys.userState(user), user))?.toString('hex'),
      events: await events(),
      pos: await redis.hgetall(keys.partitionPos(keys.partitionOf(user))),
    };
    // The lease moves to another worker (a and b both believe they own the partition).
    const b = await ownerOf('w2#2');
    await route([item(`${NOW - 4000}-0`, edr(user, NOW - 4000))]);
    await a.owner.step(5); // a applies it too, in memory …
    await a.owner.commit(); // (a commit due now, whatever the commit interval)
    await a.owner.settle();
    expect(a.fenced).toContain(keys.partitionOf(user)); // … and its commit is refused
    expect(a.owner.partitions()).not.toContain(keys.partitionOf(user));
    expect({
      state: (await redis.hgetBuffer(keys.userState(user), user))?.toString('hex'),
      events: await events(),
      pos: await redis.hgetall(keys.partitionPos(keys.partitionOf(user))),
    }).toEqual(before);
    const rs = await b.drain();
    expect(total(rs, 'applied')).toBe(1);
    expect(await stored()).toMatchObject({ level: 'high', version: 2 });
    expect((await events()).filter((e) => e.startsWith('change:'))).toHaveLength(2);
    expect(b.fenced).toEqual([]);
  });
});

describe('PartitionOwner: a reducer failure', () => {
  it('is dead-lettered at once with processing_failed: CODE, while the items before and after it (and other users) are applied; a replay fails the same way', async () => {
    const bad = `mallory-${n}@example.com`;
    // A stored state the reducer cannot apply anything to (readable, but behaviors is not an object).
    await redis.hset(keys.userState(bad), bad, encodeState({ ...emptyState(bad), behaviors: null } as unknown as UserState));
    const items = [
      item(`${NOW - 3000}-0`, dlp(user, NOW - 3000)),
      item(`${NOW - 3000}-1`, dlp(bad, NOW - 3000)),
      item(`${NOW - 2000}-0`, edr(user, NOW - 2000)),
    ];
    await route(items);
    const o = await ownerOf('w#1');
    const rs = await o.drain();
    expect(o.dead.map((d) => [d.raw.stream, d.raw.id, d.reason])).toEqual([[activity, `${NOW - 3000}-1`, 'processing_failed: INTERNAL']]);
    expect(JSON.parse(o.dead[0]!.raw.fields.event!)).toMatchObject({ user: bad, type: 'dlp' });
    expect(total(rs, 'deadLettered')).toBe(1);
    expect(total(rs, 'applied')).toBe(2);
    expect(await stored()).toMatchObject({ level: 'high', version: 2 });
    // The failed item left no trace, and its position is committed: it is not retried.
    expect(await redis.xlen(keys.userEvents(bad))).toBe(0);
    for (const p of new Set([keys.partitionOf(user), keys.partitionOf(bad)])) {
      const last = items.filter((it) => 'e' in it && keys.partitionOf(it.e.user) === p).at(-1)!;
      expect(await redis.hget(keys.partitionPos(p), 'pos')).toBe(keyId({ ms: last.k[0], seq: last.k[1] }));
    }
    expect(total(await o.drain(), 'deadLettered')).toBe(0);
    // Deterministic: a replay of the same items (another prefix, same stored state) fails the same way.
    const first = o.dead.map((d) => d.reason);
    fresh();
    await redis.hset(keys.userState(bad), bad, encodeState({ ...emptyState(bad), behaviors: null } as unknown as UserState));
    await route(items);
    const replay = await ownerOf('w#9');
    await replay.drain();
    expect(replay.dead.map((d) => d.reason)).toEqual(first);
  });
});

describe('PartitionOwner: expiry sweep', () => {
  it('a late detection is swept at its event time + expires_after: the partition expiry index, next_expiry and the sweep agree', async () => {
    const happened = NOW - 90 * 60_000; // processed 90 min late; endpoint_detection expires after 2 h
    const until = happened + 2 * HOUR;
    const o = await ownerOf('w#1');
    await route([item(`${NOW}-0`, edr(user, happened))]);
    await o.drain();
    const p = keys.partitionOf(user);
    expect(Number(await redis.zscore(keys.partitionExpiry(p), user))).toBe(until);
    expect((await stored())!.behaviors.endpoint_detection!.expiresAt).toBe(until);
    expect((await o.owner.sweep(until - 1)).expired).toBe(0);
    expect((await o.owner.sweep(until + 5_000)).expired).toBe(1);
    await o.owner.commit();
    await o.owner.settle();
    const changes = (await events()).filter((e) => e.startsWith('change:')).map((e) => JSON.parse(e.slice('change:'.length)) as Record<string, unknown>);
    expect(changes.map((c) => [c.previous, c.current, c.occurredAt, c.time])).toEqual([
      ['low', 'high', happened, NOW],
      ['high', 'low', until, until + 5_000],
    ]);
    expect(await stored()).toMatchObject({ level: 'low', version: 2, behaviors: {} });
    expect(await redis.zscore(keys.partitionExpiry(p), user)).toBeNull();
    // Sweeping again finds nothing.
    expect((await o.owner.sweep(until + HOUR)).expired).toBe(0);
  });

  it("only the partition's owner commits an expiry: a stale owner's sweep is fenced, so each expiry is committed once", async () => {
    const users = Array.from({ length: 20 }, (_, i) => `sweep-${n}-${i}@example.com`);
    const a = await ownerOf('w#1');
    await route(users.map((u, i) => item(`${NOW - 10_000 + i}-0`, edr(u, NOW - 10_000))));
    await a.drain();
    const at = NOW + 2 * HOUR;
    const b = await ownerOf('w2#2'); // the leases moved to b; a has not noticed yet
    await b.drain(); // b loaded the committed positions (nothing new to apply)
    expect((await a.owner.sweep(at)).expired).toBe(20);
    expect((await b.owner.sweep(at)).expired).toBe(20);
    await Promise.all([a.owner.commit(), b.owner.commit()]);
    await Promise.all([a.owner.settle(), b.owner.settle()]);
    expect(a.fenced.length).toBeGreaterThan(0);
    expect(b.fenced).toEqual([]);
    for (const u of users) {
      expect((await stored(u))!, u).toMatchObject({ level: 'low', version: 2, behaviors: {} });
      expect(
        (await events(u)).map((e) => e.slice(0, e.indexOf(':'))),
        u,
      ).toEqual(['hit', 'change', 'change']);
      expect(await redis.zscore(keys.partitionExpiry(keys.partitionOf(u)), u)).toBeNull();
    }
    expect((await b.owner.sweep(at + HOUR)).expired).toBe(0);
  });
});
