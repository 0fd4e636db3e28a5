import type { AuditEntry } from '../audit/audit-log.js';
import type { BehaviorConfig } from '../config/behaviors-schema.js';
import type { DetectorLimits } from '../detect/types.js';
import { errorCode } from '../errors.js';
import { reduce, reset } from '../risk/reducer.js';
import { seen, type UserState } from '../risk/state.js';
import type { BehaviorEpochs } from '../risk/behavior-epochs.js';
import { unlessIdle, type Retention } from '../risk/retention.js';
import type { ResponseRule } from '../config/responses.js';
import { lateLogin, markAfter, markByAdmin, type LateLogin } from '../sessions/policy-mark.js';
import type { BehaviorHit, LevelChange, StreamEvent } from '../types.js';
import type { ResetOutcome } from './control.js';
import type { RoutedItem } from './routed.js';

/** What the reducer is applied with. */
export interface ApplyContext {
  behaviors: BehaviorConfig[];
  limits: DetectorLimits;
  /** Processing time: what an item whose arrival is unknown is applied at ({@link arrivalOf}). */
  now: number;
  /** The worker's own secrets (src/secrets/known-secrets.ts): taken out of what a hit quotes from its event. */
  secrets?: readonly string[];
  /** The behaviors' on-epochs known (src/risk/behavior-epochs.ts); absent: none turned on again. */
  epochs?: BehaviorEpochs;
  /**
   * The response rules that revoke sessions (src/sessions/policy-mark.ts); absent when none does:
   * no revocation mark is kept and no late login looked for.
   */
  revoke?: readonly ResponseRule[];
  /** `sessions.default_lifetime`: a late login's session end when it gives none (absent: the shipped 12 h). */
  sessionLifetime?: number;
  /** `state.idle_user_ttl` in force (src/risk/retention.ts); absent: idle users are kept. */
  retention?: Retention;
}

/** How far back an entry id's time still counts as its item's arrival ({@link arrivalOf}). */
const ARRIVAL_MAX_AGE_MS = 30 * 24 * 3600_000;

/**
 * The time an item is applied at: its arrival, the time of its source entry's id (Redis's clock
 * at the XADD) — the same however late and however often the item is applied, so a hit that came
 * with life left counts after a restart or a partition's move as it did when it arrived, and a
 * replay gives the same expiry times. `now` when that time is ahead of `now` or older than 30
 * days (an id of the producer's own, not a time).
 */
export function arrivalOf(k: readonly [number, number], now: number): number {
  const at = k[0];
  return at <= now && at >= now - ARRIVAL_MAX_AGE_MS ? at : now;
}

/** What applying one user's items made. */
export interface Applied {
  state: UserState;
  /** Risk events in order: per item, its hits then its level change. */
  events: Array<{ user: string; kind: 'hit' | 'change'; data: BehaviorHit | LevelChange }>;
  /** Events applied (for the session audit). */
  applied: StreamEvent[];
  results: Array<{ req: string; user: string; outcome: ResetOutcome }>;
  audits: AuditEntry[];
  /** Items the reducer threw on: dead-lettered with the code (deterministic: a replay fails the same way). */
  failed: Array<{ item: RoutedItem; code: string }>;
  /** Session logins at or before the user's revocation mark, to revoke on their own (only with `ctx.revoke`). */
  late?: LateLogin[];
  /**
   * The user was idle past the risk-event retention at an item (src/risk/retention.ts `unlessIdle`):
   * its stored risk events are deleted, and of `events` only those from this index on are recorded.
   */
  dropEvents?: number;
}

/**
 * Applies one user's routed items, one at a time and in order, to the user's state. One reducer
 * call per event makes the result independent of how entries were batched: a replay after a crash
 * gives the same states, the same risk events in the same order and the same level changes. Pure
 * (no I/O, `now` given).
 */
