import { directPipeline, isCluster, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import type { PreparedPut } from '../sessions/store.js';
import { queueCommit, type PartitionDelta } from './commit.js';
import type { OwnerParts } from './owner-types.js';
import type { LevelChange } from '../types.js';
import type { SessionIdentity } from '../sessions/identity.js';
import type { OrderKey } from '../partition.js';
import { RiskstreamError } from '../errors.js';
import { asSlotMigrating } from '../redis/slot-moving.js';
import { scriptDataError } from './script-data-error.js';

/** What {@link sendCommits} needs from the owner, and tells it. */
export interface CommitHooks {
  /** The partition's current owner token (undefined once not owned). */
  current(partition: number): { token: string; committed?: OrderKey | null } | undefined;
  /** A fresh commit id for this token (a resent commit with the same id runs once). */
  commitId(token: string): string;
  /** The index signature last committed for a user. */
  indexed(user: string): string | undefined;
  /**
   * The partition's commit landed (with the index signatures it wrote); `sessions`: its identities
   * the store did not take (older than the stored login, revoked, bound to another user), and the
   * users' sessions it trimmed (over `max_per_user`).
   */
  committed(d: PartitionDelta, sigs: Map<string, string>, sessions: NotStored): void;
  /** The commits failed: re-read these partitions from their committed positions. */
  rewind(partitions: number[]): void;
  /** The partition's commit failed because of its data (it is re-read too): counted toward isolating it. */
  failed?(partition: number, err: unknown): void;
  /** The commit was fenced (the lease moved): forget the partition. */
  lose(partition: number): void;
  /** The partition's commit was built, in `ms` (its items' own work, before any I/O). */
  built?(partition: number, ms: number): void;
}

/**
 * Sends the partitions' commits in one pipeline (one lease-fenced script each, under the token the
 * work was applied with) and acts on each outcome: landed (positions, signatures, relay, session
 * clean-ups), fenced (the partition lost), failed (the partition re-read). Never throws.
 */
export async function sendCommits(
  redis: RedisClient,
  keys: Keys,
  parts: OwnerParts,
  deltas: Map<number, PartitionDelta>,
  tokens: Map<number, string | undefined>,
  hooks: CommitHooks,
): Promise<void> {
  try {
    const s = parts.settings();
    // Commands sent each on its own: their packed ops are not copied once more into one pipeline buffer.
    const pipe = directPipeline(redis);
    const cluster = isCluster(redis);
    const sent: Array<{ d: PartitionDelta; sigs: Map<string, string>; outboxUsers: string[]; put?: PreparedPut }> = [];
    const releases: Array<() => void> = [];
    for (const d of deltas.values()) {
      const token = tokens.get(d.partition);
      if (!token || hooks.current(d.partition)?.token !== token) continue;
      let queued;
      const t0 = performance.now();
      const put = d.sessions.length ? parts.sessions.prepare(d.sessions) : undefined;
      try {
        const lease = { token, id: hooks.commitId(token), expected: hooks.current(d.partition)?.committed ?? null, cluster };
        queued = queueCommit(pipe, keys, d, lease, s, hooks.indexed, put?.ops);
      } catch (err) {
        // Building it threw (on its data: no I/O here): this partition only is redone, and the failure counted.
        // Out of the commit in flight (the owner's `inflight`) at once: while the others' commits are sent,
        // the partition is re-read and its users' states must not be looked up in this unsent delta.
        deltas.delete(d.partition);
        parts.onCommitError(err);
        hooks.failed?.(d.partition, err);
        hooks.rewind([d.partition]);
        continue;
      }
      hooks.built?.(d.partition, performance.now() - t0);
      const { sigs, outboxUsers, release } = queued;
      // The identities' commands (their JSON) are in the commit's buffer now: not kept until Redis
      // answers, so they die young instead of being copied by scavenges and promoted.
      if (put) put.ops = [];
      sent.push({ d, sigs, outboxUsers, ...(put ? { put } : {}) });
      releases.push(release);
    }
    const res = (await pipe.exec()) ?? [];
    // Every command answered: its buffers were written long since. Not with a command timeout, whose
    // rejection can come before a command queued offline is written (its buffer then still read).
    if (commandTimeout(redis) === undefined) for (const release of releases) release();
    const relay: string[] = [];
    const changes: LevelChange[] = [];
    const after: Array<Promise<void>> = [];
    sent.forEach(({ d, sigs, outboxUsers, put }, i) => {
      const [err, r] = res[i] ?? [];
      if (err) {
        // Refused whole while a slot migration splits the partition's keys: re-read and commit again.
        parts.onCommitError(asSlotMigrating(err, `partition ${d.partition}'s commit`));
        if (scriptDataError(err)) hooks.failed?.(d.partition, err); // the script failed on what it was given
        return hooks.rewind([d.partition]);
      }
      if (r === -1) {
        parts.onFenced(d.partition);
        return hooks.lose(d.partition);
      }
      if (r === -3) {
        // Redis holds an older position than this owner committed: it lost writes (restarted from
        // older data, failed over to a lagging replica). Re-read from what it holds, never write memory over it.
        const why = `partition ${d.partition}: Redis holds another committed position than this owner wrote (it lost writes: restarted from older data, or failed over)`;
        parts.onCommitError(new RiskstreamError('COMMIT_CONFLICT', why));
        return hooks.rewind([d.partition]);
      }
      const [, puts, dropped] = (put ? r : []) as [number, unknown[], string[][]];
      hooks.committed(d, sigs, notStored(put, puts ?? [], dropped ?? []));
      relay.push(...outboxUsers);
      for (const e of d.events) if (e.kind === 'change') changes.push(e.data as LevelChange);
      if (put) after.push(put.finish(puts, dropped).then((result) => parts.sessions.after(result)));
    });
    if (changes.length) parts.committed?.(changes);
    if (relay.length) parts.relay(relay);
    await Promise.all(after);
  } catch (err) {
    parts.onCommitError(err);
    hooks.rewind([...deltas.keys()]);
  }
}

function commandTimeout(redis: RedisClient): number | undefined {
  return isCluster(redis) ? redis.options.redisOptions?.commandTimeout : redis.options.commandTimeout;
}

/** What a commit's session identities came to, for the owner's memory of them. */
export interface NotStored {
  /** Identities the store did not take. */
  unstored: readonly SessionIdentity[];
  /** Sessions it trimmed, as [user, stored session id]. */
  trimmed: ReadonlyArray<readonly [string, string]>;
}

/**
 * From the commit script's replies (src/redis/scripts/engine-commit-n.lua): SPUT answers 1 for a
 * stored identity, one per live identity; SUSER the ids trimmed, one per user. A resent commit
 * that already ran answers the first run's (kept with its commit id); one the script kept none for
 * answers no SPUT at all: its identities were stored by the first run.
 */
export function notStored(put: PreparedPut | undefined, puts: readonly unknown[], dropped: readonly string[][]): NotStored {
  const live = put?.live ?? [];
  const unstored = puts.length === live.length ? live.filter((_, j) => puts[j] !== 1) : [];
  const trimmed: Array<[string, string]> = [];
  (put?.users ?? []).forEach((user, j) => {
    for (const id of dropped[j] ?? []) trimmed.push([user, String(id)]);
  });
  return { unstored, trimmed };
}
