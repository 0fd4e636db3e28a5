import { byPartition as byPartitionOf, corked, pipeline, type RedisClient } from '../redis/client.js';
import { LRUCache } from 'lru-cache';
import type { Keys } from '../keys.js';
import { parseKey, ZERO_KEY, type OrderKey } from '../partition.js';
import { defineScripts } from '../redis/scripts.js';
import { decodeState } from '../risk/state-codec.js';
import { emptyState, type UserState } from '../risk/state.js';
import type { BehaviorHit, LevelChange, RawEntry } from '../types.js';
import { applyItems, type ApplyContext } from './apply.js';
import type { OwnerOptions, OwnerParts, StepReport } from './owner-types.js';
import { emptyDelta, type PartitionDelta } from './commit.js';
import { sendCommits } from './commit-send.js';
import { sweepDue } from './sweep.js';
import { decodeRouted, type RoutedItem } from './routed.js';
import { readPartitions, type StreamRows } from './partition-read.js';

export type { OwnerOptions, OwnerParts, StepReport } from './owner-types.js';

interface Owned {
  token: string;
  /** Last committed key; null until loaded. */
  committed: OrderKey | null;
  /** Last applied key (committed or not). */
  applied: OrderKey;
  /** Stream cursor: last partition entry id read. */
  cursor: string;
}

/**
 * Owns partitions: reads each owned partition stream strictly in order, applies its items to users'
 * states held in memory (an LRU; a miss loads from the partition's state hash), and commits every
 * `commitInterval` (or `commitEntries` items, or when caught up) one atomic, lease-fenced script per
 * partition: states, risk events, outbox, indexes and the input position. Reading and applying
 * the next entries overlaps the commit in flight. After a crash, or a lease taken over, the next
 * owner resumes from the committed position: items up to it are skipped by their order key.
 */
export class PartitionOwner {
  private readonly owned = new Map<number, Owned>();
  private deltas = new Map<number, PartitionDelta>();
  private inflight: { deltas: Map<number, PartitionDelta>; done: Promise<void> } | null = null;
  /** The next step's read, sent ahead of a commit ({@link readAhead}), with the partitions it reads. */
  private ahead: { reading: Array<[number, Owned]>; res: Promise<StreamRows[]> } | null = null;
  private readonly cache: LRUCache<string, { state: UserState; sig?: string }>;
  private firstDirtyAt = 0;
  private pendingApplied = 0;
  /** Commits sent (their ids: `token/n`). */
  private commits = 0;

  constructor(
    private readonly redis: RedisClient,
    private readonly reader: RedisClient,
    private readonly keys: Keys,
    private readonly opts: OwnerOptions,
    private readonly parts: OwnerParts,
  ) {
    this.cache = new LRUCache({ max: Math.max(opts.lruSize, 1) });
    defineScripts(redis);
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
    this.drop(p);
    this.owned.set(p, { token, committed: null, applied: ZERO_KEY, cursor: '0' });
  }

  /** Lease lost: forgets the partition at once, committing nothing more of it. */
  lose(p: number): void {
    this.drop(p);
  }

  /** Assignment moved: commits what was applied, then forgets the partition. */
  async release(p: number): Promise<void> {
    if (!this.owned.has(p)) return;
    await this.commit();
    await this.inflight?.done;
    this.drop(p);
  }

  /** Forgets partitions and their users' cached states (one pass over the cache for them all). */
  private drop(...parts: number[]): void {
    const gone = new Set(parts);
    // A read sent ahead holds these partitions' old cursors: not taken (its other partitions are read again).
    if (gone.size) this.ahead = null;
    for (const p of gone) {
      this.owned.delete(p);
      this.deltas.delete(p);
      this.parts.handoff?.forget(p);
    }
    for (const user of [...this.cache.keys()]) if (gone.has(this.keys.partitionOf(user))) this.cache.delete(user);
  }