export function applyItems(user: string, state: UserState, items: readonly RoutedItem[], ctx: ApplyContext): Applied {
  const out: Applied = { state, events: [], applied: [], results: [], audits: [], failed: [] };
  let renewed: UserState | undefined; // the new user's state an idle one was replaced by
  const dropEvents = (): void => void (out.dropEvents = out.events.length);
  for (const item of items) {
    // A user idle past the TTL is a new user again, whether or not the sweep has deleted its state
    // yet; past the risk-event retention its risk events go too, whether or not the sweep deleted them.
    if (ctx.retention) {
      const fresh = unlessIdle(out.state, arrivalOf(item.k, ctx.now), ctx.retention, dropEvents);
      if (fresh !== out.state) out.state = renewed = fresh;
    }
    if ('c' in item && item.c.op === 'revoke_sessions') {
      // An admin's revoke-all: later-applied logins not after its arrival are revoked on their own.
      // A user never seen gets a state holding the mark only (not seen: no risk shown, not indexed),
      // so the first login a lagging shipper delivers after the revoke-all, dated before it, is revoked too.
      out.state = markByAdmin(out.state, arrivalOf(item.k, ctx.now), item.c.actor);
      out.results.push({ req: item.c.req, user, outcome: { found: seen(out.state), revoked_up_to: out.state.revokedUpTo! } });
      continue;
    }
    if ('c' in item) {
      const c = item.c;
      if (!seen(out.state)) {
        out.results.push({ req: c.req, user, outcome: { found: false } });
        continue;
      }
      const now = arrivalOf(item.k, ctx.now);
      const r = reset(out.state, now, c.reason);
      // The reset's own change (one for an expiry may come before it): its previous level is the one after that expiry.
      const own = r.changes.find((ch) => ch.initiatingEntity === 'admin');
      const previous = own?.previous ?? r.state.level;
      out.state = r.state;
      for (const ch of r.changes) out.events.push({ user, kind: 'change', data: ch });
      out.results.push({ req: c.req, user, outcome: { found: true, previous, level: r.state.level, version: r.state.version, change: own ?? null } });
      out.audits.push({
        action: 'risk.reset',
        actor: c.actor,
        target: user,
        time: now,
        details: { previous, level: r.state.level, version: r.state.version, reason: c.reason },
      });
      continue;
    }
    const ref = { stream: item.s, id: item.i };
    try {
      const arrival = arrivalOf(item.k, ctx.now);
      const r = reduce(out.state, [{ event: item.e, ref }], ctx.behaviors, arrival, ctx.limits, ctx.secrets, ctx.epochs);
      out.state = r.state;
      // An admin's mark counts whatever the rules: its revoke-all did not come from them.
      if (ctx.revoke || out.state.revokedBy !== undefined) {
        // Against the mark before this event: the trigger's own login is stored in its commit, and revoked with the rest.
        const mark = out.state.revokedUpTo;
        const late = lateLogin(item.e, mark, ctx.sessionLifetime, out.state.revokedBy);
        if (late) (out.late ??= []).push(late);
        const next = ctx.revoke ? markAfter(mark, ctx.revoke, r.hits, r.changes, arrival) : mark;
        if (next !== mark) {
          const { revokedBy: _, ...rest } = out.state; // a policy's trigger now sets the mark
          out.state = { ...rest, revokedUpTo: next };
        }
      }
      for (const h of r.hits) out.events.push({ user, kind: 'hit', data: h });
      for (const ch of r.changes) out.events.push({ user, kind: 'change', data: ch });
      out.applied.push({ ref, event: item.e, deliveries: 1 });
    } catch (err) {
      out.failed.push({ item, code: errorCode(err) });
    }
  }
  // Replaced and left a new user's untouched (a reset finding no one): nothing to write — an unseen state
  // stored would be listed and never forgotten, where a run whose sweep deleted it first stores none.
  if (renewed !== undefined && out.state === renewed) out.state = state;
  return out;
}
