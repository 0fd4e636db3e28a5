import { pipeline, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { levelRank, type RiskLevel } from '../types.js';
import { decodeState } from './state-codec.js';
import { seen, type UserState } from './state.js';

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
 * Reads users' committed risk state: one field per user in their partition's state hash
 * (MessagePack). Only the partition's owner writes it (src/engine/owner.ts), in its commits.
 */
export class RiskStore {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
  ) {}

  /** Reads one user's state; null when the user is unknown (never {@link seen}: at most a revocation mark is stored). */
  async get(user: string): Promise<{ state: UserState } | null> {
    const state = seenOrNull(decodeState(await this.redis.hgetBuffer(this.keys.userState(user), user), user));
    return state ? { state } : null;
  }

  /** Users' stored states in one round trip; null for an unknown (never seen) or unreadable one. */
  async getMany(users: string[]): Promise<Array<UserState | null>> {
    if (!users.length) return [];
    const p = pipeline(this.redis);
    for (const u of users) p.hgetBuffer(this.keys.userState(u), u);
    return ((await p.exec()) ?? []).map(([, data], i) => seenOrNull(decodeState(data as Buffer | null, users[i]!)));
  }
}

/** A stored state the risk views show: null for one never {@link seen} (an admin's revocation mark only). */
const seenOrNull = (state: UserState | null): UserState | null => (state && seen(state) ? state : null);
