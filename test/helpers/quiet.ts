import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';
import { Keys } from '../../src/keys.js';
import { SET_DELIVERY_QUEUE } from '../../src/ssf/queue.js';
import { engineBehind } from './engine.js';
import { waitFor, zcardAll } from './redis.js';

/** What {@link untilQuiet} watches; `streams` default to the prefix's `login` and `activity`. */
export interface QuietScope {
  prefix: string;
  /** Input streams; the engine's control stream is always checked too. */
  streams?: readonly string[];
  /** `engine.partitions` (default 64). */
  partitions?: number;
  group?: string;
  /** Users whose outboxes must be empty too (a change being relayed is in no other key). */
  users?: readonly string[];
  timeout?: number;
}

/** Why the system is not quiet yet, or `null` when it is. */
export async function notQuiet(redis: Redis, scope: QuietScope): Promise<string | null> {
  const keys = new Keys(scope.prefix, scope.partitions);
  const group = scope.group ?? 'riskstream';
  // Input first, then the partitions, then outboxes, then the queue: each stage hands on before it
  // lets go (the router acks an entry once routed; the owner's commit writes the outbox).
  for (const s of [...(scope.streams ?? [`${scope.prefix}:login`, `${scope.prefix}:activity`]), keys.controlStream]) {
    const last = (await redis.xrevrange(s, '+', '-', 'COUNT', 1))[0]?.[0];
    if (!last) continue;
    const rows = (await redis.xinfo('GROUPS', s)) as unknown[][];
    const g = rows
      .map((row) => Object.fromEntries(Array.from({ length: row.length / 2 }, (_, i) => [row[2 * i], row[2 * i + 1]])))
      .find((x) => x.name === group);
    if (!g) return `${s}: no group ${group}`;
    if (Number(g.pending) !== 0) return `${s}: ${g.pending} pending`;
    if (g.lag !== null && g.lag !== undefined && Number(g.lag) !== 0) return `${s}: lag ${g.lag}`;
    if (g['last-delivered-id'] !== last) return `${s}: not read up to ${last}`;
  }
  const behind = await engineBehind(redis, keys);
  if (behind) return behind;
  if ((await zcardAll(redis, keys, (p) => keys.outboxPending(p))) > 0) return 'outbox relay pending';
  if (scope.users?.length) {
    const p = redis.pipeline();
    for (const u of scope.users) p.xlen(keys.userOutbox(u));
    const lens = (await p.exec()) ?? [];
    const i = lens.findIndex(([err, n]) => err || Number(n) > 0);
    if (i >= 0) return `outbox of ${scope.users[i]} not relayed`;
  }
  const queue = new Queue(SET_DELIVERY_QUEUE, { connection: redis, prefix: keys.bullPrefix });
  try {
    const counts = await queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children', 'paused');
    const busy = Object.entries(counts).filter(([, n]) => n > 0);
    return busy.length ? `delivery queue: ${busy.map(([k, n]) => `${n} ${k}`).join(', ')}` : null;
  } finally {
    await queue.close();
  }
}

/**
 * Waits until nothing is left to happen: every input entry read and acked by the consumer group
 * (no pending entries, lag 0), every routed partition entry applied and committed, no behavior
 * expiry due, no outbox waiting for its relay and an empty delivery queue
 * (nothing waiting, active or delayed). A test asserting that something did *not* happen (no
 * second SET, no SET for a paused stream) asserts after this instead of after a fixed sleep.
 */
export async function untilQuiet(redis: Redis, scope: QuietScope): Promise<void> {
  let why: string | null = 'not checked';
  await waitFor(
    async () => {
      why = await notQuiet(redis, scope);
      return why === null;
    },
    { timeout: scope.timeout ?? 15_000, interval: 100, what: `a quiet system (${scope.prefix})` },
  ).catch((err: unknown) => {
    throw new Error(`${(err as Error).message}; last: ${why}`);
  });
}
