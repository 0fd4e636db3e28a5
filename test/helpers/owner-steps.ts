/** Driving a real partition owner in a test: entries written as a router would, steps until drained. */
import type { Redis } from 'ioredis';
import type { OwnerParts, PartitionOwner } from '../../src/engine/owner.js';
import { encodeRouted, ROUTED_FIELD, type RoutedItem } from '../../src/engine/routed.js';
import type { Keys } from '../../src/keys.js';
import { keyId } from '../../src/partition.js';
import type { CanonicalEvent } from '../../src/types.js';
import { identityBuilder } from '../../pipelines/session-audit.js';
import { behavior } from './behavior-config.js';
import { settings } from '../sessions/helpers.js';

const MIN = 60_000;

/** An owner's callbacks that do nothing, but a commit error is thrown (the test sees it). */
export const QUIET_OWNER: Pick<OwnerParts, 'deadLetter' | 'relay' | 'onCommitError' | 'onFenced'> = {
  deadLetter: async () => {},
  relay: () => {},
  onCommitError: (err) => {
    throw err;
  },
  onFenced: () => {},
};

/** An event routed with order key `[ms, 0]` from source entry `ms-0`. */
export const routedItem = (e: CanonicalEvent, ms: number): RoutedItem => ({ k: [ms, 0], s: 'in', i: `${ms}-0`, e });

/** Writes `items` as one entry of `user`'s partition stream, its id the last item's key (as the router does). */
export async function writeRouted(redis: Redis, keys: Keys, user: string, items: RoutedItem[]): Promise<void> {
  const last = items[items.length - 1]!.k;
  await redis.xadd(keys.partitionIn(keys.partitionOf(user)), keyId({ ms: last[0], seq: last[1] }), ROUTED_FIELD, encodeRouted(items));
}

/** Steps `o` until a step after the first reads nothing (at most 20), then waits for its commits. */
export async function drainOwner(o: PartitionOwner): Promise<void> {
  for (let i = 0; i < 20; i++) {
    const r = await o.step(5);
    if (i > 0 && r.read === 0) break;
  }
  await o.settle();
}

/**
 * An owner's parts for session tests: session_hijack on (device, asn, country), session audit
 * `enabled`, identities built with the test settings and stored by `prepare`; the clock at `now`.
 */
export function hijackOwnerParts(now: number, prepare: OwnerParts['sessions']['prepare'], enabled = true): OwnerParts {
  const build = identityBuilder(settings());
  return {
    context: () => ({
      behaviors: [behavior('session_hijack', { enabled: true, risk_level: 'high', expires_after: '24h', compare: ['device', 'asn', 'country'] })],
      limits: { maxLogins: 10, maxAge: 7 * 24 * 60 * MIN, allowedLateness: 10 * MIN },
      now,
    }),
    settings: () => ({ eventsMaxlen: 1000, now }),
    sessions: { build, prepare, after: async () => undefined, enabled: () => enabled },
    ...QUIET_OWNER,
  };
}
