import type { BehaviorConfig } from '../config/behaviors-schema.js';
import type { DetectorLimits } from '../detect/types.js';
import { RiskstreamError } from '../errors.js';
import type { BehaviorHit, LevelChange, StreamEvent } from '../types.js';
import { reduce, type ReduceInput } from './reducer.js';
import { appliedMember, type AckedBelow, type CommitItem, type Loaded, type RiskStore } from './store.js';
import { compareIds, type UserState } from './state.js';

/** The ms part of a stream entry id (the applied markers' score). */
function idMs(id: string): number {
  const dash = id.indexOf('-');
  return Number(dash < 0 ? id : id.slice(0, dash));
}

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
 * already applied (redeliveries after a crash, a claim or a rewound group), reduces, and commits
 * every user atomically with optimistic revisions, retrying users that conflicted with another
 * worker.
 */
export class Scorer {
  constructor(
    private readonly store: RiskStore,
    private readonly opts: ScorerOptions,
  ) {}

  /**
   * Scores events. `ackedBelow` lets commits trim applied markers of entries surely acked;
   * `ackedByStream` (the same bound per input stream) is stored with each committed user, so a
   * later redelivery of an entry below it is known as applied even once its marker is gone.
   */
  async score(events: StreamEvent[], ackedBelow: number, ackedByStream: AckedBelow = {}): Promise<ScoreReport> {
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
        // Redelivered entries (crash, claim) may have been applied: their markers come with the state.
        if (redelivered.length)
          maybe.set(
            user,
            redelivered.map((e) => appliedMember(e.ref.stream, e.ref.id)),
          );
      }
      const loaded = await this.store.load(pending, maybe, attempt > 0);
      // An entry delivered for the first time may have been applied too when the group was
      // rewound (XGROUP SETID) or another consumer committed it: whenever its id is not above the
      // user's last applied id in its stream. Below the stored acked bound it surely was; above
      // it, its marker tells (one more round trip, only for such entries).
      const checked = new Set<string>();
      const isDone = (l: Loaded, e: StreamEvent): boolean | undefined => {
        if (idMs(e.ref.id) < (l.acked[e.ref.stream] ?? 0)) return true;
        const member = appliedMember(e.ref.stream, e.ref.id);
        if (l.applied.has(member)) return true;
        if (e.deliveries > 1 || checked.has(`${e.event.user}\u0000${member}`)) return false; // marker looked up: absent
        const last = l.state.lastIds[e.ref.stream];
        return last !== undefined && compareIds(e.ref.id, last) <= 0 ? undefined : false;
      };
      const ask = new Map<string, string[]>();
      for (const user of pending) {
        const l = loaded.get(user)!;
        const unsure = byUser
          .get(user)!
          .filter((e) => isDone(l, e) === undefined)
          .map((e) => appliedMember(e.ref.stream, e.ref.id));
        if (unsure.length) ask.set(user, unsure);
      }
      for (const [user, found] of await this.store.appliedOf(ask)) for (const m of found) loaded.get(user)!.applied.add(m);
      for (const [user, members] of ask) for (const m of members) checked.add(`${user}\u0000${m}`);

      const items: CommitItem[] = [];
      const results = new Map<string, { hits: BehaviorHit[]; changes: LevelChange[]; applied: number; skipped: number; state: UserState }>();
      for (const user of pending) {
        const l = loaded.get(user)!;
        const inputs: ReduceInput[] = [];
        const applied: Array<[number, string]> = [];
        let skipped = 0;
        for (const e of byUser.get(user)!) {
          if (isDone(l, e) !== false) {
            skipped++;
            continue;
          }
          inputs.push({ event: e.event, ref: e.ref });
          applied.push([idMs(e.ref.id), appliedMember(e.ref.stream, e.ref.id)]);
        }
        if (inputs.length === 0) {
          // Nothing new for this user: no commit (the state stays exactly as it was).
          report.skipped += skipped;
          continue;
        }
        const r = reduce(l.state, inputs, this.opts.behaviors(), now, this.opts.limits());
        results.set(user, { hits: r.hits, changes: r.changes, applied: inputs.length, skipped, state: r.state });
        const acked: AckedBelow = { ...l.acked };
        for (const [stream, ms] of Object.entries(ackedByStream)) acked[stream] = Math.max(acked[stream] ?? 0, ms);
        items.push({ user, expectedRev: l.rev, state: r.state, hits: r.hits, changes: r.changes, applied, trimBelow: ackedBelow, acked });
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