  /** One step: read owned partitions (blocking up to `blockMs` when idle), apply, commit when due. */
  async step(blockMs: number): Promise<StepReport> {
    const report: StepReport = { read: 0, applied: 0, skipped: 0, deadLettered: 0, committed: 0, caughtUp: true, hits: [], changes: [], ms: 0 };
    await this.loadPositions();
    const ahead = this.ahead;
    this.ahead = null;
    const reading = ahead?.reading ?? this.readable();
    if (!reading.length) {
      await new Promise((r) => setTimeout(r, Math.min(blockMs, 100)));
      return report;
    }
    const idle = this.deltas.size === 0;
    const res = await (ahead?.res ?? this.read(reading, idle ? blockMs : 0));
    // Each partition as it was read: one lost, taken again or rewound meanwhile is another object.
    const readAs = new Map(reading);
    const started = performance.now();
    // Each partition is applied as soon as it is decoded when all its users' states are at hand (the
    // usual case): its decoded items are then garbage before the next partition is decoded, never
    // held (and copied, promoted, marked by the garbage collector) across the whole step. Partitions
    // with states to load wait for one HMGET per partition, sent together after the read.
    const step: StepApply = { ctx: this.parts.context(), report, bad: [], applied: false };
    const waiting: Array<{ p: number; o: Owned; items: RoutedItem[]; users: Map<string, RoutedItem[]> }> = [];
    const missing: Array<[string, number]> = [];
    const base = new Map<string, UserState>();
    for (const [streamBuf, entries] of res) {
      const p = partitionOfStream(streamBuf.toString());
      const o = this.owned.get(p);
      if (!o || o !== readAs.get(p)) continue; // lost (or rewound) while reading

      const items: RoutedItem[] = [];
      // Skips items not above the last applied or accepted key: a re-routed entry repeats items of
      // earlier entries, possibly of this same read.
      let lastMs = o.applied.ms;
      let lastSeq = o.applied.seq;
      for (const [idBuf, fields] of entries) {
        o.cursor = idBuf.toString();
        report.read++;
        const value = fields[1];
        if (!value) continue;
        for (const item of this.parts.handoff?.take(p, o.cursor, value) ?? decodeRouted(value)) {
          const [ms, seq] = item.k;
          if (ms < lastMs || (ms === lastMs && seq <= lastSeq))
            report.skipped++; // compareKeys(k, last) <= 0
          else {
            items.push(item);
            lastMs = ms;
            lastSeq = seq;
          }
        }
      }
      if (!items.length) continue;
      const users = itemsByUser(items);
      // The partition's starting states, held here: applying one user can evict another's from the
      // LRU (and a partition waiting for its loads, any of them).
      const known = missing.length;
      for (const user of users.keys()) {
        const state = this.current(user, p);
        if (state) base.set(user, state);
        else missing.push([user, p]);
      }
      if (missing.length === known) this.applyPartition(p, o, items, users, base, step);
      else waiting.push({ p, o, items, users });
    }
    // Caught up = a read found nothing new: commit now (low latency when idle); under a backlog
    // reads never come back empty, and commits group `commitInterval` / `commitEntries` of work.
    report.caughtUp = report.read === 0;
    if (waiting.length) {
      await this.loadStates(missing, base);
      for (const w of waiting) this.applyPartition(w.p, w.o, w.items, w.users, base, step);
    }
    if (step.bad.length) await this.parts.deadLetter(step.bad);
    report.deadLettered += step.bad.length;
    if (step.applied) {
      if (!this.firstDirtyAt) this.firstDirtyAt = Date.now();
      this.pendingApplied += report.applied;
    }
    report.ms = performance.now() - started;
    await this.maybeCommit(report);
    return report;
  }

  /** Owned partitions whose position is loaded, with their state now. */
  private readable(): Array<[number, Owned]> {
    return [...this.owned].filter(([, o]) => o.committed !== null);
  }

  private read(reading: ReadonlyArray<[number, Owned]>, blockMs: number): Promise<StreamRows[]> {
    return readPartitions(
      this.reader,
      reading.map(([p]) => this.keys.partitionIn(p)),
      reading.map(([, o]) => o.cursor),
      this.opts.readCount,
      blockMs,
    );
  }

  /**
   * Sends the next step's read now, before a commit under a backlog: Redis runs commands in the order
   * they arrive, so a read sent after the commit's scripts would wait for all of them, and the owner
   * with it — applying and committing would take turns instead of overlapping.
   */
  private readAhead(): void {
    const reading = this.readable();
    if (!reading.length) return;
    const res = this.read(reading, 0);
    res.catch(() => undefined); // the step that takes it sees the failure
    this.ahead = { reading, res };
  }

