import { cutChars } from '../text.js';
import type { RedisClient } from '../redis/client.js';
import { RiskstreamError } from '../errors.js';
import { isoTime } from '../detect/format.js';
import type { Keys } from '../keys.js';
import { decodeCursor, encodeCursor, zrevAfterMerged, type CursorPos } from '../sessions/cursor.js';
import { RISK_LEVELS, type BehaviorHit, type LevelChange, type RiskLevel } from '../types.js';
import { parseRiskEvent } from './outbox-relay.js';
import { requestReset, type ResetOutcome } from '../engine/control.js';
import { nextExpiry, type UserState } from './state.js';
import { levelRange, type RiskStore } from './store.js';

/**
 * A user's risk as the API and CLI show it. `changed_at`: when riskstream last changed the level
 * (processing time). Per behavior, `first_at` / `last_at` are event times (when its hits
 * happened) and `expires_at` is when it stops counting at its `level`: the latest hit of that level's
 * event time + `expires_after`; `lower` lists the lower levels its later-expiring hits hold after that.
 */
export interface UserRiskView {
  user: string;
  level: RiskLevel;
  version: number;
  changed_at: string | null;
  next_expiry: string | null;
  behaviors: Array<{
    id: string;
    level: RiskLevel;
    first_at: string;
    last_at: string;
    expires_at: string | null;
    /** Lower levels its hits hold after `expires_at`, each until its own `expires_at` (absent: none). */
    lower?: Array<{ level: RiskLevel; expires_at: string | null }>;
    hits: number;
    summary: string;
    evidence: Record<string, unknown>;
  }>;
}

/** ISO-8601, or null for none — and for a time no `Date` can hold (a stored absurd time never makes a route fail). */
const iso = (ms: number | null): string | null => (ms === null || ms === 0 ? null : isoTime(ms));

/**
 * A stored hit or level change as the API shows it, each time named by its clock: `occurred_at`
 * (event time: the triggering event's time; for an expiry, when the behavior stopped counting)
 * and `processed_at` (when riskstream recorded it; a change's SET `event_timestamp`). Hits also
 * carry `expires_at` and `expired_on_arrival`. `time` (epoch ms) is kept for older readers: a
 * hit's event time, a change's processing time.
 */
export function riskEventView(id: string, kind: string, data: BehaviorHit | LevelChange): Record<string, unknown> {
  if (kind === 'change') {
    // A change's own id (the SET `txn`) names the row, as it always has.
    const { occurredAt, ...c } = data as LevelChange;
    return { kind, ...c, occurred_at: iso(occurredAt ?? c.time), processed_at: iso(c.time) };
  }
  const { processedAt, expiresAt, expiredOnArrival, ...h } = data as BehaviorHit;
  return {
    id,
    kind,
    ...h,
    occurred_at: iso(h.time),
    processed_at: iso(processedAt ?? null),
    expires_at: expiresAt === undefined ? undefined : iso(expiresAt),
    expired_on_arrival: expiredOnArrival === true,
  };
}

/** Turns stored state into the API view. */
export function viewOf(state: UserState): UserRiskView {
  return {
    user: state.user,
    level: state.level,
    version: state.version,
    changed_at: iso(state.changedAt),
    next_expiry: iso(nextExpiry(state)),
    behaviors: Object.entries(state.behaviors)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([id, b]) => ({
        id,
        level: b.level,
        first_at: iso(b.firstAt)!,
        last_at: iso(b.lastAt)!,
        expires_at: iso(b.expiresAt),
        ...(b.lower?.length ? { lower: b.lower.map((t) => ({ level: t.level, expires_at: iso(t.expiresAt) })) } : {}),
        hits: b.hits,
        summary: b.summary,
        evidence: b.evidence,
      })),
  };
}

/** Most rows one page holds — users ({@link RiskService.list}) or risk events ({@link RiskService.events}): the API and the CLI check it alike. */
export const MAX_PAGE = 1000;

/** Reads and resets users' risk: what the admin API and the CLI call. */
export class RiskService {
  /**
   * `resetter` applies a reset (default: through the user's partition owner, which must be running;
   * the worker and the CLI pass `resetUser`, src/engine/offline-reset.ts, which also works with none).
   */
  constructor(
    private readonly redis: RedisClient,
    private readonly keys: Keys,
    private readonly store: RiskStore,
    private readonly resetter: (req: { user: string; actor: string; reason: string }) => Promise<ResetOutcome> = (req) => requestReset(redis, keys, req),
  ) {}

