/**
 * PartitionOwner with a Router on a real Redis (random prefix, purged after). Leases are faked by
 * SETting the lease keys to a token (the scripts check `GET lease == token`). Entries are applied
 * and committed and the position advances; a new owner instance after a crash (applied, not
 * committed) resumes from the committed position and ends with exactly the states, risk events and
 * outcomes of one uninterrupted run; a commit after the lease moved is fenced and writes nothing.
 */
import fc from 'fast-check';
import type { Redis } from 'ioredis';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { behavior } from '../helpers/behavior-config.js';
import { applyItems, type ApplyContext } from '../../src/engine/apply.js';
import { RoutedHandoff } from '../../src/engine/handoff.js';
import { PartitionOwner, type OwnerOptions, type OwnerParts, type StepReport } from '../../src/engine/owner.js';
import type { RoutedItem } from '../../src/engine/routed.js';
import { ROUTER_RESOURCE, Router, type RouterParts } from '../../src/engine/router.js';
import { Keys } from '../../src/keys.js';
import { compareKeys, keyId, orderKey, parseKey } from '../../src/partition.js';
import { decodeState } from '../../src/risk/state-codec.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import type { CanonicalEvent } from '../../src/types.js';
import { mergeRows } from '../../src/engine/partition-read.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const reader = redisClient();
const PARTITIONS = 4;
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
const NOW = Date.parse('2026-11-23T12:00:00Z');
const MIN = 60_000;
/** The user of the input's first reset (req-1). */
const RESET_USER = USERS[(17 * 3) % USERS.length]!;

const CTX: ApplyContext = {
  behaviors: [
    behavior('dlp_detection', { enabled: true, risk_level: 'medium', expires_after: '24h', min_severity: 'high' }),
    behavior('endpoint_detection', { enabled: true, risk_level: 'high', expires_after: '6h', min_severity: 'high' }),
  ],
  limits: { maxLogins: 10, maxAge: 7 * 24 * 60 * MIN, allowedLateness: 10 * MIN },
  now: NOW,
};

let prefix: string;
let keys: Keys;
let login: string;
let activity: string;

interface Probe {
  fenced: number[];
  errors: unknown[];
  dead: string[];
  relayed: string[];
}
let probe: Probe;

beforeEach(async () => {
  prefix = testPrefix('engine-owner');
  keys = new Keys(prefix, PARTITIONS);
  login = `${prefix}:login`;
  activity = `${prefix}:activity`;
  probe = { fenced: [], errors: [], dead: [], relayed: [] };
  await setLeases('w-a#1');
});
afterEach(async () => {
  await cleanup(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
  await reader.quit();
});

async function setLeases(token: string): Promise<void> {
  await redis.set(keys.engineLease(ROUTER_RESOURCE), token);
  for (let p = 0; p < PARTITIONS; p++) await redis.set(keys.engineLease(`p${p}`), token);
}

const routeParts: RouterParts = {
  decode: (raw) => ({ ok: true, event: JSON.parse(raw.fields.event!) as CanonicalEvent }),
  enrich: async () => {},
  deadLetter: async () => {},
};

const ownParts = (): OwnerParts => ({
  context: () => CTX,
  settings: () => ({ eventsMaxlen: 1000, now: NOW }),
  sessions: { build: () => [], prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }), after: async () => undefined },
  deadLetter: async (bad) => void probe.dead.push(...bad.map((b) => b.raw.id)),
  relay: (users) => void probe.relayed.push(...users),
  onCommitError: (err) => void probe.errors.push(err),
  onFenced: (p) => void probe.fenced.push(p),
});

function owner(opts: Partial<OwnerOptions> = {}, conn: Redis = reader, handoff?: OwnerParts['handoff']): PartitionOwner {
  return new PartitionOwner(
    redis,
    conn,
    keys,
    { lruSize: 1000, readCount: 100, commitInterval: 60_000, commitEntries: 1_000_000, ...opts },
    { ...ownParts(), ...(handoff ? { handoff } : {}) },
  );
}

