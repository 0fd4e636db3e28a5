import type { AuditEntry } from '../audit/audit-log.js';
import type { Keys } from '../keys.js';
import { keyId, type OrderKey } from '../partition.js';
import { writeState } from '../risk/state-codec.js';
import { MsgWriter } from '../redis/msgpack-writer.js';
import { zeroCopy } from '../redis/zero-copy.js';
import type { UserState } from '../risk/state.js';
import { fillOps, fixOps, forgetOps, indexOps, op } from './commit-index.js';
import { eventOps } from './commit-events.js';
import type { IdleFill } from './idle-backfill.js';
import { queueScript } from '../redis/scripts.js';
import { commandKeys, commitArgs } from '../redis/commit-keys.js';
import type { ChainableCommander } from 'ioredis';
import type { BehaviorHit, LevelChange } from '../types.js';
import type { SessionIdentity } from '../sessions/identity.js';
import type { LateLogin } from '../sessions/policy-mark.js';
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
  /** The latest of `sessions` per user and session id (src/engine/pending-sessions.ts). */
  latest?: Map<string, SessionIdentity>;
  /** Reset outcomes for their requesters. */
  results: Array<{ req: string; user: string; outcome: ResetOutcome }>;
  audits: AuditEntry[];
  /** Session logins to revoke on their own (src/sessions/policy-mark.ts): outbox entries of kind `revoke`. */
  late?: Array<{ user: string; data: LateLogin }>;
  /**
   * Idle users to forget (src/engine/forget.ts): their state field and index members deleted. A user
   * given a state in the same delta (an item of its applied after) is not: its state is written.
   */
  forget?: Set<string>;
  /**
   * Users whose risk-event stream is deleted, idle past the risk-event retention (src/engine/forget.ts
   * `prune`, src/risk/retention.ts `unlessIdle`), each before its events from `events[at]` on (at: the
   * value): those before are not recorded — as if deleted in their turn.
   */
  prune?: Map<string, number>;
  /** A chunk of the idle index's backfill (src/engine/idle-backfill.ts), written before the states' index entries. */
  idleFill?: IdleFill;
  /**
   * The idle sweep's fixes of the idle index (src/engine/forget.ts), by user: a later score (ZADD
   * GT), or null to take the user out; written after `idleFill`, before the states' index entries.
   */
  idleFix?: Map<string, number | null>;
  /** The last applied order key. */
  pos: OrderKey;
  /** Entries applied (for the commit trigger). */
  applied: number;
  /** A test failpoint (src/engine/failpoints.ts) of an applied event, fired while this commit is built. */
  failpoint?: () => void;
}

export { indexSig } from './commit-index.js';

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

/**
 * Writers of commits whose commands were sent (see `release` of {@link commitOps}): reused, their
 * buffers grown and their pages touched already, rather than a fresh large buffer per commit.
 */
const writers: MsgWriter[] = [];
const pooled = new WeakSet<MsgWriter>();
/**
 * What the pool may keep: enough for every partition's commit of two steps (the one in flight and
 * the next), within a memory budget. A writer grown past `KEPT_MAX_BYTES` (one huge commit) is
 * left to the garbage collector rather than kept at that size.
 */
const KEPT_WRITERS = 160;
const KEPT_BYTES = 32 << 20;
const KEPT_MAX_BYTES = 2 << 20;
let keptBytes = 0;

/**
 * The commands of one partition's commit, as one MessagePack argument of the commit script: states
 * (one HSET per 200 users), risk events and outbox entries, index entries whose value changed
 * (`indexed`: the signature last committed per user), reset outcomes and audit entries. Written in
 * one pass, states straight into their HSETs: the same bytes as `packOps` of the commands
 * with `encodeState`'s states (test/engine/commit-ops.golden.test.ts).
 *
 * `ops` is a view of the writer's buffer: valid until `release()`, which lends the writer to a
 * later commit — call it only once nothing can read `ops` any more (its command was written to
 * the socket and answered). Never released, the writer is simply not reused.
 */
