import { createHash } from 'node:crypto';
import { tiersOf, withTiers } from './tiers.js';
import { levelRank, maxLevel, type BehaviorHit, type InitiatingEntity, type LevelChange, type RiskLevel } from '../types.js';
import type { UserState } from './state.js';
import { LATE_HITS, rememberLate } from './late-hits.js';

/**
 * A user's level changes outside detection — expiry in event time, an admin reset — and the
 * pieces the reducer shares with them: the change record, its deterministic id, the state copy.
 * Pure: no I/O, no clock (`now` given).
 */

/** What reducing a user's events produced. */
export interface ReduceResult {
  state: UserState;
  hits: BehaviorHit[];
  changes: LevelChange[];
}

/**
 * The key, among a state's windows, of the event ids an admin reset vouched for (never a behavior
 * id: config refuses ids starting with `#`), and how many it keeps.
 */
export const VOUCHED = '#vouched';
const VOUCHED_IDS = 256;

/** The event ids vouched for by the user's resets, or undefined. */
export function vouchedOf(state: UserState): readonly string[] | undefined {
  const v = state.windows[VOUCHED] as { ids?: unknown } | undefined;
  return v && Array.isArray(v.ids) ? (v.ids as string[]) : undefined;
}

/**
 * Deterministic change id (the SET `txn`), UUID-shaped: the same inputs always give the same id,
 * so a replay after a crash produces the same change.
 */
export function changeId(user: string, version: number, cause: string): string {
  const h = createHash('sha256').update(`${user}\u0000${version}\u0000${cause}`).digest('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

function levelOf(state: UserState): RiskLevel {
  let level: RiskLevel = 'low';
  for (const b of Object.values(state.behaviors)) level = maxLevel(level, b.level);
  return level;
}

/** Records the change to the level the state's behaviors now give, if it changed. */
export function recordChange(
  state: UserState,
  changes: LevelChange[],
  cause: string,
  reason: string,
  who: InitiatingEntity,
  now: number,
  occurredAt: number,
): void {
  const current = levelOf(state);
  if (current === state.level) return;
  const previous = state.level;
  state.level = current;
  state.version += 1;
  state.changedAt = now;
  changes.push({
    id: changeId(state.user, state.version, cause),
    user: state.user,
    version: state.version,
    previous,
    current,
    behaviors: Object.keys(state.behaviors).sort(),
    reason,
    initiatingEntity: who,
    time: now,
    occurredAt,
  });
}

/**
 * A copy of `state` whose containers the reducer mutates (top level, behaviors, windows)
 * are new; their values are shared. Enough for purity: behaviors are replaced, never modified,
 * and detectors return new windows without modifying theirs (see detect/types.ts). A deep clone
 * here cost more than all the detectors together.
 */
export function copyState(state: UserState): UserState {
  return { ...state, behaviors: { ...state.behaviors }, windows: { ...state.windows } };
}

/**
 * Drops behaviors whose expiry has passed; emits the resulting level change (pure). The event ids of
 * a behavior that ends are kept as an expired hit's are (late-hits.ts): delivered again, they make no
 * second hit.
 */
export function expire(state: UserState, now: number): ReduceResult {
  const changes: LevelChange[] = [];
  let gone: string[] | undefined;
  let at = -Infinity;
  let next: UserState | undefined;
  for (const id of Object.keys(state.behaviors)) {
    const b = state.behaviors[id]!;
    if (b.expiresAt === null || b.expiresAt > now) continue;
    (gone ??= []).push(id);
    // A behavior falls to the next lower level it holds, or ends.
    const left = tiersOf(b).filter((t) => t.expiresAt === null || t.expiresAt > now);
    next ??= copyState(state);
    if (left.length) next.behaviors[id] = withTiers(b, left);
    else {
      delete next.behaviors[id];
      if (b.ids?.length) rememberLate(next, id, b.ids);
    }
  }
  if (gone === undefined || next === undefined) return { state, hits: [], changes };
  // In event time the level fell when the last tier above the new level stopped counting.
  const floor = levelRank(levelOf(next));
  for (const id of gone)
    for (const t of tiersOf(state.behaviors[id]!))
      if (t.expiresAt !== null && t.expiresAt <= now && levelRank(t.level) > floor && t.expiresAt > at) at = t.expiresAt;
  next.updatedAt = now;
  const names = gone.sort();
  recordChange(next, changes, `expire:${names.join(',')}:${now}`, `expired: ${names.join(', ')}`, 'system', now, at);
  return { state: next, hits: [], changes };
}

/**
 * Admin reset: clears active behaviors and detector windows; level falls to low; the event ids of the
 * behaviors cleared are remembered as vouched for (the latest {@link VOUCHED_IDS}), and the same
 * events delivered again are ignored, as are those already recorded as expired on arrival (pure).
 * What expired by `now` expires first (its change before the reset's), as when the expiry sweep
 * came first: the result never depends on whether it had (a sweep held back by unrouted input).
 */
export function reset(prior: UserState, now: number, reason: string): ReduceResult {
  const expired = expire(prior, now);
  const state = expired.state;
  const next = structuredClone(state);
  const changes: LevelChange[] = [...expired.changes];
  // The events behind the behaviors cleared are vouched for: one delivered again (a shipper's retry,
  // a replayed file) is ignored, or it would raise the user again for what the admin cleared.
  const vouched = new Set(vouchedOf(state));
  for (const b of Object.values(state.behaviors)) for (const id of b.ids ?? []) vouched.add(id);
  next.behaviors = {};
  // The backfilled events recorded as expired on arrival stay known too: delivered again, they make no second hit.
  const late = next.windows[LATE_HITS];
  next.windows = vouched.size ? { [VOUCHED]: { ids: [...vouched].slice(-VOUCHED_IDS) } } : {};
  if (late !== undefined) next.windows[LATE_HITS] = late;
  next.updatedAt = now;
  recordChange(next, changes, `reset:${now}`, reason || 'risk reset by an administrator', 'admin', now, now);
  return { state: next, hits: [], changes };
}
