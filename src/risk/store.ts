import { pipeline, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { levelRank, type RiskLevel } from '../types.js';
import { decodeState } from './state-codec.js';
import { markOnly, type UserState } from './state.js';

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

  /** Reads one user's state; null when the user is unknown (at most a revocation mark is stored: {@link markOnly}). */
  async get(user: string): Promise<{ state: UserState } | null> {
    const state = shownOrNull(decodeState(await this.redis.hgetBuffer(this.keys.userState(user), user), user));
    return state ? { state } : null;
  }

  /** Users' stored states in one round trip; null for an unknown (or revocation mark only) or unreadable one. */
  async getMany(users: string[]): Promise<Array<UserState | null>> {
    if (!users.length) return [];
    const p = pipeline(this.redis);
    for (const u of users) p.hgetBuffer(this.keys.userState(u), u);
    return ((await p.exec()) ?? []).map(([, data], i) => shownOrNull(decodeState(data as Buffer | null, users[i]!)));
  }
}

/** A stored state the risk views show: null for an admin's revocation mark only ({@link markOnly}). */
const shownOrNull = (state: UserState | null): UserState | null => (state && !markOnly(state) ? state : null);