  /** Loads the committed position of partitions just acquired. */
  private async loadPositions(): Promise<void> {
    const fresh = [...this.owned].filter(([, o]) => o.committed === null);
    if (!fresh.length) return;
    const p = pipeline(this.redis);
    for (const [n] of fresh) p.hget(this.keys.partitionPos(n), 'pos');
    const res = (await p.exec()) ?? [];
    fresh.forEach(([n, o], i) => {
      const [err, pos] = res[i] ?? [];
      if (err || this.owned.get(n) !== o) return;
      o.committed = pos ? parseKey(String(pos)) : ZERO_KEY;
      o.applied = o.committed;
      o.cursor = pos ? String(pos) : '0';
    });
  }

  /** The state of a user now: uncommitted, in flight, cached, else stored. */
  private current(user: string, p: number): UserState | undefined {
    return this.deltas.get(p)?.states.get(user) ?? this.inflight?.deltas.get(p)?.states.get(user) ?? this.cache.get(user)?.state;
  }

  /** Loads users' states missing from memory (one HMGET per partition's state hash, all in one write) into `base` and the LRU. */
  private async loadStates(missing: Array<[string, number]>, base: Map<string, UserState>): Promise<void> {
    const parts = [...byPartitionOf(missing, ([, p]) => p)];
    const res = await Promise.all(corked(this.redis, () => parts.map(([p, us]) => this.redis.hmgetBuffer(this.keys.partitionState(p), ...us.map(([u]) => u)))));
    parts.forEach(([, us], i) =>
      us.forEach(([user], j) => {
        const state = decodeState(res[i]![j] ?? null, user) ?? emptyState(user);
        base.set(user, state);
        this.cache.set(user, { state });
      }),
    );
  }

  /** Applies one partition's items (grouped by user, in order) to its delta, if `o` (as read) still owns it; `base` holds the step's starting states. */
  private applyPartition(p: number, o: Owned, routed: RoutedItem[], users: Map<string, RoutedItem[]>, base: Map<string, UserState>, step: StepApply): void {
    // Lost, taken again or rewound while its states loaded: another object (its read is not applied).
    if (this.owned.get(p) !== o) return;
    const { ctx, report } = step;
    let d = this.deltas.get(p);
    if (!d) this.deltas.set(p, (d = emptyDelta(p, o.applied)));
    const inflight = this.inflight?.deltas.get(p)?.states;
    for (const [user, items] of users) {
      // current(), without the LRU's recency update (the set below makes it the most recent).
      const cached = this.cache.peek(user);
      const before = d.states.get(user) ?? inflight?.get(user) ?? cached?.state ?? base.get(user) ?? emptyState(user);
      const a = applyItems(user, before, items, ctx);
      if (a.state !== before) d.states.set(user, a.state);
      if (cached) {
        cached.state = a.state; // its index signature stays
        this.cache.set(user, cached);
      } else this.cache.set(user, { state: a.state });
      for (const e of a.events) {
        d.events.push(e);
        (e.kind === 'hit' ? report.hits : report.changes).push(e.data as BehaviorHit & LevelChange);
      }
      for (const r of a.results) d.results.push(r);
      for (const x of a.audits) d.audits.push(x);
      if (a.applied.length) for (const id of this.parts.sessions.build(a.applied)) d.sessions.push(id);
      for (const f of a.failed) step.bad.push({ raw: rawOf(f.item), reason: `processing_failed: ${f.code}` });
      report.applied += items.length - a.failed.length;
    }
    const last = routed[routed.length - 1]!.k;
    o.applied = d.pos = { ms: last[0], seq: last[1] };
    d.applied += routed.length;
    step.applied = true;
  }

  /** Expires what is due in owned partitions (in memory; committed with the next commit). */
  async sweep(now: number, limit = 200): Promise<number> {
    const n = await sweepDue(this.redis, this.keys, now, limit, {
      partitions: () => this.readable().map(([p]) => p),
      owns: (p) => this.owned.has(p),
      current: (user, p) => this.current(user, p),
      expired: (p, user, r) => {
        const o = this.owned.get(p);
        if (!o) return;
        let d = this.deltas.get(p);
        if (!d) this.deltas.set(p, (d = emptyDelta(p, o.applied)));
        d.states.set(user, r.state);
        this.cache.set(user, { state: r.state }); // no signature: the index entry is rewritten
        for (const c of r.changes) d.events.push({ user, kind: 'change', data: c });
      },
    });
    if (n && !this.firstDirtyAt) this.firstDirtyAt = now;
    return n;
  }