interface Row {
  stream: string;
  source: number;
  id: string;
  event?: CanonicalEvent;
  reset?: { req: string; user: string };
}

/** The input: DLP and EDR events of eight users over two streams, and two resets (one of a user never seen). */
function input(from: number, to: number): Row[] {
  const rows: Row[] = [];
  for (let i = from; i < to; i++) {
    const user = USERS[(i * 3) % USERS.length]!;
    const time = NOW - 3 * 60 * MIN + i * MIN;
    const event: CanonicalEvent =
      i % 10 === 0
        ? { type: 'endpoint', id: `x-${i}`, user, time, device: { id: 'd-1' }, vendor: 'crowdstrike', detection: 'malware', severity: 'critical' }
        : { type: 'dlp', id: `d-${i}`, user, time, profile: 'pci', severity: i % 3 === 0 ? 'high' : 'low', action: 'block' };
    rows.push(i % 2 ? { stream: activity, source: 1, id: `${1000 + i}-0`, event } : { stream: login, source: 0, id: `${1000 + i}-0`, event });
    if (i === 17) rows.push({ stream: keys.controlStream, source: 2, id: `${1000 + i}-1`, reset: { req: 'req-1', user: RESET_USER } });
    if (i === 31) rows.push({ stream: keys.controlStream, source: 2, id: `${1000 + i}-1`, reset: { req: 'req-2', user: 'nobody' } });
  }
  return rows;
}

async function write(rows: Row[]): Promise<void> {
  for (const r of rows) {
    if (r.event) await redis.xadd(r.stream, r.id, 'event', JSON.stringify(r.event));
    else await redis.xadd(r.stream, r.id, 'op', 'reset', 'req', r.reset!.req, 'user', r.reset!.user, 'actor', 'admin:ops', 'reason', 'fp');
  }
}

async function route(count = 100, handoff?: RouterParts['handoff']): Promise<void> {
  const parts = handoff ? { ...routeParts, handoff } : routeParts;
  const r = new Router(redis, keys, { sources: [login, activity], group: 'riskstream', consumer: 'riskstream-router', count }, parts);
  await r.ensureGroups();
  r.start((await redis.get(keys.engineLease(ROUTER_RESOURCE))) as string);
  for (let i = 0; i < 60; i++) {
    const rep = await r.step();
    if (rep === 'fenced') throw new Error('router fenced');
    if (i > 0 && rep.read === 0 && rep.buffered === 0 && rep.routed === 0) return;
  }
  throw new Error('routing did not settle');
}

/** Steps the owner until a step reads nothing, then waits for its commit. */
async function drain(o: PartitionOwner): Promise<StepReport[]> {
  const reports: StepReport[] = [];
  for (let i = 0; i < 200; i++) {
    const r = await o.step(5);
    reports.push(r);
    if (i > 0 && r.read === 0) {
      await o.settle();
      return reports;
    }
  }
  throw new Error('owner did not catch up');
}

/** Every stored state, by user. */
async function states(): Promise<Map<string, UserState>> {
  const out = new Map<string, UserState>();
  for (let p = 0; p < PARTITIONS; p++) {
    const h = await redis.hgetallBuffer(keys.partitionState(p));
    for (const [user, blob] of Object.entries(h)) out.set(user, decodeState(blob, user)!);
  }
  return out;
}

/**
 * The committed outcome of reset request `req` (the first of the input's resets has req-1, the
 * second req-2): a found user's waits in the user's outbox for the relay (after its audit entry);
 * an unknown user's is stored at once.
 */
async function outcome(req: 'req-1' | 'req-2'): Promise<string | null> {
  const user = req === 'req-1' ? RESET_USER : 'nobody';
  const stored = await redis.get(keys.controlResult(keys.partitionOf(user), req));
  if (stored) return stored;
  for (const [, f] of await redis.xrange(keys.userOutbox(user), '-', '+')) {
    const data = JSON.parse(f[3]!) as { req?: string; outcome?: unknown };
    if (f[1] === 'result' && data.req === req) return JSON.stringify(data.outcome);
  }
  return null;
}

