/**
 * A partition commit while a slot of its keys is being migrated (CLUSTER SETSLOT IMPORTING /
 * MIGRATING, some keys MIGRATEd), deterministic: the commit writes nothing — not the states before
 * the risk events it could not reach (the engine's redo would then find state ahead of its events),
 * not the HSET before a SUSER trim of a session moved away — and is answered SLOT_MIGRATING (or a
 * script refused before its first write); once the slot is stable again the redo commits it all,
 * exactly once. Runs on the shared cluster in a slot of a partition (`{p<n>}` of 1024 partitions)
 * that holds no key before it starts, given back STABLE in `finally`.
 */
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emptyDelta, type PartitionDelta } from '../../src/engine/commit.js';
import { sendCommits } from '../../src/engine/commit-send.js';
import { slotMoving } from '../../src/redis/slot-moving.js';
import type { OwnerParts } from '../../src/engine/owner-types.js';
import { isRiskstreamError } from '../../src/errors.js';
import { Keys } from '../../src/keys.js';
import { commitArgs } from '../../src/redis/commit-keys.js';
import { packOps } from '../../src/redis/pack-ops.js';
import { defineScripts, scriptsOn } from '../../src/redis/scripts.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { cleanPrefix, clusterClient, requireCluster } from '../helpers/cluster.js';
import { beginMove, freePartition, undoMove } from '../helpers/cluster-reshard.js';
import { testPrefix } from '../helpers/redis.js';

const up = await requireCluster('cluster/commit-migrating');
const PARTITIONS = 1024;
const NOW = Date.parse('2026-11-23T12:00:00Z');
const TOKEN = 'w-m#1';
const prefix = testPrefix('commit-migrating');
const keys = new Keys(prefix, PARTITIONS);

function state(user: string, version: number): UserState {
  return { ...emptyState(user), level: version > 1 ? 'high' : 'low', version, changedAt: NOW, updatedAt: NOW + version };
}

