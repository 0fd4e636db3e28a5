import type { Redis } from 'ioredis';
import { LRUCache } from 'lru-cache';
import type { Keys } from '../keys.js';
import { ChunkedPipeline } from '../redis/chunked-pipeline.js';
import { defineScripts, queueScript } from '../redis/scripts.js';
import { levelRank, type BehaviorHit, type LevelChange, type RiskLevel } from '../types.js';
import { emptyState, nextExpiry, parseStoredState, type UserState } from './state.js';

/**
 * Per input stream, a score (ms) below which every entry had been acked — hence applied, if it was
 * this user's — when the user's state was last committed with it. A redelivery below it (a
 * rewound group, a replay of old entries) is skipped without consulting the applied markers,
 * which are trimmed below it.
 */
export type AckedBelow = Record<string, number>;

/** A user's state as loaded, with its optimistic-concurrency revision. */
export interface Loaded {
  rev: number;
  state: UserState;
  acked: AckedBelow;
  /** Which of the asked-about entry members were already applied. */
  applied: Set<string>;
}

/** One user's effects to commit. */
export interface CommitItem {
  user: string;
  expectedRev: number;
  state: UserState;
  hits: BehaviorHit[];
  changes: LevelChange[];
  /** Applied entries: [score (id ms), member (`stream|id`)]. */
  applied: Array<[number, string]>;
  /** Applied markers below this score are trimmed (every entry below it is acked). */
  trimBelow: number;
  /** New acked-below bounds to store with the state (omitted: unchanged). */
  acked?: AckedBelow;
}

/** The member recording that an input entry was applied to a user. */
export function appliedMember(stream: string, id: string): string {
  return `${stream}|${id}`;
}

/** The values a state puts in the global indexes (level score, next expiry). */
function indexSig(state: UserState, expiry: number | null): string {
  return `${levelScore(state)}|${expiry ?? ''}`;
}

/**
 * Score used to rank users: level first, then last change. The change time is kept inside its
 * level's band (0 … 1e13 - 1), so even an absurd stored time never moves a user to another level.
 */
export function levelScore(state: UserState): number {
  const changed = Number.isFinite(state.changedAt) ? Math.min(Math.max(state.changedAt, 0), 1e13 - 1) : 0;
  return levelRank(state.level) * 1e13 + changed;
}

/** The {@link levelScore}s of one level: from `min` (inclusive) up to `top` (exclusive). */
export function levelRange(level: RiskLevel): { min: string; top: number } {
  const rank = levelRank(level);
  return { min: String(rank * 1e13), top: (rank + 1) * 1e13 };
}

/**
 * Durable per-user risk state in Redis: load (pipelined, LRU-cached), atomic per-user commit
 * with optimistic revisions, and the global indexes (users by level, next expiry).
 */
