import { randomUUID } from 'node:crypto';
import { isCluster, type RedisClient } from '../redis/client.js';
import { commitArgs } from '../redis/commit-keys.js';
import type { Keys } from '../keys.js';
import { scriptsOn } from '../redis/scripts.js';
import { setNx } from '../redis/set-nx.js';
import { asSlotMigrating } from '../redis/slot-moving.js';
import { RiskStore } from '../risk/store.js';
import { unlessIdle, type Retention } from '../risk/retention.js';
import { applyItems } from './apply.js';
import { commitOps, emptyDelta } from './commit.js';
import { pruneEvents } from './commit-events.js';
import { requestReset, type ResetOutcome } from './control.js';
import { compareIds } from '../risk/state.js';
import { readGroups } from '../redis/stream-info.js';
import type { ControlOp } from './routed.js';

/** How long an offline reset may hold a partition's lease (a worker starting meanwhile waits this long at most). */
const OFFLINE_LEASE_MS = 10_000;

/** How the offline reset writes its risk events (its audit entry goes through the user's outbox). */
export interface OfflineResetSettings {
  eventsMaxlen: number;
  /** The input streams and their consumer group: input not yet routed may hold the user's earlier events. */
  input?: { streams: readonly string[]; group: string };
  /**
   * `engine.lease_ttl`: a worker heard from within it (the membership, Redis's clock) is running, so
   * a free lease is a handover under way — its next owner takes it within a heartbeat — and the
   * reset goes through that owner (waiting as long as for any owner) instead of being committed here.
   */
  leaseTtlMs?: number;
  /**
   * Told when the reset's relay failed after its commit landed: the reset stands (its outbox entries
   * were committed with the user's pending mark, which the outbox relay's sweep takes up), so the
   * reset still answers its outcome.
   */
  onRelayFailed?: (err: unknown) => void;
  /** `state.idle_user_ttl` in force: a user idle past it is unknown, as to the partition's owner (src/risk/retention.ts). */
  retention?: Retention;
}

/** How long a reset queued behind unprocessed input waits for a worker before answering. */
const QUEUED_WAIT_MS = 2_000;

/**
 * True when nothing the partition's owner would apply before a reset is waiting: the input streams
 * (and the control stream) hold nothing the router has not routed and acked, and its partition
 * stream holds nothing after the committed position. Read in that order: the router acks an entry
 * only after writing it to its partition, so an entry moving between the two reads (a router
 * routing while the lease is free at a handover between workers) is seen in the partition stream;
 * read the other way round it was seen in neither.
 */
async function inputSettled(redis: RedisClient, keys: Keys, p: number, input: NonNullable<OfflineResetSettings['input']>): Promise<boolean> {
  const streams = [...input.streams, keys.controlStream];
  const [groups, lengths] = await Promise.all([readGroups(redis, streams), Promise.all(streams.map((s) => redis.xlen(s)))]);
  const routed = streams.every((_, i) => {
    const g = groups[i]?.find((x) => x.name === input.group);
    if (!g) return lengths[i] === 0; // never read: any entry in it is unrouted
    return g.pending === 0 && g.lag === 0;
  });
  if (!routed) return false;
  const [[last], pos] = await Promise.all([redis.xrevrange(keys.partitionIn(p), '+', '-', 'COUNT', 1), redis.hget(keys.partitionPos(p), 'pos')]);
  return !(last && (!pos || compareIds(last[0], pos) > 0));
}

/**
 * Resets a user whether or not a worker runs. When the user's partition has an owner (its lease is
 * held), or a worker runs (`settings.leaseTtlMs`: the partition is between two owners), the reset
 * goes through the owner, in order with the user's events (`requestReset`). When none does and no
 * worker runs, the caller becomes the partition's owner for the moment: it takes the lease (SET NX, short
 * PX), applies the reset to the stored state and commits it with the same fenced commit script an
 * owner uses (the input position untouched), then gives the lease back. `relay` then moves the
 * outbox onward (the SET job waits in the queue for a worker; a relay that fails leaves it to the
 * outbox relay's sweep and the reset still answers its outcome). Refused while a Redis Cluster slot
 * of the partition's keys is being migrated (nothing written): SLOT_MIGRATING, to retry.
 */
