/**
 * Router on a real Redis (random prefix, purged after): input streams merged by order key into
 * partition streams whose entry ids are the highest key they hold; re-routing (a successor after a
 * crash between routing and ack, or the group rewound) adds nothing the owner would apply twice;
 * a stale lease is fenced before reading; undecodable entries are dead-lettered and acked; a
 * stream that lags never lets another stream's later entries overtake it (the watermark).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { decodeRouted, type RoutedItem } from '../../src/engine/routed.js';
import { ROUTER_RESOURCE, Router, type RouterParts, type RouteReport } from '../../src/engine/router.js';
import { Keys } from '../../src/keys.js';
import { compareKeys, keyId, orderKey, type OrderKey } from '../../src/partition.js';
import type { CanonicalEvent, RawEntry } from '../../src/types.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const TOKEN = 'w-a#1';
const GROUP = 'riskstream';
const PARTITIONS = 4;
const USERS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace', 'heidi'];
let prefix: string;
let keys: Keys;
let login: string;
let activity: string;
let dead: Array<{ raw: RawEntry; reason: string }>;

beforeEach(async () => {
  prefix = testPrefix('engine-router');
  keys = new Keys(prefix, PARTITIONS);
  login = `${prefix}:login`;
  activity = `${prefix}:activity`;
  dead = [];
  await redis.set(keys.engineLease(ROUTER_RESOURCE), TOKEN);
});
afterEach(async () => {
  await cleanup(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

/** Test ingest: `event` is the canonical event's JSON; `bad` is undecodable; `boom` makes decode throw. */
function parts(over: Partial<RouterParts> = {}): RouterParts {
  return {
    decode: (raw) => {
      if (raw.fields.boom) throw Object.assign(new Error('boom'), { code: 'EVENT_INVALID' });
      if (raw.fields.bad) return { ok: false, reason: `bad: ${raw.fields.bad}` };
      return { ok: true, event: JSON.parse(raw.fields.event!) as CanonicalEvent };
    },
    enrich: async () => {},
    deadLetter: async (bad) => void dead.push(...bad),
    ...over,
  };
}

async function router(count = 100, p: RouterParts = parts()): Promise<Router> {
  const r = new Router(redis, keys, { sources: [login, activity], group: GROUP, consumer: 'riskstream-router', count }, p);
  await r.ensureGroups();
  r.start(TOKEN);
  return r;
}

/** Adds an event entry with an explicit id. */
async function add(stream: string, id: string, user: string): Promise<void> {
  const e: CanonicalEvent = { type: 'dlp', id: `${stream.slice(-5)}/${id}`, user, time: 1_700_000_000_000, severity: 'high' };
  await redis.xadd(stream, id, 'event', JSON.stringify(e));
}

/** Steps until a step reads nothing and holds nothing back. */
async function routeAll(r: Router, max = 60): Promise<RouteReport[]> {
  const reports: RouteReport[] = [];
  for (let i = 0; i < max; i++) {
    const rep = await r.step();
    if (rep === 'fenced') throw new Error('fenced');
    reports.push(rep);
    if (i > 0 && rep.read === 0 && rep.buffered === 0 && rep.routed === 0) return reports;
  }
  throw new Error('routing did not settle');
}

interface Entry {
  id: string;
  items: RoutedItem[];
}

/** Every partition stream's entries, decoded. */
async function partitionEntries(): Promise<Map<number, Entry[]>> {
  const out = new Map<number, Entry[]>();
  for (let p = 0; p < PARTITIONS; p++) {
    const rows = await redis.xrangeBuffer(keys.partitionIn(p), '-', '+');
    out.set(
      p,
      rows.map(([id, f]) => ({ id: id.toString(), items: decodeRouted(f[1]!) })),
    );
  }
  return out;
}

const keyOf = (it: RoutedItem): OrderKey => ({ ms: it.k[0], seq: it.k[1] });
const userOf = (it: RoutedItem): string => ('e' in it ? it.e.user : it.c.user);

/** What an owner applies from a partition: items in stream order, those not above the last applied skipped. */
function ownerView(entries: Entry[]): RoutedItem[] {
  let applied: OrderKey = { ms: 0, seq: 0 };
  const out: RoutedItem[] = [];
  for (const e of entries)
    for (const it of e.items)
      if (compareKeys(keyOf(it), applied) > 0) {
        out.push(it);
        applied = keyOf(it);
      }
  return out;
}

/** Asserts the layout invariants: entry id = its top key, items and entries ascending, each user in its partition. */
function checkLayout(all: Map<number, Entry[]>): void {
  for (const [p, entries] of all) {
    let last: OrderKey = { ms: 0, seq: 0 };
    for (const e of entries) {
      expect(e.items.length).toBeGreaterThan(0);
      expect(e.id).toBe(keyId(keyOf(e.items.at(-1)!)));
      for (const it of e.items) {
        expect(compareKeys(keyOf(it), last)).toBeGreaterThan(0);
        expect(keys.partitionOf(userOf(it))).toBe(p);
        last = keyOf(it);
      }
    }
  }
}

