/**
 * The partition commit on a real Redis (random prefix, purged after): commitOps' packed commands
 * run by the lease-fenced commit script — states, risk events, outbox, indexes, reset outcomes,
 * audit entries (into the reset user's outbox), the position, the partition stream trimmed below it — a wrong token writes
 * nothing, and binary state blobs and arguments of every MessagePack length class survive.
 */
import { Packr } from 'msgpackr';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { commitOps, emptyDelta, positionArg, type CommitSettings, type PartitionDelta } from '../../src/engine/commit.js';
import { packOps } from '../../src/redis/pack-ops.js';
import { Keys } from '../../src/keys.js';
import { keyId, partitionOf, type OrderKey } from '../../src/partition.js';
import { scriptsOn } from '../../src/redis/scripts.js';
import { decodeState } from '../../src/risk/state-codec.js';
import { emptyState, nextExpiry, type UserState } from '../../src/risk/state.js';
import { levelScore } from '../../src/risk/store.js';
import type { LevelChange } from '../../src/types.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const scripts = scriptsOn(redis);
const NOW = Date.parse('2026-11-23T12:00:00Z');
const PARTITIONS = 9;
/** The partition of the delta's users, alice and bob (one partition of 9: a commit writes only its own users' keys). */
const P = partitionOf('alice', PARTITIONS);
const TOKEN = 'w-a#1';
let prefix: string;
let keys: Keys;