export async function resetUser(
  redis: RedisClient,
  keys: Keys,
  req: { user: string; actor: string; reason: string },
  settings: OfflineResetSettings,
  relay: (users: string[]) => Promise<unknown>,
): Promise<ResetOutcome> {
  const done = await resetOffline(redis, keys, req, settings, relay);
  if (done) return done;
  return requestReset(
    redis,
    keys,
    req,
    QUEUED_WAIT_MS,
    `the reset of ${req.user} is queued behind input no worker has processed yet: a worker applies it in order with that input when it runs`,
  );
}

/** True when a worker of the prefix was heard from within `ttlMs` (its membership heartbeat, Redis's clock). */
async function workersLive(redis: RedisClient, keys: Keys, ttlMs: number): Promise<boolean> {
  const [sec, usec] = await redis.time();
  const now = Number(sec) * 1000 + Math.floor(Number(usec) / 1000);
  return (await redis.zcount(keys.engineMembers, `(${now - ttlMs}`, '+inf')) > 0;
}

/** The reset committed by the caller under the partition's lease, or null when it must go through an owner (queued). */
async function resetOffline(
  redis: RedisClient,
  keys: Keys,
  req: { user: string; actor: string; reason: string },
  settings: OfflineResetSettings,
  relay: (users: string[]) => Promise<unknown>,
): Promise<ResetOutcome | null> {
  const p = keys.partitionOf(req.user);
  const lease = keys.engineLease(`p${p}`);
  const token = `offline-${randomUUID()}#0`;
  // Workers run: the partition's owner applies it in order (a free lease is a handover under way).
  if (settings.leaseTtlMs !== undefined && (await workersLive(redis, keys, settings.leaseTtlMs))) return requestReset(redis, keys, req);
  if (!(await setNx(redis, lease, token, OFFLINE_LEASE_MS))) return requestReset(redis, keys, req);
  const scripts = scriptsOn(redis);
  try {
    // Events of the user may wait unprocessed (the worker stopped with a backlog): applied first,
    // they would count against what the reset cleared. Then the reset waits in the control stream,
    // applied in order by the owner when a worker runs.
    if (settings.input && !(await inputSettled(redis, keys, p, settings.input))) return null;
    const state = (await new RiskStore(redis, keys).get(req.user))?.state;
    const now = Date.now();
    // Idle past the TTL at the reset's arrival: a new user to the owner too (its sweep deletes it).
    // Its level changed, past the risk-event retention: its risk events go before the reset's, as with the owner.
    let prune = false;
    if (!state || unlessIdle(state, now, settings.retention, () => (prune = true)) !== state) return { found: false };
    const op: ControlOp = { op: 'reset', req: randomUUID(), user: req.user, actor: req.actor, reason: req.reason };
    const a = applyItems(req.user, state, [{ k: [0, 0], s: keys.controlStream, i: '0-0', c: op }], {
      behaviors: [],
      limits: { maxLogins: 1, maxAge: 0, allowedLateness: 0 },
      now,
    });
    const d = emptyDelta(p, { ms: 0, seq: 0 });
    d.states.set(req.user, a.state);
    if (prune) pruneEvents(d, req.user);
    d.events.push(...a.events);
    d.audits.push(...a.audits);
    const declared = isCluster(redis) ? new Set<string>() : undefined;
    const { ops, outboxUsers } = commitOps(keys, d, { ...settings, now }, () => undefined, [], declared);
    // With a commit id: a resend of the commit (its reply lost to a dropped connection, after it ran) writes nothing again.
    const committed = await scripts
      .engineCommit(...commitArgs(lease, keys.partitionPos(p), [token, ops, '', '', `${token}/reset`], declared))
      .catch((err: unknown) => {
        // Refused whole while a slot of the partition's keys migrates: the engine's code, not Redis's reply.
        throw asSlotMigrating(err, `the reset of ${req.user}`);
      });
    if (committed === -1) return requestReset(redis, keys, req);
    // Committed with the users' pending marks: a failed relay leaves the SET and the audit entry to
    // the outbox relay's sweep (a running worker's, or the next start's); the reset stands.
    if (outboxUsers.length) await relay(outboxUsers).catch((err: unknown) => settings.onRelayFailed?.(err));
    return a.results[0]?.outcome ?? { found: false };
  } finally {
    await scripts.leaseRelease(lease, token);
  }
}