describe.skipIf(!up)('a partition commit while its slot migrates', () => {
  let cluster: Cluster;
  let free: { p: number; user: string; slot: number };
  beforeAll(async () => {
    // Few redirections: the refusal comes back at once rather than after ioredis's retries.
    cluster = clusterClient({ maxRedirections: 2, retryDelayOnTryAgain: 10 });
    defineScripts(cluster);
    free = await freePartition(PARTITIONS, PARTITIONS - 1);
  });
  afterAll(async () => {
    if (!cluster) return;
    await cleanPrefix(cluster, prefix);
    cluster.disconnect();
  });

  /** What a commit of partition p writes, read key by key (ASK followed to the target). */
  async function snapshot(p: number, user: string): Promise<unknown> {
    return {
      pos: await cluster.hgetall(keys.partitionPos(p)),
      state: await cluster.hgetallBuffer(keys.partitionState(p)),
      events: (await cluster.xrange(keys.userEvents(user), '-', '+')).map(([, f]) => f),
      outbox: await cluster.xlen(keys.userOutbox(user)),
      level: await cluster.zrange(keys.usersByLevel(p), 0, -1, 'WITHSCORES'),
    };
  }

  it('writes no state before risk events it cannot reach (SLOT_MIGRATING); the redo commits each event once', async () => {
    const { p, user, slot } = free;
    const errors: unknown[] = [];
    const rewound: number[][] = [];
    const parts = {
      settings: () => ({ eventsMaxlen: 100, now: NOW }),
      sessions: { prepare: () => ({ ops: [], finish: async () => ({ stored: 0, skipped: 0, dropped: [] }) }), after: async () => undefined },
      relay: () => undefined,
      onCommitError: (err: unknown) => errors.push(err),
      onFenced: () => errors.push('fenced'),
    } as unknown as OwnerParts;
    let n = 0;
    const commit = async (d: PartitionDelta, committed: string): Promise<void> => {
      const [ms, seq] = committed.split('-').map(Number) as [number, number];
      await sendCommits(cluster, keys, parts, new Map([[p, d]]), new Map([[p, TOKEN]]), {
        current: () => ({ token: TOKEN, committed: { ms, seq } }),
        commitId: () => `${TOKEN}/${++n}`,
        indexed: () => undefined,
        committed: () => undefined,
        rewind: (ps) => rewound.push(ps),
        lose: () => errors.push('lost'),
      });
    };
    const hit = (id: string): PartitionDelta['events'][number] => ({
      user,
      kind: 'hit',
      data: { behavior: 'endpoint_detection', level: 'high', time: NOW, summary: id, evidence: {}, eventIds: [id] },
    });
    // Committed before the move: the user's state, one risk event (the stream exists), position 1-0.
    await cluster.set(keys.engineLease(`p${p}`), TOKEN);
    const first = emptyDelta(p, { ms: 1, seq: 0 });
    first.states.set(user, state(user, 1));
    first.events.push(hit('e-1'));
    await commit(first, '0-0');
    expect({ errors: errors.map(String), rewound }).toEqual({ errors: [], rewound: [] });
    const next = (): PartitionDelta => {
      const d = emptyDelta(p, { ms: 5, seq: 0 });
      d.states.set(user, state(user, 2));
      d.events.push(hit('e-2'));
      return d;
    };
    const before = await snapshot(p, user);
    // The user's risk events moved to the target; the state hash and the position stay on the source.
    const move = await beginMove(slot, [keys.userEvents(user)]);
    try {
      await commit(next(), '1-0');
      expect(errors.map((e) => isRiskstreamError(e, 'SLOT_MIGRATING'))).toEqual([true]);
      expect(rewound).toEqual([[p]]);
      expect(await snapshot(p, user)).toEqual(before);
    } finally {
      await undoMove(move);
    }
    errors.length = 0;
    await commit(next(), '1-0'); // the owner's redo from the committed position
    expect(errors).toEqual([]);
    expect(await cluster.hget(keys.partitionPos(p), 'pos')).toBe('5-0');
    expect((await cluster.xrange(keys.userEvents(user), '-', '+')).map(([, f]) => JSON.parse(f[3]!).summary)).toEqual(['e-1', 'e-2']);
    expect(await cluster.xlen(keys.userOutbox(user))).toBe(2);
  });

  it('deletes nothing and writes nothing before a trim reaches a session moved away (script refused); the redo trims it once', async () => {
    const { p, slot } = free;
    const user = `${free.user}-s`;
    const sessions = keys.userSessions(free.user); // in the partition's slot (the user's own keys)
    const devices = keys.userDevices(free.user);
    const prefixKey = keys.session(p, '');
    await cluster.set(keys.engineLease(`p${p}`), TOKEN);
    await cluster.hset(devices, 'd', '{}');
    for (const [id, exp] of [
      ['s-1', NOW + 1000],
      ['s-2', NOW + 2000],
      ['s-3', NOW + 3000],
    ] as const) {
      await cluster.set(keys.session(p, id), JSON.stringify({ session_id: id, user, expires_at: exp }));
      await cluster.zadd(sessions, exp, id);
      await cluster.zadd(keys.sessionsByLogin(p), NOW, id);
      await cluster.zadd(keys.sessionsByExpiry(p), exp, id);
    }
    // max_per_user 2 and no new session: the trim drops s-1 (soonest expiring), read from the set.
    const ops = [
      ['HSET', keys.partitionState(p), user, 'x'],
      ['SUSER', sessions, devices, prefixKey, keys.sessionsByLogin(p), keys.sessionsByExpiry(p), user, String(NOW), '2', '60000', '86400000', '0'],
    ];
    const run = (): Promise<unknown> =>
      scriptsOn(cluster).engineCommit(
        ...commitArgs(keys.engineLease(`p${p}`), keys.partitionPos(p), [TOKEN, packOps(ops), '', ''], new Set([keys.partitionState(p), sessions, devices])),
      );
    const seen = async (): Promise<unknown> => ({
      state: await cluster.hget(keys.partitionState(p), user),
      sessions: await cluster.zrange(sessions, 0, -1),
      byLogin: await cluster.zrange(keys.sessionsByLogin(p), 0, -1),
      s1: await cluster.exists(keys.session(p, 's-1')),
    });
    await cluster.hset(keys.partitionState(p), user, 'before');
    const before = await seen();
    const move = await beginMove(slot, [keys.session(p, 's-1')]);
    try {
      const err = await run().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err !== undefined && slotMoving(err)).toBe(true);
      expect(await seen()).toEqual(before);
    } finally {
      await undoMove(move);
    }
    expect(await run()).toEqual([2, [], [['s-1']]]);
    expect(await seen()).toEqual({ state: 'x', sessions: ['s-2', 's-3'], byLogin: ['s-2', 's-3'], s1: 0 });
  });

  it("the listing's prune of gone sessions, run where the indexes moved to, keeps a live session still on the source", async () => {
    const { p, slot } = free;
    const [byLogin, byExpiry] = [keys.sessionsByLogin(p), keys.sessionsByExpiry(p)];
    await cluster.set(keys.session(p, 'live'), JSON.stringify({ session_id: 'live', user: 'x', expires_at: NOW + 60_000 }));
    await cluster.zadd(byLogin, NOW, 'live');
    await cluster.zadd(byExpiry, NOW + 60_000, 'live');
    const prune = (): Promise<unknown> => scriptsOn(cluster).sessionPrune(byLogin, byExpiry, String(NOW), 'gone', keys.session(p, ''), '', 'live');
    const move = await beginMove(slot, [byLogin, byExpiry]); // both indexes on the target: the script is ASKed there
    try {
      const err = await prune().then(
        () => undefined,
        (e: Error) => e,
      );
      expect(err !== undefined && slotMoving(err)).toBe(true);
    } finally {
      await undoMove(move);
    }
    expect(await cluster.zscore(byLogin, 'live')).toBe(String(NOW));
    expect(await prune()).toBe(0);
  });
});