export function commitOps(
  keys: Keys,
  d: PartitionDelta,
  s: CommitSettings,
  indexed: (user: string) => string | undefined,
  extra: readonly string[][] = [],
  declared?: Set<string>,
): { ops: Buffer; sigs: Map<string, string>; outboxUsers: string[]; release: () => void } {
  d.failpoint?.();
  const w = writers.pop() ?? new MsgWriter();
  if (pooled.delete(w)) keptBytes -= w.capacity;
  w.reset(5); // the array header of the commands goes before, once they are counted
  let count = 0;
  for (const args of extra) count += op(w, args);
  if (declared) commandKeys(extra, declared);
  const sigs = new Map<string, string>();
  const fix = d.idleFix;
  // A state of a user the sweep fixed has its index entries written whole, after the fix.
  const known = fix?.size ? (u: string) => (fix.has(u) ? undefined : indexed(u)) : indexed;
  const ix = {
    levelKey: keys.usersByLevel(d.partition),
    expiryKey: keys.partitionExpiry(d.partition),
    idleKey: keys.usersIdle(d.partition),
    indexed: known,
    sigs,
  };
  const stateKey = keys.partitionState(d.partition);
  // Before the states' index entries and the deletions: those written for this commit's states win.
  if (d.idleFill) count += fillOps(w, ix, keys.partitionPos(d.partition), d.idleFill, declared);
  if (fix) count += fixOps(w, ix, fix, declared);
  const users = Array.from(d.states.keys());
  const before = count;
  // As the commands were queued: a full chunk's HSET goes before the index entries of its last user.
  for (let c = 0; c < users.length; c += HSET_CHUNK) {
    const end = Math.min(c + HSET_CHUNK, users.length);
    const full = end - c === HSET_CHUNK;
    for (let j = c; j < (full ? end - 1 : end); j++) count += indexOps(w, ix, users[j]!, d.states.get(users[j]!)!);
    w.arrayHeader(2 + 2 * (end - c));
    w.str('HSET');
    w.str(stateKey);
    for (let j = c; j < end; j++) {
      w.str(users[j]!);
      const at = w.beginStr();
      writeState(w, d.states.get(users[j]!)!);
      w.endStr(at);
    }
    count++;
    if (full) count += indexOps(w, ix, users[end - 1]!, d.states.get(users[end - 1]!)!);
  }
  if (declared && users.length) declared.add(stateKey);
  // Index commands written besides the HSETs (one per chunk): both index keys named.
  if (declared && count - before > Math.ceil(users.length / HSET_CHUNK)) declared.add(ix.levelKey).add(ix.expiryKey).add(ix.idleKey);
  count += forgetOps(w, ix, stateKey, d, declared, (u) => keys.userEvents(u));
  const outboxUsers = new Set<string>();
  count += eventOps(w, keys, d, String(s.eventsMaxlen), outboxUsers, declared);
  // Audit entries travel through the user's outbox (the relay writes them to the audit log): the
  // audit stream is one key, which on a cluster lives in another slot than the partition.
  for (const a of d.audits) {
    if (!a.target) continue; // a reset's entry always names its user
    count += op(w, ['XADD', keys.userOutbox(a.target), '*', 'kind', 'audit', 'data', JSON.stringify(a)]);
    outboxUsers.add(a.target);
  }
  for (const { user, data } of d.late ?? []) {
    count += op(w, ['XADD', keys.userOutbox(user), '*', 'kind', 'revoke', 'data', JSON.stringify(data)]);
    outboxUsers.add(user);
  }
  // A reset's outcome reaches its requester once its audit entry is in the audit log: the relay
  // writes it after the entry (an unknown user's outcome, with nothing to audit, is written here).
  for (const r of d.results) {
    if (!r.outcome.found) {
      declared?.add(keys.controlResult(d.partition, r.req));
      count += op(w, ['SET', keys.controlResult(d.partition, r.req), JSON.stringify(r.outcome), 'PX', String(CONTROL_RESULT_TTL_MS)]);
      continue;
    }
    count += op(w, ['XADD', keys.userOutbox(r.user), '*', 'kind', 'result', 'data', JSON.stringify({ req: r.req, outcome: r.outcome })]);
    outboxUsers.add(r.user);
  }
  const now = String(s.now);
  for (const user of outboxUsers) count += op(w, ['ZADD', keys.outboxPending(d.partition), now, user]);
  if (declared && outboxUsers.size) {
    declared.add(keys.outboxPending(d.partition));
    for (const user of outboxUsers) declared.add(keys.userOutbox(user));
  }
  const release = (): void => {
    if (pooled.has(w) || writers.length >= KEPT_WRITERS || w.capacity > KEPT_MAX_BYTES || keptBytes + w.capacity > KEPT_BYTES) return;
    pooled.add(w);
    keptBytes += w.capacity;
    writers.push(w);
  };
  return { ops: w.view(w.arrayHeaderBefore(5, count)), sigs, outboxUsers: [...outboxUsers], release };
}

/** The position argument of the commit script. */
export function positionArg(d: PartitionDelta): string {
  return keyId(d.pos);
}

/**
 * Queues one partition's commit on a pipeline: the lease-fenced commit script with its commands,
 * position and commit id (`lease.id`, unique per commit: a resent commit runs once), fenced on
 * `lease.expected` too (the position last committed: Redis holding another one lost writes). With
 * `cluster`, every key it touches declared (src/redis/commit-keys.ts). Returns the index
 * signatures written, the users whose outbox got entries and the release of the commands' buffer
 * (see {@link commitOps}).
 */
export function queueCommit(
  pipe: ChainableCommander,
  keys: Keys,
  d: PartitionDelta,
  lease: { token: string; id: string; expected?: OrderKey | null; cluster?: boolean },
  s: CommitSettings,
  indexed: (user: string) => string | undefined,
  extra?: readonly string[][],
): { sigs: Map<string, string>; outboxUsers: string[]; release: () => void } {
  const declared = lease.cluster ? new Set<string>() : undefined;
  const { ops, sigs, outboxUsers, release } = commitOps(keys, d, s, indexed, extra, declared);
  const args = commitArgs(
    keys.engineLease(`p${d.partition}`),
    keys.partitionPos(d.partition),
    [
      lease.token,
      zeroCopy(ops), // written to the socket as it is when sent on a corked socket (directPipeline)
      positionArg(d),
      keys.partitionIn(d.partition),
      lease.id,
      keyId({ ms: d.pos.ms, seq: d.pos.seq + 1 }), // the entry at the position is applied: trimmed too
      lease.expected ? keyId(lease.expected) : '', // another stored position: Redis came back with older data
    ],
    declared,
  );
  queueScript(pipe, 'engineCommit', ...args);
  return { sigs, outboxUsers, release };
}
