/**
 * The owner's side of the `revoke_sessions` response policies (pure). A rule fires on a level
 * change raising the user to its level (riskstream's own) or on a counting hit of its behavior;
 * the relay then revokes every session stored at that moment (src/sessions/response-policy.ts).
 * A login the IdP's shipper delivers late — before the trigger's arrival in event time, applied
 * after it — would escape that revocation: so the owner keeps the trigger's arrival in the user's
 * risk state (`revokedUpTo`, the latest), and each session login it applies later at or before
 * that time is a {@link LateLogin}, written to the user's outbox in the login's own commit (after its
 * session identity is stored) and revoked on its own by the relay. Derived from the committed
 * state, in input order: a restarted owner decides the same.
 *
 * An admin's revoke-all of the user's sessions (`DELETE /v1/users/{user}/sessions`) raises the
 * same mark: a `revoke_sessions` control op, routed in order with the user's events, sets it to
 * the op's arrival and records the admin in `revokedBy` ({@link markByAdmin}); its late logins carry
 * the admin (`by`), who is their revocations' audit actor.
 */
import type { ResponseRule } from '../config/responses.js';
import { levelRank, type BehaviorHit, type CanonicalEvent, type LevelChange } from '../types.js';
import { DEFAULT_SESSION_LIFETIME } from './baseline.js';
import { sessionSpan } from './build-identity.js';

/** A session login applied after a revocation trigger, though at or before it in event time. */
export interface LateLogin {
  /** The stored session id. */
  session: string;
  /** The login's event time (epoch ms, as its identity's `login_at`). */
  login_at: number;
  /** The trigger's arrival it precedes (the user's `revokedUpTo`). */
  trigger: number;
  /**
   * The end of the login's own session (its identity's `expires_at` as built from it alone): a
   * stored session of the id whose login is not before it is a later session (the id used again
   * after this one ended), not revoked for it. Absent (an entry written without it): no bound.
   */
  expires_at?: number;
  /** The admin whose revoke-all set the mark (the revocation's audit actor); absent: a response policy's trigger did. */
  by?: string;
}

/**
 * True when `rule` revokes sessions on change `c`: riskstream (not an admin) raised the user to the
 * rule's level or above — every raise ending there, so a medium rule fires on low → medium, low →
 * high and medium → high alike (it holds at high: a session opened while the user was at medium is
 * revoked when the user reaches high, as a high rule would). A fall (an expiry) fires nothing, and
 * no rule fires while the level stays: a login made then is not revoked by it (docs/interfaces.md).
 */
export function changeFires(rule: ResponseRule, c: LevelChange): boolean {
  if (!rule.revoke_sessions || !('level' in rule.when)) return false;
  const now = levelRank(c.current);
  return c.initiatingEntity !== 'admin' && now >= levelRank(rule.when.level) && now > levelRank(c.previous);
}

/** True when `rule` revokes sessions on hit `h`: a hit of the rule's behavior that counted (not expired on arrival). */
export function hitFires(rule: ResponseRule, h: BehaviorHit): boolean {
  return rule.revoke_sessions && 'behavior' in rule.when && h.behavior === rule.when.behavior && !h.expiredOnArrival;
}

/** The rules that revoke sessions; undefined when none does (the owner then does no policy work at all). */
export function revokeRulesOf(rules: readonly ResponseRule[]): readonly ResponseRule[] | undefined {
  const out = rules.filter((r) => r.revoke_sessions);
  return out.length ? out : undefined;
}

/**
 * The mark after one event's hits and changes: `arrival` — the event's arrival (its source
 * entry's time, src/engine/apply.ts arrivalOf: the same on every replay) — when a rule fires on one
 * of them, else `mark` (never lowered). The arrival, not the trigger's event time: the revocation
 * runs as the trigger arrives and revokes every session stored by then, so a login no later than
 * that arrival (in event time) would have been revoked, had its own feed not lagged; the trigger's
 * own feed lags too (an EDR's detections, minutes to hours). A login after it is one opened after
 * the revocation. A trigger stamped ahead (a skewed clock) counts at its arrival as well.
 */
export function markAfter(
  mark: number | undefined,
  rules: readonly ResponseRule[],
  hits: readonly BehaviorHit[],
  changes: readonly LevelChange[],
  arrival: number,
): number | undefined {
  if (mark !== undefined && arrival <= mark) return mark;
  for (const c of changes) if (rules.some((r) => changeFires(r, c))) return arrival;
  for (const h of hits) if (rules.some((r) => hitFires(r, h))) return arrival;
  return mark;
}

/**
 * The late login `e` is against the mark before it was applied, or undefined: a successful session
 * login (a refresh too) at or before `mark` whose session had not ended by then. A login after the
 * mark — or the trigger itself, whose session is stored in the trigger's commit and revoked with
 * the user's others — is none; so is one whose session was over when the trigger arrived (no
 * session the revocation could have found: a backfill of old logs would otherwise cost an outbox
 * entry, a relay's revocation attempt and a 7-day marker per login, and revoke nothing).
 * `lifetime`: `sessions.default_lifetime` (the session's end when the login gives none).
 */
export function lateLogin(e: CanonicalEvent, mark: number | undefined, lifetime = DEFAULT_SESSION_LIFETIME, by?: string): LateLogin | undefined {
  // Every login after the mark (nearly all) is none before its session is looked at.
  if (mark === undefined || !(Math.round(e.time) <= mark)) return undefined;
  // As src/sessions/build-identity.ts stores the login's identity.
  const span = sessionSpan(e, lifetime);
  if (!span || span.expires_at <= mark) return undefined;
  return { session: span.session_id, login_at: span.login_at, trigger: mark, expires_at: span.expires_at, ...(by !== undefined ? { by } : {}) };
}

/**
 * The state after an admin's revoke-all of its sessions arriving at `arrival` (its control op's
 * entry time): the mark raised to it, the admin recorded; unchanged when the mark is already at or
 * past it (an earlier revoke-all or trigger, or a replay). Pure.
 */
export function markByAdmin<S extends { revokedUpTo?: number; revokedBy?: string }>(state: S, arrival: number, actor: string): S {
  if (state.revokedUpTo !== undefined && arrival <= state.revokedUpTo) return state;
  return { ...state, revokedUpTo: arrival, revokedBy: actor };
}
