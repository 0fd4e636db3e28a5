/**
 * sendCommits on a real Redis (random prefix, purged after): a partition whose commit cannot be
 * built (a throw on its data) leaves the commit in flight at once — while the other partitions'
 * commits are sent, the owner re-reads it from its committed position, and its users' states must
 * not be found in the unsent delta (they would be applied twice) — and only it is re-read.
 */
import { afterAll, afterEach, beforeEach, expect, it } from 'vitest';
import { emptyDelta, type PartitionDelta } from '../../src/engine/commit.js';
import { sendCommits } from '../../src/engine/commit-send.js';
import type { OwnerParts } from '../../src/engine/owner-types.js';
import { Keys } from '../../src/keys.js';
import { partitionOf } from '../../src/partition.js';
import { defineScripts } from '../../src/redis/scripts.js';
import { emptyState } from '../../src/risk/state.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
defineScripts(redis);
const NOW = Date.parse('2026-11-23T12:00:00Z');
const PARTITIONS = 64;
const TOKEN = 'w-a#1';
let prefix: string;
let keys: Keys;

beforeEach(() => {
  prefix = testPrefix('commit-send');
  keys = new Keys(prefix, PARTITIONS);
});
afterEach(async () => {
  await cleanup(redis, prefix);
});
afterAll(async () => {
  await redis.quit();
});

/** A delta of `user`'s partition at 5-0 holding its state (seen at NOW). */
function deltaOf(user: string): PartitionDelta {
  const d = emptyDelta(partitionOf(user, PARTITIONS), { ms: 5, seq: 0 });
  d.states.set(user, { ...emptyState(user), updatedAt: NOW });
  return d;
}

it('a commit that cannot be built leaves the deltas in flight before the others are sent; only its partition is re-read', async () => {
  const good = deltaOf('alice');
  const bad = deltaOf('bob');
  expect(bad.partition).not.toBe(good.partition);
  bad.failpoint = () => {
    throw new TypeError('cannot build');
  };
  for (const d of [good, bad]) await redis.set(keys.engineLease(`p${d.partition}`), TOKEN);
  const errors: unknown[] = [];
  const rewound: number[] = [];
  const landed: number[] = [];
  const parts = {
    settings: () => ({ eventsMaxlen: 100, now: NOW }),
    sessions: { prepare: () => ({ ops: [] }), after: async () => undefined },
    relay: () => undefined,
    onCommitError: (err: unknown) => errors.push(err),
    onFenced: () => errors.push('fenced'),
  } as unknown as OwnerParts;
  // The owner's commit in flight is this very map (src/engine/owner.ts commit()).
  const inflight = new Map([
    [good.partition, good],
    [bad.partition, bad],
  ]);
  const tokens = new Map([...inflight.keys()].map((p) => [p, TOKEN]));
  let n = 0;
  const sending = sendCommits(redis, keys, parts, inflight, tokens, {
    current: () => ({ token: TOKEN, committed: null }),
    commitId: () => `${TOKEN}/${++n}`,
    indexed: () => undefined,
    committed: (d) => landed.push(d.partition),
    rewind: (ps) => rewound.push(...ps),
    lose: () => errors.push('lost'),
  });
  // Sent, not answered yet: the partition that failed is no longer among the deltas in flight.
  expect([...inflight.keys()]).toEqual([good.partition]);
  await sending;
  expect({ rewound, landed, errors: errors.length }).toEqual({ rewound: [bad.partition], landed: [good.partition], errors: 1 });
});
