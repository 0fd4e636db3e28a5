import type { ActiveBehavior, RiskLevel } from '../types.js';

/** A user's durable risk state (stored as JSON in the user's state hash). */
export interface UserState {
  user: string;
  level: RiskLevel;
  /** Grows by one per level change. */
  version: number;
  /** Active behaviors by behavior id. */
  behaviors: Record<string, ActiveBehavior>;
  /** Per-behavior detector windows (recent logins, counters …), opaque to the reducer. */
  windows: Record<string, unknown>;
  /** When the level last changed (epoch ms; 0 = never). */
  changedAt: number;
  /** When the state last changed (epoch ms). */
  updatedAt: number;
  /** The behaviors' epoch known when it was last applied (src/risk/behavior-epochs.ts); absent: 0 (a state stored before). */
  epoch?: number;
  /**
   * Arrival (input entry time) of the user's latest `revoke_sessions` response trigger, or of an
   * admin's revoke-all of the user's sessions (its control op; src/sessions/policy-mark.ts): a
   * session login applied later whose time is at or before it is revoked too. Absent: none.
   */
  revokedUpTo?: number;
  /** The admin (audit actor) whose revoke-all set `revokedUpTo`; absent when a response policy's trigger did. */
  revokedBy?: string;
}

/** The state of a user never seen before. */
export function emptyState(user: string): UserState {
  return { user, level: 'low', version: 0, behaviors: {}, windows: {}, changedAt: 0, updatedAt: 0 };
}

/** True when riskstream has applied an event (or a reset) to the user: `updatedAt` set. */
export function seen(state: UserState): boolean {
  return state.updatedAt > 0;
}

/**
 * True for a state that holds only an admin's revocation mark: a revoke-all of a user riskstream
 * has not seen yet (src/sessions/policy-mark.ts `markByAdmin`). No risk: not shown, not indexed.
 */
export function markOnly(state: UserState): boolean {
  return !seen(state) && state.revokedUpTo !== undefined;
}

/** Earliest expiry among active behaviors, or null. */
export function nextExpiry(state: UserState): number | null {
  const all = state.behaviors;
  // A plain object (as always): its own values read in place, no array of them (once per state per commit).
  if (typeof all !== 'object' || all === null || Object.getPrototypeOf(all) !== Object.prototype) return nextOf(Object.values(all));
  let next: number | null = null;
  for (const id in all) {
    if (!Object.hasOwn(all, id)) continue;
    const b = all[id]!;
    if (b.expiresAt !== null && (next === null || b.expiresAt < next)) next = b.expiresAt;
  }
  return next;
}

function nextOf(behaviors: readonly ActiveBehavior[]): number | null {
  let next: number | null = null;
  for (const b of behaviors) if (b.expiresAt !== null && (next === null || b.expiresAt < next)) next = b.expiresAt;
  return next;
}

/** Compares two stream entry ids (`ms-seq`). */
export function compareIds(a: string, b: string): number {
  if (a === b) return 0;
  const ai = a.indexOf('-');
  const bi = b.indexOf('-');
  const d = Number(ai < 0 ? a : a.slice(0, ai)) - Number(bi < 0 ? b : b.slice(0, bi));
  if (d !== 0) return Math.sign(d);
  return Math.sign(Number(ai < 0 ? 0 : a.slice(ai + 1)) - Number(bi < 0 ? 0 : b.slice(bi + 1)));
}

/** A stored state (the `data` field of a user's hash); null when absent or unreadable. */
export function parseStoredState(data: unknown): UserState | null {
  if (typeof data !== 'string') return null;
  try {
    return JSON.parse(data) as UserState;
  } catch {
    return null;
  }
}
