import type { RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { pruneEvents } from './commit-events.js';
import { forgetIdle } from './forget.js';
import { backfillIdle } from './idle-backfill.js';
import type { OwnerStates } from './owner-states.js';
import type { Owned, OwnerParts } from './owner-types.js';
import { sweepDue } from './sweep.js';

/** What one sweep of an owner's partitions did. */
export interface SweepReport {
  /** Users whose due behaviors expired. */
  expired: number;
  /** Idle users forgotten (src/engine/forget.ts): decided, in the partitions' next commits. */
  forgotten: number;
  /** Idle index entries the idle sweep fixed (moved or taken out), in the partitions' next commits. */
  fixed: number;
  /** Partitions given a chunk of the idle index's backfill (src/engine/idle-backfill.ts). */
  backfilled: number;
}

/**
 * One sweep of the partitions `sweeping` (each as it was when the sweep began: one lost, taken again
 * or rewound meanwhile is another object in `owned`, unloaded — a delta made for it would start at
 * 0-0 and its commit write that position back): behaviors past expiry, then idle users (when
 * `state.idle_user_ttl` is on: forgotten, or their idle index entries fixed) and a chunk of the idle
 * index's backfill, into the partitions' deltas, committed (lease-fenced) with the next commit.
 */
export async function sweepOwned(
  redis: RedisClient,
  keys: Keys,
  own: { owned: ReadonlyMap<number, Owned>; sweeping: ReadonlyMap<number, Owned>; states: OwnerStates; parts: OwnerParts },
  now: number,
  limit: number,
): Promise<SweepReport> {
  const { owned, sweeping, states } = own;
  const owns = (p: number): boolean => owned.get(p) === sweeping.get(p);
  const expired = await sweepDue(redis, keys, now, limit, {
    partitions: () => [...sweeping.keys()],
    owns,
    position: (p) => sweeping.get(p)!,
    current: (user, p) => states.current(user, p),
    expired: (p, user, r) => {
      if (!owns(p)) return;
      const d = states.delta(p, sweeping.get(p)!);
      d.states.set(user, r.state);
      states.cache.set(user, { state: r.state }); // no signature: the index entry is rewritten
      for (const c of r.changes) d.events.push({ user, kind: 'change', data: c });
    },
  });
  const retention = (await own.parts.context()).retention;
  if (!retention) return { expired, forgotten: 0, fixed: 0, backfilled: 0 };
  const { forgotten, fixed } = await forgetIdle(redis, keys, retention, limit, {
    partitions: () => [...sweeping.keys()].filter(owns),
    owns,
    // Event time, capped by the sweep's clock (an entry id of a producer's own, far ahead, is no time).
    watermark: (p) => Math.min(sweeping.get(p)!.applied.ms, now),
    current: (user, p) => states.current(user, p),
    forget: (p, user) => {
      if (!owns(p)) return;
      (states.delta(p, sweeping.get(p)!).forget ??= new Set()).add(user);
      states.cache.delete(user); // read again (gone once committed); its index entries written again
    },
    prune: (p, user) => {
      if (owns(p)) pruneEvents(states.delta(p, sweeping.get(p)!), user);
    },
    // Its cached signature is dropped once the fix lands (OwnerStates.signed): its entries are written again.
    fix: (p, user, score) => {
      if (owns(p)) (states.delta(p, sweeping.get(p)!).idleFix ??= new Map()).set(user, score);
    },
  });
  const inDelta = (p: number): Array<{ idleFill?: unknown; forget?: ReadonlySet<string> } | undefined> => [
    states.deltas.get(p),
    states.inflight?.deltas.get(p),
  ];
  const backfilled = await backfillIdle(redis, keys, limit, {
    partitions: () => [...sweeping].filter(([p, o]) => owns(p) && !o.backfilled).map(([p]) => p),
    owns,
    pending: (p) => inDelta(p).some((d) => d?.idleFill),
    current: (user, p) => states.current(user, p),
    forgetting: (user, p) => inDelta(p).some((d) => d?.forget?.has(user)),
    fill: (p, chunk) => {
      if (owns(p)) states.delta(p, sweeping.get(p)!).idleFill = chunk;
    },
    // On this partition object: one rewound or taken again is another, which reads the stored progress.
    finished: (p) => void (sweeping.get(p)!.backfilled = true),
  });
  return { expired, forgotten, fixed, backfilled };
}