  /** A user's risk; NOT_FOUND when the user was never seen. */
  async get(user: string): Promise<UserRiskView> {
    const s = await this.store.get(user);
    if (!s) throw new RiskstreamError('NOT_FOUND', `unknown user ${user}`);
    return viewOf(s.state);
  }

  /**
   * Users by level (high first, then most recent change), cursor-paginated. The cursor is the
   * last row's position (score, user), not an offset: users whose level changes between two
   * pages never make a later page repeat or skip the others.
   */
  async list(opts: {
    level?: RiskLevel;
    cursor?: string;
    limit?: number;
  }): Promise<{ users: Array<{ user: string; level: RiskLevel; changed_at: string | null }>; next_cursor: string | null }> {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), MAX_PAGE);
    const after = opts.cursor ? decodeCursor(opts.cursor) : undefined;
    if (opts.level && !RISK_LEVELS.includes(opts.level)) throw new RiskstreamError('BAD_REQUEST', `level must be one of ${RISK_LEVELS.join(', ')}`);
    const range = opts.level ? levelRange(opts.level) : { min: '-inf' };
    // Rows tied with the cursor's score (changes committed in the same millisecond) that were on
    // earlier pages are skipped; the per-partition indexes are merged into one order.
    const found: Array<{ pos: CursorPos; row: { user: string; level: RiskLevel; changed_at: string | null } }> = [];
    scan: for await (const chunk of zrevAfterMerged(
      this.redis,
      this.keys.partitionList.map((p) => this.keys.usersByLevel(p)),
      range,
      after,
      limit + 1,
    )) {
      for (const pos of chunk) {
        const rank = Math.floor(pos.score / 1e13);
        found.push({ pos, row: { user: pos.member, level: RISK_LEVELS[rank] ?? 'low', changed_at: iso(pos.score - rank * 1e13) } });
        if (found.length > limit) break scan;
      }
    }
    const page = found.slice(0, limit);
    const more = found.length > limit;
    return { users: page.map((f) => f.row), next_cursor: more ? encodeCursor(page[page.length - 1]!.pos) : null };
  }

  /** A user's risk events (hits and changes), newest first; `next_cursor` null on the last page. */
  async events(user: string, opts: { cursor?: string; limit?: number } = {}): Promise<{ events: unknown[]; next_cursor: string | null }> {
    const limit = Math.min(Math.max(opts.limit ?? 100, 1), MAX_PAGE);
    // One row more than the page: a full last page is told from one with more after it.
    const read = (await this.redis.xrevrange(this.keys.userEvents(user), opts.cursor ? `(${opts.cursor}` : '+', '-', 'COUNT', limit + 1)) as Array<
      [string, string[]]
    >;
    const rows = read.slice(0, limit);
    const events = rows.map(([id, f]) => {
      const e = parseRiskEvent(id, f);
      return riskEventView(e.id, e.kind, e.data);
    });
    return { events, next_cursor: read.length > limit ? rows[rows.length - 1]![0] : null };
  }

  /**
   * Admin reset: clears behaviors and emits the change (initiating entity admin), audited — applied by
   * the owner of the user's partition, in order with the user's events (src/engine/control.ts).
   */
  async reset(
    user: string,
    actor: string,
    reason = '',
  ): Promise<{ user: string; previous: RiskLevel; level: RiskLevel; version: number; change: LevelChange | null }> {
    if (!(await this.store.get(user))) throw new RiskstreamError('NOT_FOUND', `unknown user ${user}`);
    // The control stream takes a reason of at most 500 characters and an actor of 200 (src/engine/control.ts).
    const r = await this.resetter({ user, actor: cutChars(actor, 200), reason: cutChars(reason, 500) });
    if (!r.found) throw new RiskstreamError('NOT_FOUND', `unknown user ${user}`);
    return { user, previous: r.previous as RiskLevel, level: r.level as RiskLevel, version: r.version!, change: (r.change as LevelChange | null) ?? null };
  }
}
