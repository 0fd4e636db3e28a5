import type { AuditEntry } from '../audit/audit-log.js';
import type { Keys } from '../keys.js';
import { keyId, type OrderKey } from '../partition.js';
import { encodeState } from '../risk/state-codec.js';
import { nextExpiry, type UserState } from '../risk/state.js';
import { levelScore } from '../risk/store.js';
import { packOps } from '../redis/pack-ops.js';
import { queueScript } from '../redis/scripts.js';
import type { ChainableCommander } from 'ioredis';
import type { BehaviorHit, LevelChange } from '../types.js';
import type { SessionIdentity } from '../sessions/identity.js';
import type { ResetOutcome } from './control.js';

/** Everything one partition applied since its last commit. */
export interface PartitionDelta {
  partition: number;
  /** Users whose state changed, with the state to store. */
  states: Map<string, UserState>;
  /** Risk events in the order they were made (per event: its hits, then its level change). */
  events: Array<{ user: string; kind: 'hit' | 'change'; data: BehaviorHit | LevelChange }>;
  /** Session identities of the logins applied (written by the same commit). */
  sessions: SessionIdentity[];
  /** Reset outcomes for their requesters. */
  results: Array<{ req: string; user: string; outcome: ResetOutcome }>;
  audits: AuditEntry[];
  /** The last applied order key. */
  pos: OrderKey;
  /** Entries applied (for the commit trigger). */
  applied: number;
}

/** An empty delta of partition `p` at position `pos`. */
export function emptyDelta(partition: number, pos: OrderKey): PartitionDelta {
  return { partition, states: new Map(), events: [], sessions: [], results: [], audits: [], pos, applied: 0 };
}

/** Settings of the commit's writes. */
export interface CommitSettings {
  eventsMaxlen: number;
  now: number;
}

const HSET_CHUNK = 200;

/** How long a reset's outcome waits for its requester (ms). */
export const CONTROL_RESULT_TTL_MS = 60_000;

/** The value a state puts in the indexes (level score, next expiry): unchanged ones are not rewritten. */
export function indexSig(state: UserState): string {
  return `${levelScore(state)}|${nextExpiry(state) ?? ''}`;
}

/**
 * The commands of one partition's commit, as one MessagePack argument of the commit script: states
 * (one HSET per 200 users), risk events and outbox entries, index entries whose value changed
 * (`indexed`: the signature last committed per user), reset outcomes and audit entries.
 */
export function commitOps(
  keys: Keys,
  d: PartitionDelta,
  s: CommitSettings,
  indexed: (user: string) => string | undefined,
  extra: readonly string[][] = [],
): { ops: Buffer; sigs: Map<string, string>; outboxUsers: string[] } {
  const ops: Array<ReadonlyArray<string | Buffer>> = [...extra];
  const stateKey = keys.partitionState(d.partition);
  const sigs = new Map<string, string>();
  let hset: Array<string | Buffer> = [];
  for (const [user, state] of d.states) {
    hset.push(user, encodeState(state));
    if (hset.length >= HSET_CHUNK * 2) {
      ops.push(['HSET', stateKey, ...hset]);
      hset = [];
    }
    const sig = indexSig(state);
    if (indexed(user) !== sig) {
      ops.push(['ZADD', keys.usersByLevel(d.partition), String(levelScore(state)), user]);
      const exp = nextExpiry(state);
      ops.push(exp === null ? ['ZREM', keys.partitionExpiry(d.partition), user] : ['ZADD', keys.partitionExpiry(d.partition), String(exp), user]);
    }
    sigs.set(user, sig);
  }
  if (hset.length) ops.push(['HSET', stateKey, ...hset]);
  const outboxUsers = new Set<string>();
  for (const { user, kind, data } of d.events) {
    const json = JSON.stringify(data);
    ops.push(['XADD', keys.userEvents(user), 'MAXLEN', '~', String(s.eventsMaxlen), '*', 'kind', kind, 'data', json]);
    ops.push(['XADD', keys.userOutbox(user), '*', 'kind', kind, 'data', json]);
    outboxUsers.add(user);
  }
  // Audit entries travel through the user's outbox (the relay writes them to the audit log): the
  // audit stream is one key, which on a cluster lives in another slot than the partition.
  for (const a of d.audits) {
    if (!a.target) continue; // a reset's entry always names its user
    ops.push(['XADD', keys.userOutbox(a.target), '*', 'kind', 'audit', 'data', JSON.stringify(a)]);
    outboxUsers.add(a.target);
  }
  // A reset's outcome reaches its requester once its audit entry is in the audit log: the relay
  // writes it after the entry (an unknown user's outcome, with nothing to audit, is written here).
  for (const r of d.results) {
    if (!r.outcome.found) {
      ops.push(['SET', keys.controlResult(d.partition, r.req), JSON.stringify(r.outcome), 'PX', String(CONTROL_RESULT_TTL_MS)]);
      continue;
    }
    ops.push(['XADD', keys.userOutbox(r.user), '*', 'kind', 'result', 'data', JSON.stringify({ req: r.req, outcome: r.outcome })]);
    outboxUsers.add(r.user);
  }
  for (const user of outboxUsers) ops.push(['ZADD', keys.outboxPending(d.partition), String(s.now), user]);
  return { ops: packOps(ops), sigs, outboxUsers: [...outboxUsers] };
}

/** The position argument of the commit script. */
export function positionArg(d: PartitionDelta): string {
  return keyId(d.pos);
}

/**
 * Queues one partition's commit on a pipeline: the lease-fenced commit script with its commands,
 * position and commit id (`lease.id`, unique per commit: a resent commit runs once). Returns the
 * index signatures written and the users whose outbox got entries.
 */
export function queueCommit(
  pipe: ChainableCommander,
  keys: Keys,
  d: PartitionDelta,
  lease: { token: string; id: string },
  s: CommitSettings,
  indexed: (user: string) => string | undefined,
  extra?: readonly string[][],
): { sigs: Map<string, string>; outboxUsers: string[] } {
  const { ops, sigs, outboxUsers } = commitOps(keys, d, s, indexed, extra);
  queueScript(
    pipe,
    'engineCommit',
    keys.engineLease(`p${d.partition}`),
    keys.partitionPos(d.partition),
    lease.token,
    ops,
    positionArg(d),
    keys.partitionIn(d.partition),
    lease.id,
    keyId({ ms: d.pos.ms, seq: d.pos.seq + 1 }), // the entry at the position is applied: trimmed too
  );
  return { sigs, outboxUsers };
}