  private async maybeCommit(report: StepReport): Promise<void> {
    if (!this.deltas.size) return;
    // Due: caught up (a read found nothing), or keeping up (a small step: input arrives slower than it
    // is applied, so committing now costs little and keeps latency low), or a group is full or old.
    const keepingUp = report.applied + report.deadLettered < (this.opts.smallStep ?? 0);
    const due = report.caughtUp || keepingUp || this.pendingApplied >= this.opts.commitEntries || Date.now() - this.firstDirtyAt >= this.opts.commitInterval;
    if (!due) return;
    if (!report.caughtUp && !keepingUp) this.readAhead();
    report.committed = await this.commit();
  }

  /** Starts committing everything applied (after the commit in flight); resolves once it is sent. */
  async commit(): Promise<number> {
    await this.inflight?.done;
    if (!this.deltas.size) return 0;
    const deltas = this.deltas;
    this.deltas = new Map();
    this.firstDirtyAt = 0;
    this.pendingApplied = 0;
    const tokens = new Map([...deltas.keys()].map((p) => [p, this.owned.get(p)?.token]));
    const done = this.write(deltas, tokens).finally(() => {
      if (this.inflight?.done === done) this.inflight = null;
    });
    this.inflight = { deltas, done };
    return deltas.size;
  }

  /** Waits for the commit in flight. */
  async settle(): Promise<void> {
    await this.inflight?.done;
  }

  private async write(deltas: Map<number, PartitionDelta>, tokens: Map<number, string | undefined>): Promise<void> {
    await sendCommits(this.redis, this.keys, this.parts, deltas, tokens, {
      current: (p) => this.owned.get(p),
      commitId: (token) => `${token}/${++this.commits}`,
      indexed: (u) => this.cache.peek(u)?.sig,
      committed: (d, sigs) => {
        const o = this.owned.get(d.partition);
        // Not on a partition rewound meanwhile (committed null): it reloads the position, this one included.
        if (o && o.token === tokens.get(d.partition) && o.committed !== null) o.committed = d.pos;
        for (const [user, sig] of sigs) {
          const c = this.cache.peek(user);
          if (c && c.state === d.states.get(user)) c.sig = sig;
        }
      },
      rewind: (ps) => this.rewind(ps.map((p) => [p, tokens.get(p)])),
      lose: (p) => {
        if (this.owned.get(p)?.token === tokens.get(p)) this.lose(p);
      },
    });
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
    for (const [p] of again) this.inflight?.deltas.delete(p);
    this.drop(...again.map(([p]) => p));
    for (const [p, token] of again) this.owned.set(p, { token, committed: null, applied: ZERO_KEY, cursor: '0' });
  }
}

/** One step's apply: its context, report and dead letters, and whether anything was applied. */
interface StepApply {
  ctx: ApplyContext;
  report: StepReport;
  bad: Array<{ raw: RawEntry; reason: string }>;
  applied: boolean;
}

/** Items grouped by user, each user's in order (users in order of first item). */
function itemsByUser(items: readonly RoutedItem[]): Map<string, RoutedItem[]> {
  const users = new Map<string, RoutedItem[]>();
  for (const it of items) {
    const user = 'e' in it ? it.e.user : it.c.user;
    const list = users.get(user);
    if (list) list.push(it);
    else users.set(user, [it]);
  }
  return users;
}

/** The partition number of a partition stream key (`…:{p<n>}:in`). */
function partitionOfStream(key: string): number {
  const m = /\{p(\d+)\}:in$/.exec(key);
  return m ? Number(m[1]) : -1;
}

/** A routed item as a raw entry (for the dead-letter stream). */
function rawOf(item: RoutedItem): RawEntry {
  const fields: Record<string, string> = 'e' in item ? { event: JSON.stringify(item.e), canonical: '1' } : { op: item.c.op, user: item.c.user };
  return { stream: item.s, id: item.i, fields, deliveries: 1 };
}
