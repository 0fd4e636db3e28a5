import { randomUUID } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { scriptsOn } from '../redis/scripts.js';
import { RiskStore } from '../risk/store.js';
import { applyItems } from './apply.js';
import { commitOps, emptyDelta } from './commit.js';
import { requestReset, type ResetOutcome } from './control.js';
import type { ControlOp } from './routed.js';

/** How long an offline reset may hold a partition's lease (a worker starting meanwhile waits this long at most). */
const OFFLINE_LEASE_MS = 10_000;

/** How the offline reset writes its risk events (its audit entry goes through the user's outbox). */
export interface OfflineResetSettings {
  eventsMaxlen: number;
}

/**
 * Resets a user whether or not a worker runs. When the user's partition has an owner (its lease is
 * held), the reset goes through it, in order with the user's events (`requestReset`). When none
 * does, the caller becomes the partition's owner for the moment: it takes the lease (SET NX, short
 * PX), applies the reset to the stored state and commits it with the same fenced commit script an
 * owner uses (the input position untouched), then gives the lease back. `relay` then moves the
 * outbox onward (the SET job waits in the queue for a worker).
 */
export async function resetUser(
  redis: RedisClient,
  keys: Keys,
  req: { user: string; actor: string; reason: string },
  settings: OfflineResetSettings,
  relay: (users: string[]) => Promise<unknown>,
): Promise<ResetOutcome> {
  const p = keys.partitionOf(req.user);
  const lease = keys.engineLease(`p${p}`);
  const token = `offline-${randomUUID()}#0`;
  if ((await redis.set(lease, token, 'PX', OFFLINE_LEASE_MS, 'NX')) !== 'OK') return requestReset(redis, keys, req);
  const scripts = scriptsOn(redis);
  try {
    const state = (await new RiskStore(redis, keys).get(req.user))?.state;
    if (!state) return { found: false };
    const now = Date.now();
    const op: ControlOp = { op: 'reset', req: randomUUID(), user: req.user, actor: req.actor, reason: req.reason };
    const a = applyItems(req.user, state, [{ k: [0, 0], s: keys.controlStream, i: '0-0', c: op }], {
      behaviors: [],
      limits: { maxLogins: 1, maxAge: 0, allowedLateness: 0 },
      now,
    });
    const d = emptyDelta(p, { ms: 0, seq: 0 });
    d.states.set(req.user, a.state);
    d.events.push(...a.events);
    d.audits.push(...a.audits);
    const { ops, outboxUsers } = commitOps(keys, d, { ...settings, now }, () => undefined);
    if ((await scripts.engineCommit(lease, keys.partitionPos(p), token, ops, '', '')) === -1) return requestReset(redis, keys, req);
    if (outboxUsers.length) await relay(outboxUsers);
    return a.results[0]?.outcome ?? { found: false };
  } finally {
    await scripts.leaseRelease(lease, token);
  }
}
