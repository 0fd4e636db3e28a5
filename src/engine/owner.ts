import { isCluster, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { defineScripts } from '../redis/scripts.js';
import { unloaded, type Owned, type OwnerOptions, type OwnerParts, type StepReport } from './owner-types.js';
import { OwnerCommits } from './owner-commits.js';
import { sweepOwned, type SweepReport } from './owner-sweep.js';
import { lastRead, mergeRows, readPartitions, type StreamRows } from './partition-read.js';
import { applyRead } from './owner-apply.js';
import { applyWaiting, newStep } from './owner-step.js';
import { heldEntries, PoisonGuard, stallAfter } from './poison-guard.js';
import { loadPositions, OwnerStates } from './owner-states.js';

export type { OwnerOptions, OwnerParts, StepReport } from './owner-types.js';

/**
 * Owns partitions: reads each owned partition stream strictly in order, applies its items to users'
 * states held in memory (an LRU; a miss loads from the partition's state hash), and commits every
 * `commitInterval` (or `commitEntries` items, or when caught up) one atomic, lease-fenced script per
 * partition: states, risk events, outbox, indexes and the input position. Reading and applying
 * the next entries overlaps the commit in flight. After a crash, or a lease taken over, the next
 * owner resumes from the committed position: items up to it are skipped by their order key.
 */
export class PartitionOwner {
  readonly owned = new Map<number, Owned>();
  /** Users' states in memory: uncommitted, in flight, cached. */
  readonly states: OwnerStates;
  /** The next step's read, sent ahead of a commit ({@link readAhead}), with the partitions it reads. */
  private ahead: { reading: Array<[number, Owned]>; res: Promise<StreamRows[]> } | null = null;
  /** Attempts per partition and committed position; partitions isolated (src/engine/poison-guard.ts). */
  private readonly guard: PoisonGuard;
  /** When a commit is due, and sending it (src/engine/owner-commits.ts). */
  private readonly committer: OwnerCommits;

  constructor(
    private readonly redis: RedisClient,
    private readonly reader: RedisClient,
    readonly keys: Keys,
    private readonly opts: OwnerOptions,
    readonly parts: OwnerParts,
  ) {
    this.states = new OwnerStates(redis, keys, opts.lruSize);
    const ttl = opts.leaseTtl ?? 10_000;
    this.guard = new PoisonGuard(redis, keys, opts.poisonAttempts, heldEntries(opts), stallAfter(ttl, opts.heartbeat ?? ttl / 5));
    const { owned, states, guard } = this;
    this.committer = new OwnerCommits(redis, keys, opts, { owned, states, parts, guard, lose: (p) => this.lose(p), rewind: (ps) => this.rewind(ps) });
    defineScripts(redis);
  }

  /** Idle users whose deletion this owner's commits landed (src/engine/forget.ts). */
  get forgotten(): number {
    return this.committer.forgotten;
  }

  /** Partitions owned now. */
  partitions(): number[] {
    return [...this.owned.keys()];
  }

  /** True while partition `p` is owned here. */
  owns(p: number): boolean {
    return this.owned.has(p);
  }

  /** Takes partition `p` under lease `token` (its position is loaded before its first read). */
  acquire(p: number, token: string): void {
    this.abandon(p);
    this.drop(p);
    this.owned.set(p, { ...unloaded(token), fresh: true });
  }

  /** Lease lost: forgets the partition at once, committing nothing more of it. */
  lose(p: number): void {
    this.abandon(p);
    this.drop(p);
  }

  /** Partition `p` forgotten: an item of it tried alone, not committed, was not tried for good (src/engine/poison-guard.ts). */
  private abandon(p: number): void {
    const o = this.owned.get(p);
    if (o) this.guard.abandoned(p, o.token);
  }

  /** Assignment moved: commits what was applied, then forgets the partition (handed over cleanly). */
  async release(p: number): Promise<void> {
    if (!this.owned.has(p)) return;
    await this.commit();
    await this.states.inflight?.done;
    await this.guard.handedOver([[p, this.owned.get(p)]]);
    this.drop(p);
  }

  /** Stopping, every commit answered: the partitions still owned are handed over cleanly (src/engine/poison-guard.ts). */
  handOver(): Promise<void> {
    return this.guard.handedOver([...this.owned]);
  }

  /** Forgets partitions and their users' cached states (one pass over the cache for them all). */
  private drop(...parts: number[]): void {
    const gone = new Set(parts);
    // A read sent ahead holds these partitions' old cursors: not taken (its other partitions are read again).
    if (gone.size) this.ahead = null;
    for (const p of gone) {
      this.owned.delete(p);
      this.parts.handoff?.forget(p);
    }
    this.states.forget(gone);
  }

  /** One step: read owned partitions (blocking up to `blockMs` when idle), apply, commit when due. */
  async step(blockMs: number): Promise<StepReport> {
    const report: StepReport = { read: 0, applied: 0, skipped: 0, deadLettered: 0, committed: 0, caughtUp: true, hits: [], changes: [], ms: 0 };
    await this.guard.taken(this.owned);
    await loadPositions(this.redis, this.keys, this.owned);
    const isolated = this.readable().filter(([p, o]) => this.guard.isolated(p, o.committed));
    if (isolated.length) await this.settle(); // an item tried alone follows its predecessor's commit
    const alone = new Set(isolated.map(([p]) => p));
    const ahead = this.ahead;
    this.ahead = null;
    const reading = (ahead?.reading ?? this.readable()).filter(([p]) => !alone.has(p));
    if (!reading.length && !alone.size) {
      await new Promise((r) => setTimeout(r, Math.min(blockMs, 100)));
      return report;
    }
    const idle = this.states.deltas.size === 0 && !alone.size;
    let res = reading.length ? await (ahead?.res ?? this.read(reading, idle ? blockMs : 0)) : [];
    // Woken from a blocking read, Redis (< 7.2) answers with the one stream that woke it: the router's
    // other partitions are read now, for this step (one step and commit per input burst, not two).
    if (!ahead && idle && blockMs > 0 && res.length === 1 && reading.length > 1 && !isCluster(this.reader))
      res = mergeRows(res, await this.read(reading, 0, lastRead(res)));
    // Isolated partitions: one entry each (one item of it applied), the read blocking when it is the only one.
    if (alone.size) res = mergeRows(res, await this.read(isolated, reading.length || this.states.deltas.size ? 0 : blockMs, undefined, 1));
    // Each partition as it was read: one lost, taken again or rewound meanwhile is another object.
    const readAs = new Map([...reading, ...isolated]);
    const started = performance.now();
    const step = newStep(this, await this.parts.context(), report, alone);
    // Caught up = a read found nothing new: commit now (under a backlog commits group work instead).
    const waiting = applyRead(res, readAs, step);
    report.caughtUp = report.read === 0;
    if (waiting.length) await applyWaiting(waiting, step, this.guard, [this.states.load(step.missing, step.base), this.states.loadSessions(step.sessionReads)]);
    for (const f of step.failures) {
      this.parts.onApplyError?.(f.p, f.err);
      await this.guard.failed(f.p, f.o, f.err);
      this.rewind([[f.p, f.o.token]]);
    }
    report.isolated = alone.size > 0;
    if (step.bad.length) await this.parts.deadLetter(step.bad);
    report.deadLettered += step.bad.length;
    if (step.applied) this.committer.applied(report.applied);
    report.ms = performance.now() - started;
    await this.maybeCommit(report);
    return report;
  }

  /** Owned partitions whose position is loaded, with their state now. */
  private readable(): Array<[number, Owned]> {
    return [...this.owned].filter(([, o]) => o.committed !== null);
  }

  /** Reads the partitions after their cursors (`from`: a cursor by stream name, past what was read). */
  private read(
    reading: ReadonlyArray<[number, Owned]>,
    blockMs: number,
    from?: ReadonlyMap<string, string>,
    count = this.opts.readCount,
  ): Promise<StreamRows[]> {
    const streams = reading.map(([p]) => this.keys.partitionIn(p));
    const cursors = reading.map(([, o], i) => from?.get(streams[i]!) ?? o.cursor);
    return readPartitions(this.reader, streams, cursors, count, blockMs);
  }

  /**
   * Sends the next step's read now, before a commit under a backlog: Redis runs commands in the order
   * they arrive, so a read sent after the commit's scripts would wait for all of them, and the owner
   * with it — applying and committing would take turns instead of overlapping.
   */
  private readAhead(): void {
    const reading = this.readable();
    if (!reading.length || this.guard.any(this.owned)) return;
    const res = this.read(reading, 0);
    res.catch(() => undefined); // the step that takes it sees the failure
    this.ahead = { reading, res };
  }

  /**
   * Expires what is due in owned partitions, forgets their idle users and fixes their idle indexes
   * (in memory; committed with the next commit). Returns what it decided: the users forgotten are
   * counted in {@link forgotten} (and reported through `onForgotten`) once their commit lands.
   */
  async sweep(now: number, limit = 200): Promise<SweepReport> {
    const r = await sweepOwned(
      this.redis,
      this.keys,
      { owned: this.owned, sweeping: new Map(this.readable()), states: this.states, parts: this.parts },
      now,
      limit,
    );
    if (r.expired || r.forgotten || r.fixed || r.backfilled) this.committer.dirty(now);
    return r;
  }

  private async maybeCommit(report: StepReport): Promise<void> {
    const due = this.committer.due(report);
    if (!due) return;
    if (due === 'backlog') this.readAhead();
    report.committed = await this.commit();
  }

  /** Starts committing everything applied (after the commit in flight); resolves once it is sent. */
  commit(): Promise<number> {
    return this.committer.commit();
  }

  /** Waits for the commit in flight (and the tries being taken back). */
  async settle(): Promise<void> {
    await this.states.inflight?.done;
    await this.guard.settled();
  }

  /** After a failed step: every owned partition re-reads from its committed position. */
  rewindAll(): void {
    this.rewind([...this.owned].map(([p, o]) => [p, o.token]));
  }

  /**
   * A failed commit or step: each partition still held under the given token forgets what was
   * applied since its committed position and re-reads from it.
   */
  private rewind(parts: Array<[number, string | undefined]>): void {
    const again = parts.filter(([p, token]) => token !== undefined && this.owned.get(p)?.token === token) as Array<[number, string]>;
    for (const [p] of again) this.states.inflight?.deltas.delete(p);
    this.drop(...again.map(([p]) => p));
    for (const [p, token] of again) this.owned.set(p, unloaded(token));
  }
}