/** Everything a run leaves for the outside: states, each user's risk events (fields), reset outcomes, audit (in the outboxes). */
async function snapshot(): Promise<unknown> {
  const events: Record<string, string[][]> = {};
  const audit: string[][] = [];
  for (const u of [...USERS, 'nobody']) {
    events[u] = (await redis.xrange(keys.userEvents(u), '-', '+')).map(([, f]) => f);
    audit.push(...(await redis.xrange(keys.userOutbox(u), '-', '+')).map(([, f]) => f).filter((f) => f[f.indexOf('kind') + 1] === 'audit'));
  }
  const outcomes = [await outcome('req-1'), await outcome('req-2')];
  return { states: Object.fromEntries([...(await states())].sort()), events, outcomes, audit };
}

/** The states one in-order application of `rows` gives (the oracle: applyItems per user, in key order). */
function oracle(rows: Row[]): Map<string, UserState> {
  const byUser = new Map<string, RoutedItem[]>();
  for (const r of [...rows].sort((a, b) => compareKeys(orderKey(a.id, a.source), orderKey(b.id, b.source)))) {
    const k = orderKey(r.id, r.source);
    const item: RoutedItem = r.event
      ? { k: [k.ms, k.seq], s: r.stream, i: r.id, e: r.event }
      : { k: [k.ms, k.seq], s: r.stream, i: r.id, c: { op: 'reset', req: r.reset!.req, user: r.reset!.user, actor: 'admin:ops', reason: 'fp' } };
    const user = r.event?.user ?? r.reset!.user;
    byUser.set(user, [...(byUser.get(user) ?? []), item]);
  }
  const out = new Map<string, UserState>();
  for (const [user, items] of byUser) {
    const s = applyItems(user, emptyState(user), items, CTX).state;
    if (s.updatedAt > 0) out.set(user, s);
  }
  return out;
}

/** Routes and applies `first`, then `second`, with one owner of an LRU of `lruSize` states (a run each, committed). */
async function twoRuns(first: Row[], second: Row[], lruSize: number): Promise<void> {
  await write(first);
  await route();
  const o = owner({ lruSize });
  acquireAll(o, 'w-a#1');
  await drain(o);
  await write(second);
  await route();
  await drain(o);
}

function acquireAll(o: PartitionOwner, token: string): void {
  for (let p = 0; p < PARTITIONS; p++) o.acquire(p, token);
}

/**
 * Calls `onSend` with each command `conn` sends (its name and arguments), as it sends it; the
 * commands go to Redis as usual. Returns the undo.
 */
function recordSends(conn: Redis, onSend: (name: string, args: unknown[]) => void): () => void {
  const send = conn.sendCommand.bind(conn);
  conn.sendCommand = (command, stream) => {
    onSend(command.name, command.args);
    return send(command, stream);
  };
  return () => void Reflect.deleteProperty(conn, 'sendCommand');
}

