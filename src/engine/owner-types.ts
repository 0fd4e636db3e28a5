import type { PreparedPut, PutResult } from '../sessions/store.js';
import type { SessionIdentity } from '../sessions/identity.js';
import { ZERO_KEY, type OrderKey } from '../partition.js';
import type { BehaviorHit, LevelChange, RawEntry, StreamEvent } from '../types.js';
import type { ApplyContext } from './apply.js';
import type { CommitSettings } from './commit.js';
import type { RoutedHandoff } from './handoff.js';
import type { BackfillProgress } from './idle-backfill.js';

/** What the owner needs from the rest of the worker. */
export interface OwnerParts {
  /** Behaviors, limits, `now` and epochs for one apply step (config reloads apply from the next step). */
  context(): ApplyContext | Promise<ApplyContext>;
  settings(): CommitSettings;
  /** Session audit: identities of applied logins, written in their partition's commit. */
  sessions: {
    /** The identities to store for applied events (none when session audit is off). */
    build(events: StreamEvent[]): SessionIdentity[];
    prepare(identities: readonly SessionIdentity[]): PreparedPut;
    /** After the commit: refusals and clean-ups to report. */
    after(result: PutResult): Promise<void>;
    /** Whether session audit is on now (sessions' baselines are attached only then). Absent: off. */
    enabled?(): boolean;
    /** `sessions.default_lifetime` now: a session's end when its login gives none. Absent: the shipped 12 h. */
    lifetime?(): number;
  };
  /** Items the reducer threw on, to the dead-letter stream. */
  deadLetter(bad: Array<{ raw: RawEntry; reason: string }>): Promise<void>;
  /** Users whose outbox got entries (relay them onward; must not throw). */
  relay(users: string[]): void;
  /** The level changes of commits that landed, in commit order, before their relay (must not throw). */
  committed?(changes: LevelChange[]): void;
  /** Idle users whose deletion a commit just landed (src/engine/forget.ts; must not throw). */
  onForgotten?(count: number): void;
  /** A commit landed the last chunk of a partition's idle-index backfill (src/engine/idle-backfill.ts; must not throw). */
  onIdleBackfilled?(partition: number, progress: BackfillProgress): void;
  /** A commit failed (it is redone from the committed position). */
  onCommitError(err: unknown): void;
  /** A commit refused because the partition's lease moved. */
  onFenced(partition: number): void;
  /** Applying a partition threw outside the per-event catch (it is re-read; the failure counts toward isolating it). */
  onApplyError?(partition: number, err: unknown): void;
  /** Entries this process's router offered (optional: else every entry is decoded). */
  handoff?: Pick<RoutedHandoff, 'take' | 'forget'>;
}

/** Owner settings. */
export interface OwnerOptions {
  lruSize: number;
  readCount: number;
  commitInterval: number;
  commitEntries: number;
  /**
   * A step applying fewer items than this is keeping up with its input (not in a backlog): its work
   * is committed at once, for latency, instead of waiting for `commitInterval`. 0 (default): off.
   */
  smallStep?: number;
  /** Attempts before a partition is isolated, and tries alone before an item is dead-lettered (src/engine/poison-guard.ts; default 3). */
  poisonAttempts?: number;
  /**
   * The partitions' lease ttl and renewal period (`engine.lease_ttl`, `engine.heartbeat`, ms;
   * defaults 10 s and a fifth of the ttl): an item tried alone whose own work took long enough to cost the lease
   * keeps its try when the lease is lost (`stallAfter` in src/engine/poison-guard.ts).
   */
  leaseTtl?: number;
  heartbeat?: number;
}

/** What one step did. */
export interface StepReport {
  read: number;
  applied: number;
  skipped: number;
  deadLettered: number;
  committed: number;
  /** Every owned partition stream was read to its end. */
  caughtUp: boolean;
  hits: BehaviorHit[];
  changes: LevelChange[];
  /** Time spent applying (ms). */
  ms: number;
  /** A partition was isolated (one item applied alone): committed at once. */
  isolated?: boolean;
}

/** A partition owned under a lease: its token and positions (the owner's own bookkeeping). */
export interface Owned {
  token: string;
  /** Last committed key; null until loaded. */
  committed: OrderKey | null;
  /** Last applied key (committed or not). */
  applied: OrderKey;
  /** Stream cursor: last partition entry id read. */
  cursor: string;
  /** Just taken: its start is to count (src/engine/poison-guard.ts). */
  fresh?: boolean;
  /** The idle index's backfill of the partition is finished, or its last chunk given (src/engine/idle-backfill.ts). */
  backfilled?: boolean;
}

/** A partition held under `token` whose committed position is not loaded yet (loaded before its first read). */
export function unloaded(token: string): Owned {
  return { token, committed: null, applied: ZERO_KEY, cursor: '0' };
}