async function pending(stream: string): Promise<number> {
  return Number(((await redis.xpending(stream, GROUP)) as [number])[0]);
}

/** An interleaved input: login and activity entries alternate in id, one id on both streams, a reset. */
async function interleaved(): Promise<Array<{ stream: string; source: number; id: string; user: string }>> {
  const rows: Array<{ stream: string; source: number; id: string; user: string }> = [];
  let i = 0;
  for (let ms = 1000; ms < 1024; ms++) {
    const onLogin = ms % 2 === 0 || ms === 1011;
    const onActivity = ms % 2 === 1;
    if (onLogin) rows.push({ stream: login, source: 0, id: `${ms}-0`, user: USERS[i++ % USERS.length]! });
    if (onActivity) rows.push({ stream: activity, source: 1, id: `${ms}-0`, user: USERS[i++ % USERS.length]! });
    if (ms === 1011) rows.push({ stream: login, source: 0, id: '1011-1', user: 'alice' });
  }
  for (const r of rows) await add(r.stream, r.id, r.user);
  await redis.xadd(keys.controlStream, '1015-3', 'op', 'reset', 'req', 'r-1', 'user', 'bob', 'actor', 'admin:ops', 'reason', 'fp');
  rows.push({ stream: keys.controlStream, source: 2, id: '1015-3', user: 'bob' });
  return rows;
}

const expectedKeys = (rows: Array<{ source: number; id: string }>): OrderKey[] => rows.map((r) => orderKey(r.id, r.source)).sort(compareKeys);