describe('PartitionOwner', () => {
  it('a sweep whose partitions are rewound while it reads expires nothing there: no commit writes a partition back to 0-0', async () => {
    await write(input(0, 40));
    await route();
    const o = owner();
    acquireAll(o, 'w-a#1');
    await drain(o);
    const before = await Promise.all([...Array(PARTITIONS).keys()].map((p) => redis.hget(keys.partitionPos(p), 'pos')));
    expect(before.every((pos) => pos !== null && pos !== '0-0')).toBe(true);
    // Every state is due two days on; the partitions are rewound (a failed commit, say) once the
    // sweep has read which users are due, before it reads their states.
    const swept = o.sweep(NOW + 2 * 24 * 60 * MIN);
    o.rewindAll();
    await swept;
    await o.commit();
    await o.settle();
    const after = await Promise.all([...Array(PARTITIONS).keys()].map((p) => redis.hget(keys.partitionPos(p), 'pos')));
    expect(after).toEqual(before);
    expect(probe.errors).toEqual([]);
  });
  it("a sweep goes no further than a partition's unapplied routed backlog: the same states as sweeping after it", async () => {
    // Entry ids at the events' times: each item arrives when it happened.
    const rows = input(0, 40).map((r) => {
      const [ms, seq] = r.id.split('-');
      return { ...r, id: `${NOW - 3 * 60 * MIN + (Number(ms) - 1000) * MIN}-${seq}` };
    });
    const due = NOW + 2 * 24 * 60 * MIN; // every behavior of the input has expired by then
    // Reference: everything applied, then the sweep.
    await write(rows);
    await route(3); // small routing steps: several entries per partition stream
    const ref = owner({ readCount: 1 });
    acquireAll(ref, 'w-a#1');
    await drain(ref);
    expect((await ref.sweep(due)).expired).toBeGreaterThan(0);
    await ref.commit();
    await ref.settle();
    const expected = await states();
    await cleanup(redis, prefix);
    await setLeases('w-a#1');
    // The sweep runs after one read of one entry per partition: the rest waits in the streams.
    await write(rows);
    await route(3);
    const o = owner({ readCount: 1 });
    acquireAll(o, 'w-a#1');
    const first = await o.step(5);
    expect(first.applied).toBeGreaterThan(0);
    expect(first.caughtUp).toBe(false);
    await o.commit(); // the users applied so far are in the expiry index now
    await o.settle();
    expect((await o.sweep(due)).expired).toBe(0);
    await drain(o);
    expect((await o.sweep(due)).expired).toBeGreaterThan(0);
    await o.commit();
    await o.settle();
    expect(await states()).toEqual(expected);
    expect(probe.errors).toEqual([]);
  });

  it('entries its own router offers are taken from memory only when the stream holds exactly the offered bytes: the same result', async () => {
    const rows = input(0, 50);
    await write(rows);
    const h = new RoutedHandoff();
    let taken = 0;
    const o = owner({}, reader, {
      take: (p, id, value) => {
        const items = h.take(p, id, value);
        if (items) taken += items.length;
        return items;
      },
      forget: (p) => h.forget(p),
    });
    acquireAll(o, 'w-a#1'); // owned before routing, as in a worker (taking a partition forgets its offers)
    // Partition 0's offers are wrong (other items, other bytes): its owner must decode the stream.
    await route(7, { put: (p, id, items, bytes) => h.put(p, id, p === 0 ? [] : items, p === 0 ? Buffer.from('[]') : bytes), take: (p, id) => h.take(p, id) });
    const offered = h.size;
    expect(offered).toBeGreaterThan(0);
    await drain(o);
    expect(probe.errors).toEqual([]);
    expect(await states()).toEqual(oracle(rows));
    expect(taken).toBe(offered); // every offer of partitions 1-3 (partition 0 offered none)
    expect(taken).toBeLessThan(rows.length);
    expect(h.size).toBe(0);
  });

  it('the handoff takes an entry once, forgets a partition, and drops the oldest beyond its bound', () => {
    const item = (n: number): RoutedItem => ({ k: [n, 0], s: 'in', i: `${n}-0`, c: { op: 'reset', req: 'r', user: 'u', actor: 'a', reason: '' } });
    const h = new RoutedHandoff(3);
    const b = Buffer.from('x');
    h.put(1, '1-0', [item(1)], b);
    expect(h.take(1, '1-0', Buffer.from('y'))).toBeUndefined(); // other bytes: not taken (and gone)
    h.put(1, '1-0', [item(1)], b);
    expect(h.take(1, '1-0', Buffer.from('x'))).toEqual([item(1)]);
    expect(h.take(1, '1-0', b)).toBeUndefined();
    h.put(1, '2-0', [item(2)], b);
    h.put(2, '3-0', [item(3)], b);
    h.put(12, '4-0', [item(4)], b);
    h.forget(1);
    expect(h.size).toBe(2);
    h.put(2, '5-0', [item(5), item(6)], b); // 4 items > 3: the oldest entry goes
    expect(h.take(2, '3-0')).toBeUndefined();
    expect(h.take(12, '4-0', b)).toEqual([item(4)]);
    expect(h.take(2, '5-0', b)).toHaveLength(2);
    expect(h.size).toBe(0);
  });

  it('applies routed entries, commits states, events and outcomes, and advances each position', async () => {
    const rows = input(0, 40);
    await write(rows);
    await route();
    const o = owner();
    acquireAll(o, 'w-a#1');
    const reports = await drain(o);
    expect(probe.errors).toEqual([]);
    expect(reports.reduce((s, r) => s + r.applied, 0)).toBe(rows.length);
    expect(reports.reduce((s, r) => s + r.committed, 0)).toBeGreaterThan(0);

    const stored = await states();
    expect(stored).toEqual(oracle(rows));
    expect([...stored.values()].map((s) => s.level)).toContain('high');
    expect([...stored.values()].map((s) => s.level)).toContain('medium');
    expect(stored.has('nobody')).toBe(false);
    expect(JSON.parse((await outcome('req-1'))!)).toMatchObject({ found: true, level: 'low' });
    expect(JSON.parse((await outcome('req-2'))!)).toEqual({ found: false });
    expect(probe.relayed.length).toBeGreaterThan(0);

    for (let p = 0; p < PARTITIONS; p++) {
      const mine = rows.filter((r) => keys.partitionOf(r.event?.user ?? r.reset!.user) === p).map((r) => orderKey(r.id, r.source));
      if (!mine.length) continue;
      const top = mine.sort(compareKeys).at(-1)!;
      expect(await redis.hgetall(keys.partitionPos(p))).toMatchObject({ pos: keyId(top), token: 'w-a#1' });
      expect(await redis.xlen(keys.partitionIn(p))).toBe(0); // trimmed up to and including the position
    }

    // More input: applied from the committed position on, nothing applied twice.
    const more = input(40, 50);
    await write(more);
    await route();
    const again = await drain(o);
    expect(again.reduce((s, r) => s + r.applied, 0)).toBe(more.length);
    expect(await states()).toEqual(oracle([...rows, ...more]));
  });

  it('woken from a blocking read by the router writing several partitions at once, one step applies them all', async () => {
    const o = owner();
    acquireAll(o, 'w-a#1');
    expect((await o.step(5)).read).toBe(0); // positions loaded, nothing yet
    const blocked = o.step(5000);
    await new Promise((r) => setTimeout(r, 100)); // the owner is blocked on its partitions by now
    const rows = input(0, 12);
    await write(rows);
    await route(); // one routing step: one entry in each partition with input, written together
    const written = (await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => redis.xlen(keys.partitionIn(p))))).filter((n) => n > 0).length;
    expect(written).toBeGreaterThan(1);
    const first = await blocked;
    expect(first.read).toBe(written); // not only the partition that woke it
    expect(first.applied).toBe(rows.length);
    await drain(o);
    expect(await states()).toEqual(oracle(rows));
  });

  it('mergeRows joins a second read to the first: one row per stream, entries in order', () => {
    const b = (s: string): Buffer => Buffer.from(s);
    const e = (id: string): [Buffer, Buffer[]] => [b(id), [b('b'), b('x')]];
    const rows = mergeRows(
      [[b('s1'), [e('1-0')]]],
      [
        [b('s2'), [e('2-0')]],
        [b('s1'), [e('3-0'), e('4-0')]],
      ],
    );
    expect(rows.map(([s, es]) => [s.toString(), es.map(([id]) => id.toString())])).toEqual([
      ['s1', ['1-0', '3-0', '4-0']],
      ['s2', ['2-0']],
    ]);
  });

  it('a new owner after a crash (applied, not committed) resumes from the committed position: the same result as one run', async () => {
    const first = input(0, 24);
    const second = input(24, 50);
    // The reference: one uninterrupted run.
    await write([...first, ...second]);
    await route();
    const single = owner();
    acquireAll(single, 'w-a#1');
    await drain(single);
    const want = await snapshot();
    expect((want as { states: object }).states).toEqual(Object.fromEntries([...oracle([...first, ...second])].sort()));
    expect((want as { audit: unknown[] }).audit).toHaveLength(1); // the found reset's entry, in its user's outbox

    // Again from scratch: the first owner commits the first part, applies some of the rest and dies.
    await cleanup(redis, prefix);
    await setLeases('w-a#1');
    await write(first);
    await route(3);
    const crashing = owner({ readCount: 1 }); // a step that reads anything is not caught up: no commit
    acquireAll(crashing, 'w-a#1');
    await drain(crashing);
    const committed = await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => redis.hget(keys.partitionPos(p), 'pos')));
    await write(second);
    await route(3);
    const step = await crashing.step(5);
    expect(step.applied).toBeGreaterThan(0);
    expect(step.committed).toBe(0);
    expect(await Promise.all(Array.from({ length: PARTITIONS }, (_, p) => redis.hget(keys.partitionPos(p), 'pos')))).toEqual(committed);

    // Its successor: a new instance, a new epoch, a tiny cache (states come back from Redis).
    await setLeases('w-b#2');
    const conn = redisClient();
    const successor = owner({ lruSize: 2, readCount: 2 }, conn);
    acquireAll(successor, 'w-b#2');
    const reports = await drain(successor).finally(() => conn.quit());
    // It resumed from each committed position: it applied exactly the items after it.
    const after = [...first, ...second].filter((r) => {
      const pos = committed[keys.partitionOf(r.event?.user ?? r.reset!.user)];
      return !pos || compareKeys(orderKey(r.id, r.source), parseKey(pos)) > 0;
    });
    expect(after.length).toBeLessThan(first.length + second.length);
    expect(reports.reduce((s, r) => s + r.applied, 0)).toBe(after.length);
    expect(probe.errors).toEqual([]);
    expect(await snapshot()).toEqual(want);
    expect(await redis.hget(keys.partitionPos(0), 'token')).toBe('w-b#2');
  });

  it('items routed twice (the group rewound, re-read in other batches) are skipped by their order key', async () => {
    const first = input(0, 30);
    await write(first);
    await route();
    for (const st of [login, activity, keys.controlStream]) await redis.xgroup('SETID', st, 'riskstream', '0');
    const second = input(30, 40);
    await write(second);
    await route(8); // re-routes everything: entries mixing routed and new items
    const o = owner({ readCount: 5 });
    acquireAll(o, 'w-a#1');
    const reports = await drain(o);
    expect(reports.reduce((s, r) => s + r.skipped, 0)).toBeGreaterThan(0);
    expect(reports.reduce((s, r) => s + r.applied, 0)).toBe(first.length + second.length);
    expect(await states()).toEqual(oracle([...first, ...second]));
    const events = (await redis.xrange(keys.userEvents('alice'), '-', '+')).map(([, f]) => JSON.parse(f[3]!) as { eventIds?: string[] });
    const ids = events.flatMap((e) => e.eventIds ?? []);
    expect(ids).toEqual([...new Set(ids)]); // no hit made twice
  });

  it('a state cache smaller than the users of one step loses no state (states evicted mid-step are not taken for new users)', async () => {
    const first = input(0, 24);
    const second = input(24, 50);
    await twoRuns(first, second, 1); // one step sees several known users of a partition: more than the cache holds
    expect(probe.errors).toEqual([]);
    expect(await states()).toEqual(oracle([...first, ...second]));
  });

  for (const act of ['rewound', 'lost and taken again'] as const)
    it(`a partition whose states are loading when it is ${act} is not applied from that read: each item once`, async () => {
      const rows = input(0, 40);
      await write(rows);
      await route();
      const moved = keys.partitionOf(rows[0]!.event!.user);
      if (act !== 'rewound') await redis.set(keys.engineLease(`p${moved}`), 'w-a#2'); // the token it is taken again with
      const o = owner(); // nothing cached: every partition of the first step waits for its states
      acquireAll(o, 'w-a#1');
      // The step's state load: meanwhile every partition is rewound (a failed commit), or one is
      // lost and acquired again (a new lease epoch): another object, read again from its position.
      const load = redis.hmgetBuffer.bind(redis);
      let hooked = false;
      redis.hmgetBuffer = ((...args: Parameters<typeof load>) => {
        if (!hooked) {
          hooked = true;
          if (act === 'rewound') o.rewindAll();
          else {
            o.lose(moved);
            o.acquire(moved, 'w-a#2');
          }
        }
        return load(...args);
      }) as typeof redis.hmgetBuffer;
      try {
        await drain(o);
      } finally {
        redis.hmgetBuffer = load;
      }
      expect(hooked).toBe(true);
      expect(probe.errors).toEqual([]);
      expect(probe.fenced).toEqual([]);
      expect(await states()).toEqual(oracle(rows));
    });

  it("a known user's state is held for the step: the loads of a partition's new users evicting it from a full cache lose nothing", async () => {
    // K and M share partition P; U is in a later partition Q. A cache of 2 holds K and U after the
    // first run; in the second, P waits for M's state while Q applies, and M's load evicts K.
    const byPart = new Map<number, string[]>();
    for (let i = 0; i < 64; i++) {
      const u = `user-${i}@example.com`;
      byPart.set(keys.partitionOf(u), [...(byPart.get(keys.partitionOf(u)) ?? []), u]);
    }
    const parts = [...byPart.keys()].sort((a, b) => a - b);
    const [k, m] = byPart.get(parts[0]!)!;
    const u = byPart.get(parts[1]!)![0]!;
    const dlp = (user: string, i: number): Row => ({
      stream: activity,
      source: 1,
      id: `${2000 + i}-0`,
      event: { type: 'dlp', id: `k-${i}`, user, time: NOW - 60 * MIN + i * MIN, profile: 'pci', severity: 'high', action: 'block' },
    });
    const first = [dlp(k!, 0), dlp(u, 1), dlp(k!, 2)];
    const second = [dlp(k!, 3), dlp(m!, 4), dlp(u, 5)];
    await twoRuns(first, second, 2);
    expect(probe.errors).toEqual([]);
    expect(await states()).toEqual(oracle([...first, ...second]));
  });

  it("under a backlog each step sends its successor's read ahead of its commit: the read leaves first, every item applied once", async () => {
    const rows = input(0, 50);
    await write(rows);
    await route(3); // many small partition entries
    // The reads and commit scripts as the owner sends them, on either connection. Not the order
    // Redis runs them in: it serves two connections in the order it finds them readable, which
    // on a loaded machine is now and then not the order they were sent in.
    const sent: string[] = [];
    const stop = [
      recordSends(reader, (name, args) => {
        if (name === 'xread' && args.some((a) => String(a).startsWith(prefix))) sent.push('read');
      }),
      // The commit script's first key is a partition lease of this prefix, of its two keys (the
      // attempt count of a partition taken, src/engine/poison-guard.ts, names three).
      recordSends(redis, (name, args) => {
        if (name === 'evalsha' && String(args[1]) === '2' && String(args[2]).startsWith(prefix) && String(args[2]).includes(':lease')) sent.push('commit');
      }),
    ];
    // One entry per partition a step, a commit due after each: never caught up until the end.
    const o = owner({ readCount: 1, commitEntries: 1 });
    acquireAll(o, 'w-a#1');
    const reports = await drain(o).finally(() => stop.forEach((s) => s()));
    expect(probe.errors).toEqual([]);
    expect(reports.reduce((s, r) => s + r.applied, 0)).toBe(rows.length);
    expect(await states()).toEqual(oracle(rows));
    // Runs of commit scripts (one per partition of a step) and the reads between them.
    const runs = sent
      .join(' ')
      .replace(/(commit ?)+/g, 'C ')
      .trim();
    expect(runs.split(' ').filter((x) => x === 'C').length).toBeGreaterThan(3);
    // Every step with more to read sent its next read before its commit: read, read, C, read, C … ;
    // without the read ahead each commit would go before the read after it (read, C, read, C …).
    expect(runs).toMatch(/^read( read C)+$/);
  });

  it('a read sent ahead is dropped when its partitions are rewound or lost: nothing applied from old cursors, nothing twice', async () => {
    const rows = input(0, 50);
    await write(rows);
    await route(3);
    const moved = keys.partitionOf(rows[0]!.event!.user);
    const o = owner({ readCount: 1, commitEntries: 1 });
    acquireAll(o, 'w-a#1');
    await o.step(5); // applies, sends the next read ahead, then a commit
    await redis.set(keys.engineLease(`p${moved}`), 'w-b#2'); // the commit in flight or the next is fenced
    await drain(o);
    expect(probe.fenced).toEqual([moved]);
    const others = [...oracle(rows)].filter(([u]) => keys.partitionOf(u) !== moved);
    expect(new Map([...(await states())].filter(([u]) => keys.partitionOf(u) !== moved))).toEqual(new Map(others));
    // The moved partition resumes elsewhere from its committed position: what this owner committed of it is a prefix.
    const conn = redisClient();
    const successor = owner({ readCount: 1, commitEntries: 1 }, conn);
    await setLeases('w-b#2');
    acquireAll(successor, 'w-b#2');
    await drain(successor).finally(() => conn.quit());
    expect(await states()).toEqual(oracle(rows));
  });

  it('any cache size, read size and commit grouping gives the states of one in-order run', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.record({
          lru: fc.integer({ min: 1, max: 4 }),
          read: fc.integer({ min: 1, max: 4 }),
          commit: fc.integer({ min: 1, max: 30 }),
          route: fc.integer({ min: 1, max: 6 }),
        }),
        async (c) => {
          await cleanup(redis, prefix);
          await setLeases('w-a#1');
          const rows = input(0, 60);
          await write(rows.slice(0, 30));
          await route(c.route);
          const o = owner({ lruSize: c.lru, readCount: c.read, commitEntries: c.commit });
          acquireAll(o, 'w-a#1');
          await drain(o);
          await write(rows.slice(30));
          await route(c.route);
          await drain(o);
          expect(probe.errors).toEqual([]);
          expect(await states()).toEqual(oracle(rows));
        },
      ),
      { numRuns: 25, seed: 16, endOnFailure: true },
    );
  });

  it('a commit after the lease moved is fenced: onFenced, nothing of that partition written, the partition dropped', async () => {
    const rows = input(0, 40);
    await write(rows);
    await route();
    const moved = keys.partitionOf(rows[0]!.event!.user);
    const o = owner();
    acquireAll(o, 'w-a#1');
    await redis.set(keys.engineLease(`p${moved}`), 'w-b#2'); // taken over while this owner reads and applies
    await drain(o);
    expect(probe.fenced).toEqual([moved]);
    expect(o.partitions()).not.toContain(moved);
    expect(await redis.exists(keys.partitionState(moved), keys.partitionPos(moved), keys.partitionExpiry(moved))).toBe(0);
    const movedUsers = USERS.filter((u) => keys.partitionOf(u) === moved);
    for (const u of movedUsers) expect(await redis.exists(keys.userEvents(u), keys.userOutbox(u))).toBe(0);
    expect(await redis.xlen(keys.partitionIn(moved))).toBeGreaterThan(0); // not trimmed
    // The other partitions committed as usual.
    const others = [...oracle(rows)].filter(([u]) => keys.partitionOf(u) !== moved);
    expect(others.length).toBeGreaterThan(0);
    expect(await states()).toEqual(new Map(others));
  });
});
