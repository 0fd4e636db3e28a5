import { emptyState, type UserState } from '../risk/state.js';
import type { BehaviorHit, CanonicalEvent, LevelChange, RawEntry } from '../types.js';
import { applyItems, type ApplyContext } from './apply.js';
import { pruneEvents } from './commit-events.js';
import type { OwnerStates } from './owner-states.js';
import type { Owned, OwnerParts, StepReport } from './owner-types.js';
import type { StreamRows } from './partition-read.js';
import { checkedRouted, decodeRouted, type RoutedItem } from './routed.js';
import { firePoints, FAILPOINTS } from './failpoints.js';
import { rawOf, unroutedEntry } from './dead-entries.js';
import { attachPendingBaselines, buildSessions, pendingKey, sessionFinder } from './pending-sessions.js';
import type { SessionRead } from './owner-states.js';
import { revokedUse } from '../detect/captured-session.js';
import { usesSession } from '../sessions/captured.js';
import { isSessionLogin } from '../sessions/identity.js';
import { isSessionSignOut } from '../sessions/sign-out.js';

/** How the reason of a dead letter whose scoring threw starts; its error code follows. */
const PROCESSING_FAILED = 'processing_failed: ';

/** The error code of a dead letter whose scoring threw (`processing_failed: <code>`); undefined for any other reason. */
export function processingFailedCode(reason: string): string | undefined {
  return reason.startsWith(PROCESSING_FAILED) ? reason.slice(PROCESSING_FAILED.length) : undefined;
}

/** One step's apply: the owner's partitions and states, the step's context, report, starting states and dead letters. */
export interface StepApply {
  /** The owner's partitions now (one lost, taken again or rewound is another object, or none). */
  owned: ReadonlyMap<number, Owned>;
  states: OwnerStates;
  parts: OwnerParts;
  ctx: ApplyContext;
  report: StepReport;
  /**
   * The starting states of the step's users at hand, held here: applying one user can evict
   * another's from the LRU (and a partition waiting for its loads, any of them).
   */
  base: Map<string, UserState>;
  /** Users whose starting states are to load, with their partitions. */
  missing: Array<[string, number]>;
  /** Session logins whose stored identity is to read before they are applied ({@link sessionReadsOf}). */
  sessionReads: SessionRead[];
  bad: Array<{ raw: RawEntry; reason: string }>;
  /** Isolated partitions (src/engine/poison-guard.ts): one item each is applied, after its try is recorded. */
  alone: ReadonlySet<number>;
  /** Partitions whose apply threw (outside the per-event catch): re-read, the failure counted. */
  failures: Array<{ p: number; o: Owned; err: unknown }>;
  /** The partition of a user (`Keys.partitionOf`): an entry read holding another partition's user is dead-lettered. */
  partitionOf: (user: string) => number;
  /** Whether anything was applied. */
  applied: boolean;
}

/** A partition read and decoded, waiting for its users' states to load. */
export interface Waiting {
  p: number;
  o: Owned;
  items: RoutedItem[];
  users: Map<string, RoutedItem[]>;
}

/**
 * Decodes a read's partitions still owned as read (`readAs`). Each partition is applied as soon as it
 * is decoded when all its users' states are at hand (the usual case): its decoded items are then
 * garbage before the next partition is decoded, never held (and copied, promoted, marked by the
 * garbage collector) across the whole step. Returns the partitions with states to load
 * (`step.missing`: one HMGET per partition, sent together after the read).
 */