describe('Router', () => {
  it('interleaved input streams: partition streams hold every item once, in key order, entry id = top key', async () => {
    const rows = await interleaved();
    const r = await router();
    const reports = await routeAll(r);
    expect(reports.reduce((s, x) => s + x.routed, 0)).toBe(rows.length);
    const all = await partitionEntries();
    checkLayout(all);
    const items = [...all.values()].flatMap((es) => es.flatMap((e) => e.items));
    expect(items.map(keyOf).sort(compareKeys)).toEqual(expectedKeys(rows));
    for (const row of rows) {
      const it = items.find((x) => x.s === row.stream && x.i === row.id)!;
      expect(userOf(it)).toBe(row.user);
      expect(keyOf(it)).toEqual(orderKey(row.id, row.source));
    }
    expect(items.find((x) => 'c' in x)).toMatchObject({ c: { op: 'reset', req: 'r-1', user: 'bob', actor: 'admin:ops', reason: 'fp' } });
    // 1011-0 is on both streams: the login (source 0) comes first.
    const tie = items.filter((x) => x.i === '1011-0').sort((a, b) => compareKeys(keyOf(a), keyOf(b)));
    expect(tie.map((x) => x.s)).toEqual([login, activity]);
    for (const s of [login, activity, keys.controlStream]) expect(await pending(s)).toBe(0);
    expect(dead).toEqual([]);
  });

  it('a successor after a crash between routing and ack re-routes the pending entries and adds no partition entry', async () => {
    const rows = await interleaved();
    await redis.xadd(activity, '1030-0', 'bad', 'yes'); // makes the step dead-letter (which fails) before it acks
    const first = await router(100, parts({ deadLetter: () => Promise.reject(new Error('crash')) }));
    await expect(routeAll(first)).rejects.toThrow('crash');
    const before = await partitionEntries();
    expect([...before.values()].flat().length).toBeGreaterThan(0); // routed …
    expect((await pending(login)) + (await pending(activity))).toBe(rows.length); // … never acked

    const second = await router();
    await routeAll(second);
    const after = await partitionEntries();
    expect(after).toEqual(before);
    for (const s of [login, activity, keys.controlStream]) expect(await pending(s)).toBe(0);
    expect(dead.map((d) => d.raw.id)).toEqual(['1030-0']);

    await add(login, '1040-0', 'alice');
    await routeAll(second);
    const more = await partitionEntries();
    checkLayout(more);
    expect(
      [...more.values()]
        .flatMap((es) => es.flatMap((e) => e.items))
        .map(keyOf)
        .sort(compareKeys),
    ).toEqual(expectedKeys([...rows, { source: 0, id: '1040-0' }]));
  });

  it('the group rewound (XGROUP SETID 0), re-read in other batches: the owner sees every item once, in order', async () => {
    const rows = await interleaved();
    await routeAll(await router());
    for (const s of [login, activity, keys.controlStream]) await redis.xgroup('SETID', s, GROUP, '0');
    await add(login, '1100-0', 'carol');
    await add(activity, '1101-0', 'dave');
    const all = [...rows, { stream: login, source: 0, id: '1100-0', user: 'carol' }, { stream: activity, source: 1, id: '1101-0', user: 'dave' }];
    await routeAll(await router(3)); // different batches: some entries mix old and new items
    const entries = await partitionEntries();
    const seen: OrderKey[] = [];
    for (const [p, es] of entries) {
      const view = ownerView(es);
      const want = all.filter((r) => keys.partitionOf(r.user) === p);
      expect(view.map(keyOf)).toEqual(expectedKeys(want));
      seen.push(...view.map(keyOf));
    }
    expect(seen.sort(compareKeys)).toEqual(expectedKeys(all));
  });

  it('a router whose streams a newer router fenced is fenced before it reads anything', async () => {
    await interleaved();
    for (const s of [login, activity, keys.controlStream]) await redis.set(keys.routerFence(s), 'w-b#2');
    const r = await router();
    expect(await r.step()).toBe('fenced');
    expect(r.active).toBe(false);
    expect(await r.step()).toBe('fenced');
    for (const s of [login, activity]) {
      expect(await pending(s)).toBe(0);
      expect(await redis.xinfo('CONSUMERS', s, GROUP)).toEqual([]); // never read by the group
      expect(await redis.get(keys.routerFence(s))).toBe('w-b#2'); // an older router never takes a fence back
    }
    expect([...(await partitionEntries()).values()].flat()).toEqual([]);
  });

  it('a router of a newer lease epoch fences the older one at its first read; the older one reads nothing more', async () => {
    await interleaved();
    const a = await router();
    expect(await a.step()).not.toBe('fenced');
    const b = new Router(redis, keys, { sources: [login, activity], group: GROUP, consumer: 'router-b', count: 1000 }, parts());
    b.start('w-b#9');
    await redis.xadd(login, '*', 'event', JSON.stringify({ type: 'login', id: 'late', user: 'alice', time: Date.now() - 1000, outcome: 'success' }));
    expect(await b.step()).not.toBe('fenced');
    for (const s of [login, activity, keys.controlStream]) expect(await redis.get(keys.routerFence(s))).toBe('w-b#9');
    expect(await a.step()).toBe('fenced');
    expect(a.active).toBe(false);
  });

  it('undecodable entries (and invalid control requests) are dead-lettered with a reason and acked', async () => {
    await add(login, '1000-0', 'alice');
    await redis.xadd(login, '1001-0', 'bad', 'no-user');
    await redis.xadd(activity, '1002-0', 'boom', '1');
    await redis.xadd(keys.controlStream, '1003-0', 'op', 'nuke', 'req', 'r', 'user', 'bob', 'actor', 'a');
    await redis.xadd(keys.controlStream, '1004-0', 'op', 'reset', 'user', 'bob');
    await redis.xadd(keys.controlStream, '1004-1', 'op', 'reset', 'req', 'r2', 'user', 'bob', 'actor', 'a'.repeat(900));
    await add(activity, '1005-0', 'bob');
    const reports = await routeAll(await router());
    expect(reports.reduce((s, x) => s + x.deadLettered, 0)).toBe(5);
    expect(dead.map((d) => [d.raw.stream, d.raw.id, d.reason]).sort()).toEqual(
      [
        [login, '1001-0', 'bad: no-user'],
        [activity, '1002-0', 'decode_failed: EVENT_INVALID'],
        [keys.controlStream, '1003-0', 'control_invalid: op must be reset or revoke_sessions'],
        [keys.controlStream, '1004-0', 'control_invalid: req, user and actor are required'],
        [keys.controlStream, '1004-1', 'control_invalid: a field is longer than riskstream writes it'],
      ].sort(),
    );
    expect(dead.find((d) => d.raw.id === '1001-0')!.raw.fields).toEqual({ bad: 'no-user' });
    for (const s of [login, activity, keys.controlStream]) expect(await pending(s)).toBe(0);
    const items = [...(await partitionEntries()).values()].flatMap((es) => es.flatMap((e) => e.items));
    expect(items.map((x) => x.i).sort()).toEqual(['1000-0', '1005-0']);
  });

  it('a flat entry giving a field twice (user alice … user bob) is dead-lettered, not guessed; routing goes on', async () => {
    await add(login, '1000-0', 'alice');
    await redis.xadd(login, '1001-0', 'type', 'login', 'user', 'alice@example.com', 'user', 'bob@example.com', 'time', '1795420800000');
    await add(login, '1002-0', 'carol');
    await routeAll(await router());
    expect(dead.map((d) => [d.raw.id, d.reason])).toEqual([['1001-0', 'field "user": given more than once in the entry']]);
    // Both values reach the dead letter: the last in `fields`, the earlier one in `repeated`.
    expect(dead[0]!.raw.fields.user).toBe('bob@example.com');
    expect(dead[0]!.raw.repeated).toEqual([['user', 'alice@example.com']]);
    expect(await pending(login)).toBe(0);
    const items = [...(await partitionEntries()).values()].flatMap((es) => es.flatMap((e) => e.items));
    expect(items.map((x) => x.i).sort()).toEqual(['1000-0', '1002-0']);
  });

  it('an explicit entry id whose sequence number no order key can hold is dead-lettered and acked; routing goes on', async () => {
    await add(login, '1000-0', 'alice');
    await add(login, '1001-18446744073709551614', 'bob');
    await add(activity, '1002-0', 'carol');
    await add(login, '1003-0', 'dave');
    await routeAll(await router());
    expect(dead.map((d) => [d.raw.id, d.reason])).toEqual([
      ['1001-18446744073709551614', 'entry id: sequence number too large to order (input ids must come from *)'],
    ]);
    for (const st of [login, activity]) expect(await pending(st)).toBe(0);
    const items = [...(await partitionEntries()).values()].flatMap((es) => es.flatMap((e) => e.items));
    expect(items.map((x) => x.i).sort()).toEqual(['1000-0', '1002-0', '1003-0']);
  });

  it('a lagging stream holds the watermark: no later entry of another stream is routed before its older entries', async () => {
    // login has many entries (read 2 per step); activity's few entries are all later than most of them.
    const rows: Array<{ stream: string; source: number; id: string; user: string }> = [];
    for (let i = 0; i < 14; i++) rows.push({ stream: login, source: 0, id: `${1000 + i}-0`, user: USERS[i % USERS.length]! });
    for (const ms of [1003, 1006, 1006, 1013, 1020]) {
      const id = `${ms}-${rows.filter((r) => r.stream === activity && r.id.startsWith(`${ms}-`)).length}`;
      rows.push({ stream: activity, source: 1, id, user: USERS[(ms * 7) % USERS.length]! });
    }
    for (const r of rows) await add(r.stream, r.id, r.user);
    const r = await router(2);
    let routedMax: OrderKey = { ms: 0, seq: 0 };
    let seen = new Map<number, number>();
    let buffered = 0;
    for (let step = 0; step < 40; step++) {
      const rep = await r.step();
      if (rep === 'fenced') throw new Error('fenced');
      buffered = Math.max(buffered, rep.buffered);
      const now = await partitionEntries();
      const fresh = [...now].flatMap(([p, es]) => es.slice(seen.get(p) ?? 0).flatMap((e) => e.items));
      seen = new Map([...now].map(([p, es]) => [p, es.length]));
      if (fresh.length) {
        const keysNow = fresh.map(keyOf).sort(compareKeys);
        expect(compareKeys(keysNow[0]!, routedMax)).toBeGreaterThan(0); // nothing routed later is older than what was routed before
        routedMax = keysNow.at(-1)!;
      }
      if (step > 0 && rep.read === 0 && rep.buffered === 0 && rep.routed === 0) break;
    }
    expect(buffered).toBeGreaterThan(0); // activity entries were held back
    const items = [...(await partitionEntries()).values()].flatMap((es) => es.flatMap((e) => e.items));
    expect(items.map(keyOf).sort(compareKeys)).toEqual(expectedKeys(rows));
  });

  it('events derived at the edge take the next sub-indexes of their entry in their own user’s partition, and go there', async () => {
    await add(login, '1000-0', 'alice');
    await add(login, '1001-0', 'bob');
    const enrich: RouterParts['enrich'] = async (events) => {
      const first = events.find((e) => e.ref.id === '1000-0')!;
      events.push(...['victim-1', 'victim-2', 'victim-5'].map((user) => ({ ...first, event: { ...first.event, user } })));
      events.push({ ref: { stream: login, id: '999-0' }, event: { ...first.event, user: 'stray' }, deliveries: 1 }); // not from a routed entry
    };
    await routeAll(await router(100, parts({ enrich })));
    const items = [...(await partitionEntries()).values()].flatMap((es) => es.flatMap((e) => e.items));
    const base = orderKey('1000-0', 0);
    const byUser = new Map(items.map((x) => [userOf(x), keyOf(x)]));
    expect(byUser.get('alice')).toEqual(base);
    // Sub-indexes count per partition: the next one there after the entry's key (victim-1 and victim-5 share one, victim-2 has its own).
    const subs = new Map<number, number>();
    for (const user of ['victim-1', 'victim-2', 'victim-5']) {
      const p = keys.partitionOf(user);
      subs.set(p, (subs.get(p) ?? 0) + 1);
      expect(byUser.get(user)).toEqual({ ms: base.ms, seq: base.seq + subs.get(p)! });
    }
    expect(byUser.has('stray')).toBe(false);
    expect(items.filter((x) => x.i === '1000-0')).toHaveLength(4);
    checkLayout(await partitionEntries());
  });
});
