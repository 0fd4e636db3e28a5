import type { RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import type { PartitionDelta } from './commit.js';
import { sendCommits } from './commit-send.js';
import type { OwnerStates } from './owner-states.js';
import type { Owned, OwnerOptions, OwnerParts, StepReport } from './owner-types.js';
import type { PoisonGuard } from './poison-guard.js';

/** What a partition owner's commits act on: its partitions, states, parts and poison guard. */
export interface CommitOwner {
  owned: Map<number, Owned>;
  states: OwnerStates;
  parts: OwnerParts;
  guard: PoisonGuard;
  /** Forgets a partition whose lease moved, committing nothing more of it. */
  lose(p: number): void;
  /** Each partition still held under the given token re-reads from its committed position. */
  rewind(parts: Array<[number, string | undefined]>): void;
}

/**
 * A partition owner's commits: when the work applied since the last one is due (caught up, keeping
 * up, a group full or old), and sending it — one commit in flight at a time — with each
 * partition's outcome (landed, fenced, failed) applied to the owner's bookkeeping.
 */
export class OwnerCommits {
  private firstDirtyAt = 0;
  private pendingApplied = 0;
  /** Commits sent (their ids: `token/n`). */
  private commits = 0;
  /** Idle users whose deletion these commits landed (src/engine/forget.ts). */
  forgotten = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly opts: OwnerOptions,
    private readonly owner: CommitOwner,
  ) {}

  /** Work to commit was done at `now` (a group's age counts from its first). */
  dirty(now: number): void {
    if (!this.firstDirtyAt) this.firstDirtyAt = now;
  }

  /** A step applied `n` items. */
  applied(n: number): void {
    this.dirty(Date.now());
    this.pendingApplied += n;
  }

  /**
   * Whether the step's work is to commit now: `backlog` when due with input still waiting (the next
   * read is worth sending ahead of the commit), `now` when due otherwise, false when not due.
   */
  due(report: StepReport): false | 'now' | 'backlog' {
    if (!this.owner.states.deltas.size) return false;
    // Due: caught up (a read found nothing), or keeping up (a small step: input arrives slower than it
    // is applied, so committing now costs little and keeps latency low), or a group is full or old.
    const keepingUp = report.applied + report.deadLettered < (this.opts.smallStep ?? 0);
    const due =
      report.isolated ||
      report.caughtUp ||
      keepingUp ||
      this.pendingApplied >= this.opts.commitEntries ||
      Date.now() - this.firstDirtyAt >= this.opts.commitInterval;
    if (!due) return false;
    return !report.caughtUp && !keepingUp ? 'backlog' : 'now';
  }

  /** Starts committing everything applied (after the commit in flight); resolves once it is sent. */
  async commit(): Promise<number> {
    const { states, owned } = this.owner;
    await states.inflight?.done;
    if (!states.deltas.size) return 0;
    const deltas = states.deltas;
    states.deltas = new Map();
    this.firstDirtyAt = 0;
    this.pendingApplied = 0;
    const tokens = new Map([...deltas.keys()].map((p) => [p, owned.get(p)?.token]));
    const done = this.write(deltas, tokens).finally(() => {
      if (states.inflight?.done === done) states.inflight = null;
    });
    states.inflight = { deltas, done };
    return deltas.size;
  }

  private async write(deltas: Map<number, PartitionDelta>, tokens: Map<number, string | undefined>): Promise<void> {
    const { owned, states, parts, guard } = this.owner;
    await sendCommits(this.redis, this.keys, parts, deltas, tokens, {
      current: (p) => owned.get(p),
      commitId: (token) => `${token}/${++this.commits}`,
      indexed: (u) => states.cache.peek(u)?.sig,
      committed: (d, sigs, sessions) => {
        const o = owned.get(d.partition);
        // Not on a partition rewound meanwhile (committed null): it reloads the position, this one included.
        if (o && o.token === tokens.get(d.partition) && o.committed !== null) o.committed = d.pos;
        states.signed(d, sigs, sessions);
        // Deleted now (one given a state again in this same commit was not).
        if (d.forget) {
          let n = 0;
          for (const u of d.forget) if (!d.states.has(u)) n++;
          this.forgotten += n;
          if (n) parts.onForgotten?.(n);
        }
        if (d.idleFill?.progress.cursor === 'done') parts.onIdleBackfilled?.(d.partition, d.idleFill.progress);
      },
      rewind: (ps) => this.owner.rewind(ps.map((p) => [p, tokens.get(p)])),
      failed: (p, err) => {
        const o = owned.get(p);
        if (o?.token === tokens.get(p)) void guard.failed(p, o!, err).catch(() => undefined); // not counted: Redis is away
      },
      lose: (p) => {
        if (owned.get(p)?.token === tokens.get(p)) this.owner.lose(p);
      },
      built: (p, ms) => guard.worked(p, ms),
    });
  }
}