export function applyRead(res: StreamRows[], readAs: ReadonlyMap<number, Owned>, step: StepApply): Waiting[] {
  const waiting: Waiting[] = [];
  const { missing, base } = step;
  for (const [streamBuf, entries] of res) {
    const p = partitionOfStream(streamBuf.toString());
    const o = step.owned.get(p);
    if (!o || o !== readAs.get(p)) continue; // lost (or rewound) while reading
    const known = missing.length;
    const reads = step.sessionReads.length;
    try {
      const items = newItems(p, o, entries, step, streamBuf.toString(), step.alone.has(p));
      if (!items.length) continue;
      const users = itemsByUser(items);
      for (const user of users.keys()) {
        const state = step.states.current(user, p);
        if (state) base.set(user, state);
        else missing.push([user, p]);
      }
      if (step.parts.sessions.enabled?.()) sessionReadsOf(p, items, step);
      // An isolated partition's item waits for its try to be recorded.
      if (missing.length === known && step.sessionReads.length === reads && !step.alone.has(p)) applySafely({ p, o, items, users }, step);
      else waiting.push({ p, o, items, users });
    } catch (err) {
      // Failing this partition only (it is re-read): nothing of it loaded or applied.
      missing.length = known;
      step.sessionReads.length = reads;
      step.failures.push({ p, o, err });
    }
  }
  return waiting;
}

/**
 * Session events (logins, refreshes, sign-outs, uses) of a session this owner holds none of: a commit about it
 * (its login's, an earlier refresh's) may have landed after the router looked and before a crash or
 * a hand-over, so only the store has the identity as it is now — whatever the router attached (a
 * stale stored identity, a baseline from a later login or refresh of its own step, or nothing: a
 * restarted router remembers no login it did not route). Read before they are applied (one read per
 * step, beside the states' loads), so that they extend it and are compared with it as in a run
 * without the crash (an event after a login of the same session among these items too: its
 * baseline is attached before that login is applied; a sign-out ends what is stored). Not read: a
 * use routed as revoked, and uses while no session_hijack behavior is on (nothing compares them).
 */
function sessionReadsOf(p: number, items: readonly RoutedItem[], step: StepApply): void {
  const { states } = step;
  const find = sessionFinder(states.deltas.get(p) ?? { sessions: [] }, states.inflight?.deltas.get(p), states.sessions);
  const compared = step.ctx.behaviors.some((b) => b.enabled && b.kind === 'session_hijack');
  for (const it of items) {
    if (!('e' in it) || revokedUse(it.e)) continue;
    const sid = usesSession(it.e);
    if (sid === undefined || (!compared && !isSessionLogin(it.e) && !isSessionSignOut(it.e))) continue;
    const key = pendingKey(it.e.user, sid);
    if (states.unknownSession(key, find(key))) step.sessionReads.push({ p, sid, event: it.e });
  }
}

/**
 * Decodes one partition's entries as read, moving `o`'s cursor past each: its items above the last
 * applied key, in order (`report` counts the entries read and the items skipped). An entry that
 * does not decode to routed items (written by something else than the router) is dead-lettered
 * (`step.bad`), whole, and passed over: it must not hold its partition up for ever.
 */
function newItems(p: number, o: Owned, entries: StreamRows[1], step: StepApply, stream: string, one: boolean): RoutedItem[] {
  const { parts, report } = step;
  const items: RoutedItem[] = [];
  // Skips items not above the last applied or accepted key: a re-routed entry repeats items of
  // earlier entries, possibly of this same read.
  let lastMs = o.applied.ms;
  let lastSeq = o.applied.seq;
  for (const [idBuf, fields] of entries) {
    const before = o.cursor;
    o.cursor = idBuf.toString();
    report.read++;
    const value = fields[1];
    if (!value) continue;
    let decoded: RoutedItem[];
    try {
      // The router's own items (handed over in memory) are well formed; read from Redis, checked.
      decoded = parts.handoff?.take(p, o.cursor, value) ?? checkedRouted(decodeRouted(value), p, o.cursor, step.partitionOf);
    } catch (err) {
      step.bad.push({ raw: unroutedEntry(stream, o.cursor, fields), reason: `routed entry: ${(err as Error).message}` });
      continue;
    }
    for (const item of decoded) {
      const [ms, seq] = item.k;
      if (ms < lastMs || (ms === lastMs && seq <= lastSeq))
        report.skipped++; // compareKeys(k, last) <= 0
      else if (one && items.length) {
        o.cursor = before; // `one`: the first new item only; its entry is read again for the next
        return items;
      } else {
        items.push(item);
        lastMs = ms;
        lastSeq = seq;
      }
    }
    if (one && items.length) return items;
  }
  return items;
}

