import type { Redis } from 'ioredis';
import type { Keys } from '../keys.js';
import type { LevelChange } from '../types.js';
import { expire } from './reducer.js';
import type { CommitItem, RiskStore } from './store.js';

/**
 * Lowers users' levels when their behaviors expire, without new events. Users due are read from
 * the expiry index; each is expired and committed with its revision, so when several workers
 * sweep at once only one commit of a given expiry succeeds (the others see a conflict and skip).
 */
export class ExpirySweeper {
  constructor(
    private readonly redis: Redis,
    private readonly keys: Keys,
    private readonly store: RiskStore,
  ) {}

  /** Expires what is due at `now`; returns the level changes committed. */
  async sweep(now: number, limit = 200): Promise<{ users: string[]; changes: LevelChange[] }> {
    const due = await this.redis.zrangebyscore(this.keys.expiry, '-inf', now, 'LIMIT', 0, limit);
    if (due.length === 0) return { users: [], changes: [] };
    const loaded = await this.store.load(due, new Map(), true);
    const items: CommitItem[] = [];
    for (const user of due) {
      const l = loaded.get(user)!;
      const r = expire(l.state, now);
      if (r.state === l.state) continue;
      items.push({ user, expectedRev: l.rev, state: r.state, hits: [], changes: r.changes, applied: [], trimBelow: 0 });
    }
    const conflicts = await this.store.commit(items);
    const ok = items.filter((i) => !conflicts.has(i.user));
    // Re-index everything read: users whose index entry was stale get their real next expiry.
    const states = [...ok.map((i) => i.state), ...due.filter((u) => !items.some((i) => i.user === u)).map((u) => loaded.get(u)!.state)];
    await this.store.index(states);
    return { users: ok.map((i) => i.user), changes: ok.flatMap((i) => i.changes) };
  }
}