beforeEach(() => {
  prefix = testPrefix('engine-commit');
  keys = new Keys(prefix, PARTITIONS);
});
afterEach(async () => {
  await cleanup(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

const settings = (): CommitSettings => ({ eventsMaxlen: 100, now: NOW });

/** A state with an active behavior (so it has an expiry) and binary-unfriendly numbers. */
function highState(user: string): UserState {
  return {
    ...emptyState(user),
    level: 'high',
    version: 1,
    changedAt: NOW - 1000,
    updatedAt: NOW,
    behaviors: {
      endpoint_detection: {
        level: 'high',
        firstAt: NOW - 5000,
        lastAt: NOW - 5000,
        expiresAt: NOW + 3_600_000,
        hits: 1,
        summary: 'malware',
        evidence: { score: 0.87 },
      },
    },
    windows: { brute_force: { t: [NOW - 1.5, -1, 2 ** 40, 0xff] } },
  };
}

function change(user: string): LevelChange {
  return {
    id: 'c-1',
    user,
    version: 1,
    previous: 'low',
    current: 'high',
    behaviors: ['endpoint_detection'],
    reason: 'malware',
    initiatingEntity: 'system',
    time: NOW,
    occurredAt: NOW - 5000,
  };
}

/** A delta of partition P: two users, one hit and one change, a reset outcome and an audit entry. */
function delta(pos: OrderKey): PartitionDelta {
  const d = emptyDelta(P, pos);
  d.states.set('alice', highState('alice'));
  d.states.set('bob', { ...emptyState('bob'), updatedAt: NOW });
  d.events.push({
    user: 'alice',
    kind: 'hit',
    data: { behavior: 'endpoint_detection', level: 'high', time: NOW - 5000, summary: 'malware', evidence: {}, eventIds: ['x-1'] },
  });
  d.events.push({ user: 'alice', kind: 'change', data: change('alice') });
  d.results.push({ req: 'req-1', user: 'carol', outcome: { found: false } });
  d.results.push({ req: 'req-2', user: 'bob', outcome: { found: true, previous: 'high', level: 'low', version: 2, change: null } });
  d.audits.push({ action: 'risk.reset', actor: 'admin:ops', target: 'bob', time: NOW, details: { reason: 'x' } });
  d.applied = 3;
  return d;
}

/** The number of commands a commit ran, or -1 when fenced. */
const count = (r: -1 | [number, unknown[], string[][]]): number => (r === -1 ? -1 : r[0]);

/** Commits `d`; the number of commands run, or -1 when fenced. */
async function commit(d: PartitionDelta, token: string, indexed: (u: string) => string | undefined = () => undefined): Promise<number> {
  const { ops } = commitOps(keys, d, settings(), indexed);
  const r = await scripts.engineCommit(2, keys.engineLease(`p${P}`), keys.partitionPos(P), token, ops, positionArg(d), keys.partitionIn(P));
  return r === -1 ? -1 : r[0];
}

/** Every key under the prefix. */
async function allKeys(): Promise<string[]> {
  return (await redis.keys(`${prefix}:*`)).sort();
}

describe('engine commit script', () => {
  it('writes states, events, outbox, indexes, outcomes, audit and the position; trims the partition stream below it', async () => {
    await redis.set(keys.engineLease(`p${P}`), TOKEN);
    for (const id of ['100-1', '100-5', '200-0', '300-0']) await redis.xadd(keys.partitionIn(P), id, 'b', 'x');
    const pos = { ms: 200, seq: 0 };
    const d = delta(pos);
    const { ops, sigs, outboxUsers } = commitOps(keys, d, settings(), () => undefined);
    expect(keys.partitionOf('bob')).toBe(P);
    const n = await scripts.engineCommit(2, keys.engineLease(`p${P}`), keys.partitionPos(P), TOKEN, ops, positionArg(d), keys.partitionIn(P));
    // 1 HSET + 2×(ZADD level, ZADD/ZREM expiry, ZADD/ZREM idle) + 2×2 XADD + 1 audit XADD (outbox) + 1 SET + 1 result XADD (outbox) + 2 outbox ZADD
    expect(n === -1 ? -1 : n[0]).toBe(1 + 6 + 4 + 1 + 1 + 1 + 2);
    expect(outboxUsers).toEqual(['alice', 'bob']);
    expect([...sigs.keys()].sort()).toEqual(['alice', 'bob']);

    expect(decodeState(await redis.hgetBuffer(keys.partitionState(P), 'alice'), 'alice')).toEqual(highState('alice'));
    expect(decodeState(await redis.hgetBuffer(keys.partitionState(P), 'bob'), 'bob')).toEqual({ ...emptyState('bob'), updatedAt: NOW });

    const events = await redis.xrange(keys.userEvents('alice'), '-', '+');
    expect(events.map(([, f]) => [f[1], JSON.parse(f[3]!)])).toEqual([
      ['hit', d.events[0]!.data],
      ['change', d.events[1]!.data],
    ]);
    const outbox = await redis.xrange(keys.userOutbox('alice'), '-', '+');
    expect(outbox.map(([, f]) => f)).toEqual(events.map(([, f]) => f));
    expect(await redis.exists(keys.userEvents('bob'))).toBe(0);
    expect(await redis.zscore(keys.outboxPending(P), 'alice')).toBe(String(NOW));
    expect(await redis.zscore(keys.outboxPending(P), 'bob')).toBe(String(NOW));

    expect(Number(await redis.zscore(keys.usersByLevel(P), 'alice'))).toBe(levelScore(highState('alice')));
    expect(Number(await redis.zscore(keys.usersByLevel(P), 'bob'))).toBe(0);
    expect(Number(await redis.zscore(keys.partitionExpiry(P), 'alice'))).toBe(nextExpiry(highState('alice')));
    expect(await redis.zscore(keys.partitionExpiry(P), 'bob')).toBeNull();

    expect(JSON.parse((await redis.get(keys.controlResult(P, 'req-1')))!)).toEqual({ found: false });
    expect(await redis.pttl(keys.controlResult(P, 'req-1'))).toBeGreaterThan(50_000);
    // The audit entry and the found user's outcome wait in the reset user's outbox: the relay
    // writes the entry to the audit stream, then the outcome for its requester.
    expect(await redis.exists(keys.auditStream)).toBe(0);
    expect(await redis.exists(keys.controlResult(P, 'req-2'))).toBe(0);
    const audit = await redis.xrange(keys.userOutbox('bob'), '-', '+');
    expect(audit.map(([, f]) => [f[0], f[1], f[2], JSON.parse(f[3]!)])).toEqual([
      ['kind', 'audit', 'data', d.audits[0]],
      ['kind', 'result', 'data', { req: 'req-2', outcome: d.results[1]!.outcome }],
    ]);

    expect(await redis.hgetall(keys.partitionPos(P))).toEqual({ pos: '200-0', token: TOKEN });
    expect((await redis.xrange(keys.partitionIn(P), '-', '+')).map(([id]) => id)).toEqual(['200-0', '300-0']);
  });

  it('index entries are rewritten only for users whose signature changed', () => {
    const d = delta({ ms: 1, seq: 0 });
    const first = commitOps(keys, d, settings(), () => undefined);
    const indexOps = (ops: Buffer): string[][] =>
      (new Packr().unpack(ops) as string[][]).filter((o) => o[1] === keys.usersByLevel(P) || o[1] === keys.partitionExpiry(P));
    expect(indexOps(first.ops)).toHaveLength(4);
    expect(indexOps(commitOps(keys, d, settings(), (u) => first.sigs.get(u)).ops)).toEqual([]);
    d.states.set('alice', { ...highState('alice'), level: 'medium', changedAt: NOW });
    const changed = indexOps(commitOps(keys, d, settings(), (u) => first.sigs.get(u)).ops);
    expect(changed.map((o) => [o[0], o.at(-1)])).toEqual([
      ['ZADD', 'alice'],
      ['ZADD', 'alice'],
    ]);
  });

  it('a wrong or missing lease: -1 and nothing written', async () => {
    for (const id of ['100-0', '200-0']) await redis.xadd(keys.partitionIn(P), id, 'b', 'x');
    const before = await allKeys();
    expect(await commit(delta({ ms: 200, seq: 0 }), TOKEN)).toBe(-1); // no lease at all
    expect(await allKeys()).toEqual(before);

    await redis.set(keys.engineLease(`p${P}`), 'w-b#2');
    const withLease = await allKeys();
    expect(await commit(delta({ ms: 200, seq: 0 }), TOKEN)).toBe(-1); // another owner's lease
    expect(await commit(delta({ ms: 200, seq: 0 }), 'w-b#1')).toBe(-1); // same worker, older epoch
    expect(await allKeys()).toEqual(withLease);
    expect(await redis.xlen(keys.partitionIn(P))).toBe(2); // not trimmed
    expect(await redis.exists(keys.partitionPos(P), keys.partitionState(P), keys.userEvents('alice'))).toBe(0);
  });

  it('an empty token (offline tools) commits without a lease; an empty position leaves the position alone', async () => {
    const d = delta({ ms: 5, seq: 0 });
    const { ops } = commitOps(keys, d, settings(), () => undefined);
    expect(count(await scripts.engineCommit(2, keys.engineLease(`p${P}`), keys.partitionPos(P), '', ops, '', keys.partitionIn(P)))).toBeGreaterThan(0);
    expect(await redis.hexists(keys.partitionState(P), 'alice')).toBe(1);
    expect(await redis.exists(keys.partitionPos(P))).toBe(0);
  });

  it('binary state blobs survive the round trip (decodeState after HGET)', async () => {
    await redis.set(keys.engineLease(`p${P}`), TOKEN);
    const d = emptyDelta(P, { ms: 9, seq: 9 });
    // Floats, negative and 64-bit numbers, non-ASCII text: MessagePack bytes that are not valid UTF-8.
    const s: UserState = { ...highState('zoë'), windows: { w: { f: [Math.PI, -0.5, 1e300], i: [-(2 ** 40), 2 ** 52], t: 'ünïcødé ✓', nul: 'a\u0000b' } } };
    d.states.set('zoë', s);
    // More than 200 users: more than one HSET.
    for (let i = 0; i < 450; i++) d.states.set(`u${i}`, { ...highState(`u${i}`), version: i });
    expect(await commit(d, TOKEN)).toBeGreaterThan(0);
    expect(decodeState(await redis.hgetBuffer(keys.partitionState(P), 'zoë'), 'zoë')).toEqual(s);
    expect(await redis.hlen(keys.partitionState(P))).toBe(451);
    expect(decodeState(await redis.hgetBuffer(keys.partitionState(P), 'u449'), 'u449')).toEqual({ ...highState('u449'), version: 449 });
    expect(await redis.hget(keys.partitionPos(P), 'pos')).toBe(keyId({ ms: 9, seq: 9 }));
  });
});

describe('packOps', () => {
  const lengths = [0, 1, 31, 32, 255, 256, 65_535, 65_536, 100_000];

  it('round-trips through MessagePack (every str and array length class)', () => {
    const ops = [['SET', 'k', 'v'], ...lengths.map((n) => ['SET', `k${n}`, 'x'.repeat(n)]), Array.from({ length: 17 }, (_, i) => `a${i}`)];
    const many = Array.from({ length: 70_000 }, () => ['PING']);
    const packr = new Packr();
    expect(packr.unpack(packOps(ops))).toEqual(ops);
    expect((packr.unpack(packOps(many)) as unknown[]).length).toBe(70_000);
    // Multi-byte text is sized in bytes, not characters (header class boundaries included).
    const text = [
      ['SET', 'ké', 'ü'.repeat(16)],
      ['SET', '🔥', 'é'.repeat(128)],
      ['XADD', 's', '*', 'data', '{"city":"Zürich"}'.repeat(4000)],
    ];
    expect(packr.unpack(packOps(text))).toEqual(text);
    expect(packOps(text).equals(packr.pack(text.map((op) => op.map((a) => a))))).toBe(true);
  });

  it('binary arguments of every length class arrive byte for byte through the commit script', async () => {
    await redis.set(keys.engineLease(`p${P}`), TOKEN);
    const blob = (n: number): Buffer => Buffer.from(Array.from({ length: n }, (_, i) => (i * 131 + 7) & 0xff));
    const ops = lengths.map((n) => ['SET', `${prefix}:bin:${n}`, blob(n)]);
    ops.push(['HSET', keys.partitionState(P), 'all-bytes', Buffer.from(Array.from({ length: 256 }, (_, i) => i))]);
    expect(count(await scripts.engineCommit(2, keys.engineLease(`p${P}`), keys.partitionPos(P), TOKEN, packOps(ops), '', ''))).toBe(ops.length);
    for (const n of lengths) expect((await redis.getBuffer(`${prefix}:bin:${n}`))!.equals(blob(n))).toBe(true);
    const all = (await redis.hgetBuffer(keys.partitionState(P), 'all-bytes'))!;
    expect([...all]).toEqual(Array.from({ length: 256 }, (_, i) => i));
  });
});