export class RiskStore {
  /** `indexed`: the index values (see {@link indexSig}) this process last wrote for the user. */
  private readonly cache: LRUCache<string, { rev: number; state: UserState; acked: AckedBelow; indexed?: string }> | undefined;

  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    opts: { lruSize?: number; eventsMaxlen?: number } = {},
  ) {
    this.cache = opts.lruSize ? new LRUCache({ max: opts.lruSize }) : undefined;
    this.eventsMaxlen = opts.eventsMaxlen ?? 1000;
    defineScripts(this.redis);
  }
  private readonly eventsMaxlen: number;

  /** Loads users' states (one round trip), checking which `maybeApplied` entries were applied. */
  async load(users: string[], maybeApplied: Map<string, string[]> = new Map(), fresh = false): Promise<Map<string, Loaded>> {
    const out = new Map<string, Loaded>();
    const p = this.redis.pipeline();
    const asked: Array<{ user: string; kind: 'state' | 'applied'; members?: string[] }> = [];
    for (const user of users) {
      const cached = fresh ? undefined : this.cache?.get(user);
      if (cached) out.set(user, { rev: cached.rev, state: cached.state, acked: cached.acked, applied: new Set() });
      else {
        p.hmget(this.keys.userState(user), 'rev', 'data', 'acked');
        asked.push({ user, kind: 'state' });
      }
      const members = maybeApplied.get(user);
      if (members?.length) {
        p.zmscore(this.keys.userApplied(user), ...members);
        asked.push({ user, kind: 'applied', members });
      }
    }
    if (asked.length === 0) return out;
    const res = (await p.exec()) ?? [];
    asked.forEach((a, i) => {
      const [err, val] = res[i] ?? [];
      if (err) throw err;
      if (a.kind === 'state') {
        const [rev, data, acked] = val as [string | null, string | null, string | null];
        out.set(a.user, {
          rev: Number(rev ?? 0),
          state: data ? (JSON.parse(data) as UserState) : emptyState(a.user),
          acked: acked ? (JSON.parse(acked) as AckedBelow) : {},
          applied: new Set(),
        });
      } else {
        const scores = val as Array<string | null>;
        const loaded = out.get(a.user)!;
        a.members!.forEach((m, j) => scores[j] !== null && loaded.applied.add(m));
      }
    });
    return out;
  }

  /** Which of the given entry members (per user) were applied (one round trip). */
  async appliedOf(members: Map<string, string[]>): Promise<Map<string, Set<string>>> {
    const out = new Map<string, Set<string>>();
    const asked = [...members].filter(([, m]) => m.length > 0);
    if (asked.length === 0) return out;
    const p = this.redis.pipeline();
    for (const [user, m] of asked) p.zmscore(this.keys.userApplied(user), ...m);
    const res = (await p.exec()) ?? [];
    asked.forEach(([user, m], i) => {
      const [err, scores] = res[i] ?? [];
      if (err) throw err;
      out.set(user, new Set(m.filter((_, j) => (scores as Array<string | null>)[j] !== null)));
    });
    return out;
  }

  /** Commits users' effects, each atomically, in one round trip. Returns the users that conflicted. */
  async commit(items: CommitItem[]): Promise<Set<string>> {
    if (items.length === 0) return new Set();
    const p = new ChunkedPipeline(this.redis);
    for (const it of items) {
      if (it.changes.length) p.next().zadd(this.keys.outboxPending, Date.now(), it.user);
      const applied: string[] = [];
      for (const [score, member] of it.applied) applied.push(String(score), member);
      const meta = [
        String(this.eventsMaxlen),
        String(it.trimBelow),
        it.acked ? JSON.stringify(it.acked) : '',
        applied,
        it.hits.map((h) => JSON.stringify(h)),
        it.changes.map((c) => JSON.stringify(c)),
      ];
      // risk-commit-4.lua: the user's effects, atomically, if its rev is still the expected one.
      queueScript(
        p.next(),
        'riskCommit',
        this.keys.userState(it.user),
        this.keys.userEvents(it.user),
        this.keys.userOutbox(it.user),
        this.keys.userApplied(it.user),
        it.expectedRev,
        JSON.stringify(it.state),
        JSON.stringify(meta),
      );
    }
    const res = await p.exec();
    const conflicts = new Set<string>();
    let r = 0;
    for (const it of items) {
      if (it.changes.length) r++;
      const [err, rev] = res[r++] ?? [];
      if (err) throw err;
      if (rev === -1) {
        conflicts.add(it.user);
        this.cache?.delete(it.user);
      } else {
        const cached = this.cache?.get(it.user);
        const acked = it.acked ?? (cached?.rev === it.expectedRev ? cached.acked : undefined);
        const indexed = cached?.rev === it.expectedRev ? cached.indexed : undefined;
        if (acked) this.cache?.set(it.user, { rev: Number(rev), state: it.state, acked, ...(indexed !== undefined ? { indexed } : {}) });
        else this.cache?.delete(it.user); // its acked bounds are not known here: re-read next time
      }
    }
    return conflicts;
  }

  /**
   * Updates the global indexes from committed states (idempotent). Skips a user whose cached
   * state is this one and whose index entries this process already wrote with the same values
   * (most commits change neither level nor expiry); any other writer of a user's index commits
   * that user first, which invalidates our cache entry through the revision check.
   */
  async index(states: UserState[]): Promise<void> {
    if (states.length === 0) return;
    const p = this.redis.pipeline();
    const wrote: Array<[UserState, string]> = [];
    for (const s of states) {
      const exp = nextExpiry(s);
      const sig = indexSig(s, exp);
      const cached = this.cache?.peek(s.user);
      if (cached?.state === s && cached.indexed === sig) continue;
      p.zadd(this.keys.usersByLevel, levelScore(s), s.user);
      if (exp === null) p.zrem(this.keys.expiry, s.user);
      else p.zadd(this.keys.expiry, exp, s.user);
      wrote.push([s, sig]);
    }
    if (wrote.length === 0) return;
    const res = (await p.exec()) ?? [];
    if (res.some(([err]) => err)) return;
    for (const [s, sig] of wrote) {
      const cached = this.cache?.peek(s.user);
      if (cached?.state === s) cached.indexed = sig;
    }
  }

  /** Reads one user's state (uncached); null when the user is unknown. */
  async get(user: string): Promise<{ rev: number; state: UserState } | null> {
    const [rev, data] = await this.redis.hmget(this.keys.userState(user), 'rev', 'data');
    return data ? { rev: Number(rev ?? 0), state: JSON.parse(data) as UserState } : null;
  }

  /** Users' stored states, uncached, in one round trip; null for an unknown or unreadable one. */
  async getMany(users: string[]): Promise<Array<UserState | null>> {
    const p = this.redis.pipeline();
    for (const u of users) p.hget(this.keys.userState(u), 'data');
    return ((await p.exec()) ?? []).map(([, data]) => parseStoredState(data));
  }

  /** Forgets cached state (after an out-of-band change such as a reset). */
  invalidate(user: string): void {
    this.cache?.delete(user);
  }
}