/** {@link applyPartition}, a throw (a bug outside the per-event catch, a stack overflow) failing only this partition (`step.failures`). */
export function applySafely(w: Waiting, step: StepApply): void {
  try {
    applyPartition(w.p, w.o, w.items, w.users, step);
  } catch (err) {
    step.failures.push({ p: w.p, o: w.o, err });
  }
}

/** Applies one partition's items (grouped by user, in order) to its delta, if `o` (as read) still owns it; `step.base` holds the step's starting states. */
export function applyPartition(p: number, o: Owned, routed: RoutedItem[], users: Map<string, RoutedItem[]>, step: StepApply): void {
  // Lost, taken again or rewound while its states loaded: another object (its read is not applied).
  if (step.owned.get(p) !== o) return;
  const { ctx, report, states, base } = step;
  const { cache } = states;
  const d = states.delta(p, o);
  if (FAILPOINTS) firePoints(routed, d);
  const inflight = states.inflight?.deltas.get(p)?.states;
  const find = sessionFinder(d, states.inflight?.deltas.get(p), states.sessions);
  for (const [user, items] of users) {
    // states.current(), without the LRU's recency update (the set below makes it the most recent).
    const cached = cache.peek(user);
    const before = d.states.get(user) ?? inflight?.get(user) ?? cached?.state ?? base.get(user) ?? emptyState(user);
    if (step.parts.sessions.enabled?.() && items.some(carriesSession)) attachPendingBaselines(eventsOf(items), find, step.parts.sessions.lifetime?.());
    const a = applyItems(user, before, items, ctx);
    if (a.state !== before) d.states.set(user, a.state);
    if (cached) {
      cached.state = a.state; // its index signature stays
      cache.set(user, cached);
    } else cache.set(user, { state: a.state });
    if (a.dropEvents !== undefined) pruneEvents(d, user, d.events.length + a.dropEvents);
    for (const e of a.events) {
      d.events.push(e);
      (e.kind === 'hit' ? report.hits : report.changes).push(e.data as BehaviorHit & LevelChange);
    }
    for (const r of a.results) d.results.push(r);
    for (const x of a.audits) d.audits.push(x);
    if (a.applied.length) buildSessions(a.applied, (evs) => step.parts.sessions.build(evs), d, find, step.parts.sessions.enabled?.() !== false);
    // Revoked by the relay after this commit, which stores their identities (no session audit: none stored, nothing to revoke).
    if (a.late && step.parts.sessions.enabled?.()) for (const l of a.late) (d.late ??= []).push({ user, data: l });
    for (const f of a.failed) step.bad.push({ raw: rawOf(f.item), reason: `${PROCESSING_FAILED}${f.code}` });
    report.applied += items.length - a.failed.length;
  }
  const last = routed[routed.length - 1]!.k;
  o.applied = d.pos = { ms: last[0], seq: last[1] };
  d.applied += routed.length;
  step.applied = true;
}

/** Items grouped by user, each user's in order (users in order of first item). */
function itemsByUser(items: readonly RoutedItem[]): Map<string, RoutedItem[]> {
  const users = new Map<string, RoutedItem[]>();
  for (const it of items) {
    const user = 'e' in it ? it.e.user : it.c.user;
    const list = users.get(user);
    if (list) list.push(it);
    else users.set(user, [it]);
  }
  return users;
}

/** The partition number of a partition stream key (`…:{p<n>}:in`). */
function partitionOfStream(key: string): number {
  const m = /\{p(\d+)\}:in$/.exec(key);
  return m ? Number(m[1]) : -1;
}

/** True for an event item with a session id. */
const carriesSession = (it: RoutedItem): boolean => 'e' in it && it.e.session?.id !== undefined;

/** The events among a user's items (control ops left out). */
function eventsOf(items: readonly RoutedItem[]): CanonicalEvent[] {
  const out: CanonicalEvent[] = [];
  for (const it of items) if ('e' in it) out.push(it.e);
  return out;
}
