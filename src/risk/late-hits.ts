/**
 * The event ids of hits that arrived already expired (a backfill, a shipper catching up), and of
 * behaviors that expired since (level-change.ts `expire`), kept per behavior among the state's
 * windows: the same event delivered again (a shipper's retry, a replayed file) makes no second hit,
 * as one that counted makes none — its id is in its active behavior's `ids` while that lasts, but an
 * expired hit leaves no active behavior. Pure; never modifies a state's windows in place (a new
 * object replaces the old).
 */
import type { UserState } from './state.js';

/** The key among a state's windows (never a behavior id: config refuses ids starting with `#`). */
export const LATE_HITS = '#late';
/** Most ids kept per behavior (the newest), as an active behavior keeps. */
const LATE_IDS = 64;

type LateIds = Record<string, string[]>;

function lateOf(state: UserState): LateIds | undefined {
  const v = state.windows[LATE_HITS];
  return v && typeof v === 'object' && !Array.isArray(v) ? (v as LateIds) : undefined;
}

/** True when `eventId` already made an expired-on-arrival hit of `behavior`. */
export function seenLate(state: UserState, behavior: string, eventId: string): boolean {
  const ids = lateOf(state)?.[behavior];
  return Array.isArray(ids) && ids.includes(eventId);
}

/**
 * Remembers the events of an expired-on-arrival hit of `behavior` (its own and those it names, as an
 * active behavior's `ids` keeps them), or of an active behavior that expired; the newest {@link LATE_IDS} kept.
 */
export function rememberLate(next: UserState, behavior: string, eventIds: readonly string[]): void {
  const late = lateOf(next) ?? {};
  const ids = Array.isArray(late[behavior]) ? late[behavior] : [];
  const added = eventIds.filter((id) => !ids.includes(id));
  if (!added.length) return;
  next.windows[LATE_HITS] = { ...late, [behavior]: [...new Set([...ids, ...added])].slice(-LATE_IDS) };
}

/** Drops the ids of behaviors not in `on` (turned off or no longer configured); the key goes when none are left. */
export function pruneLate(next: UserState, on: ReadonlySet<string>): void {
  const late = lateOf(next);
  if (!late) {
    if (LATE_HITS in next.windows) delete next.windows[LATE_HITS];
    return;
  }
  const ids = Object.keys(late);
  if (ids.every((id) => on.has(id))) return;
  const kept = Object.fromEntries(ids.filter((id) => on.has(id)).map((id) => [id, late[id]!]));
  if (Object.keys(kept).length) next.windows[LATE_HITS] = kept;
  else delete next.windows[LATE_HITS];
}
