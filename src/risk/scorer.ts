import type { BehaviorConfig } from '../config/behaviors-schema.js';
import type { DetectorLimits } from '../detect/types.js';
import { RiskstreamError } from '../errors.js';
import type { BehaviorHit, LevelChange, StreamEvent } from '../types.js';
import { reduce, type ReduceInput } from './reducer.js';
import { appliedMember, type CommitItem, type RiskStore } from './store.js';
import type { UserState } from './state.js';

/** What scoring one batch did. */
export interface ScoreReport {
  users: number;
  applied: number;
  skipped: number;
  hits: BehaviorHit[];
  changes: LevelChange[];
  conflicts: number;
  /** Users whose commit wrote outbox entries (to relay). */
  outboxUsers: string[];
}

/** Scorer settings; `behaviors` is read per batch so a config reload applies from the next batch. */
export interface ScorerOptions {
  behaviors: () => BehaviorConfig[];
  limits: () => DetectorLimits;
  now?: () => number;
  maxRetries?: number;
}

/**
 * Scores a batch: groups events by user, loads their states (one round trip), skips entries
 * already applied (replays after a crash or a claim), reduces, and commits every user atomically
 * with optimistic revisions, retrying users that conflicted with another worker.
 */
export class Scorer {
  constructor(
    private readonly store: RiskStore,
    private readonly opts: ScorerOptions,
  ) {}

  /** Scores events; `ackedBelow` lets commits trim applied markers of entries surely acked. */
  async score(events: StreamEvent[], ackedBelow: number): Promise<ScoreReport> {
    const byUser = new Map<string, StreamEvent[]>();
    for (const e of events) {
      const list = byUser.get(e.event.user);
      if (list) list.push(e);
      else byUser.set(e.event.user, [e]);
    }
    const report: ScoreReport = { users: byUser.size, applied: 0, skipped: 0, hits: [], changes: [], conflicts: 0, outboxUsers: [] };
    let pending = [...byUser.keys()];
    const maxRetries = this.opts.maxRetries ?? 20;
    for (let attempt = 0; pending.length > 0; attempt++) {
      if (attempt > maxRetries) throw new RiskstreamError('COMMIT_CONFLICT', `could not commit ${pending.length} users after ${maxRetries} retries`);
      const now = (this.opts.now ?? Date.now)();
      const maybe = new Map<string, string[]>();
      for (const user of pending) {
        const redelivered = byUser.get(user)!.filter((e) => e.deliveries > 1);
        // Only redelivered entries can have been applied before; first deliveries are ours alone.
        if (redelivered.length) maybe.set(user, redelivered.map((e) => appliedMember(e.ref.stream, e.ref.id)));
      }
      const loaded = await this.store.load(pending, maybe, attempt > 0);
      const items: CommitItem[] = [];
      const results = new Map<string, { hits: BehaviorHit[]; changes: LevelChange[]; applied: number; skipped: number; state: UserState }>();
      for (const user of pending) {
        const l = loaded.get(user)!;
        const inputs: ReduceInput[] = [];
        const applied: Array<[number, string]> = [];
        let skipped = 0;
        for (const e of byUser.get(user)!) {
          const member = appliedMember(e.ref.stream, e.ref.id);
          if (l.applied.has(member)) {
            skipped++;
            continue;
          }
          inputs.push({ event: e.event, ref: e.ref });
          applied.push([Number(e.ref.id.slice(0, e.ref.id.indexOf('-'))), member]);
        }
        const r = reduce(l.state, inputs, this.opts.behaviors(), now, this.opts.limits());
        results.set(user, { hits: r.hits, changes: r.changes, applied: inputs.length, skipped, state: r.state });
        items.push({ user, expectedRev: l.rev, state: r.state, hits: r.hits, changes: r.changes, applied, trimBelow: ackedBelow });
      }
      const conflicts = await this.store.commit(items);
      const committed: UserState[] = [];
      for (const [user, r] of results) {
        if (conflicts.has(user)) continue;
        report.applied += r.applied;
        report.skipped += r.skipped;
        report.hits.push(...r.hits);
        report.changes.push(...r.changes);
        if (r.hits.length || r.changes.length) report.outboxUsers.push(user);
        committed.push(r.state);
      }
      await this.store.index(committed);
      report.conflicts += conflicts.size;
      pending = [...conflicts];
    }
    return report;
  }
}
