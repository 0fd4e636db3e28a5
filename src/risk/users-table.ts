import { pipeline, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import { decodeCursor, encodeCursor, zrevAfterMerged, type CursorPos } from '../sessions/cursor.js';
import { RISK_LEVELS, type RiskLevel } from '../types.js';
import { viewOf } from './service.js';
import { levelRange, type RiskStore } from './store.js';

/** A query of the console's users table. */
export interface UsersTableQuery {
  level?: RiskLevel;
  /** Only users with this behavior active. */
  behavior?: string;
  /** Only users whose id contains this (case-insensitive). */
  needle?: string;
  cursor?: string;
  limit: number;
}

/** One page of the users table: rows with their active behaviors, a cursor, level counts. */
export interface UsersTablePage {
  users: Array<{
    user: string;
    level: RiskLevel;
    version: number;
    changed_at: string | null;
    behaviors: Array<{ id: string; level: RiskLevel; summary: string; last_at: string; expires_at: string | null; hits: number }>;
  }>;
  next_cursor: string | null;
  counts: Record<RiskLevel | 'total', number>;
  scanned: number;
}

const CHUNK = 200;
const MAX_SCAN = 5000;

/** Reads the console's users table through the risk store. */
export class UsersTable {
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly store: RiskStore,
  ) {}

  /** One page (see {@link usersTable}). */
  page(q: UsersTableQuery): Promise<UsersTablePage> {
    return usersTable(this.redis, this.keys, this.store, q);
  }
}

/**
 * Users by level (high first) filtered by level, behavior and id substring, reading at most
 * {@link MAX_SCAN} index rows per page. The cursor is the last scanned row's position (score,
 * user), not an offset: users whose level changes between two pages never make the next page
 * repeat or skip others. BAD_REQUEST for a cursor this did not issue.
 */
export async function usersTable(redis: RedisClient, keys: Keys, store: RiskStore, q: UsersTableQuery): Promise<UsersTablePage> {
  const after = q.cursor ? decodeCursor(q.cursor) : undefined;
  const needle = (q.needle ?? '').trim().toLowerCase();
  const behavior = (q.behavior ?? '').trim();
  const shards = keys.partitionList.map((p) => keys.usersByLevel(p));
  const range = q.level ? levelRange(q.level) : { min: '-inf' };

  const counts = pipeline(redis);
  for (const l of RISK_LEVELS) {
    const r = levelRange(l);
    for (const key of shards) counts.zcount(key, r.min, `(${r.top}`);
  }
  const countRes = (await counts.exec()) ?? [];
  const levelCounts = Object.fromEntries(
    RISK_LEVELS.map((l, i) => [l, countRes.slice(i * shards.length, (i + 1) * shards.length).reduce((n, [, c]) => n + Number(c ?? 0), 0)]),
  ) as Record<RiskLevel, number>;

  const users: UsersTablePage['users'] = [];
  let last: CursorPos | undefined;
  let scanned = 0;
  // Whether rows remain after the last one scanned (a further chunk, or the rest of this one).
  let more = false;
  for await (const cands of zrevAfterMerged(redis, shards, range, after, CHUNK)) {
    if (users.length >= q.limit || scanned >= MAX_SCAN) {
      more = true;
      break;
    }
    const states = await store.getMany(cands.map((c) => c.member));
    let i = 0;
    for (; i < cands.length && users.length < q.limit; i++) {
      scanned++;
      last = cands[i]!;
      if (needle && !last.member.toLowerCase().includes(needle)) continue;
      const state = states[i];
      if (!state) continue;
      const view = viewOf(state);
      if (behavior && !view.behaviors.some((b) => b.id === behavior)) continue;
      users.push({
        user: view.user,
        level: view.level,
        version: view.version,
        changed_at: view.changed_at,
        behaviors: view.behaviors.map((b) => ({ id: b.id, level: b.level, summary: b.summary, last_at: b.last_at, expires_at: b.expires_at, hits: b.hits })),
      });
    }
    if (i < cands.length) {
      more = true;
      break;
    }
  }
  return {
    users,
    next_cursor: more && last ? encodeCursor(last) : null,
    counts: { ...levelCounts, total: levelCounts.low + levelCounts.medium + levelCounts.high },
    scanned,
  };
}
