import type { BehaviorConfig } from '../config/behaviors-schema.js';
import { detectorFor, isDetectorKind } from '../detect/registry.js';
import type { DetectorHit, DetectorLimits } from '../detect/types.js';
import { mergeTiers, tiersOf, withTiers } from './tiers.js';
import { scrubShared, type ScrubOptions } from '../secrets/scrub.js';
import { scrubAll, scrubKnownDeep } from '../secrets/known-secrets.js';
import { levelRank, type BehaviorHit, type CanonicalEvent, type EntryRef, type RiskLevel } from '../types.js';
import { compareIds, type UserState } from './state.js';
import { copyState, expire, recordChange, VOUCHED, vouchedOf, type ReduceResult } from './level-change.js';
import { catchUpEpochs, NO_EPOCHS, type BehaviorEpochs } from './behavior-epochs.js';
import { LATE_HITS, pruneLate, rememberLate, seenLate } from './late-hits.js';
import { boundedText, boundedTexts } from './hit-text.js';

export { changeId, expire, reset, VOUCHED, type ReduceResult } from './level-change.js';

/** How many triggering event ids an active behavior remembers (dedupes repeated events). */
const RECENT_HIT_IDS = 64;

/** One input to the reducer: an event and where it came from. */
export interface ReduceInput {
  event: CanonicalEvent;
  ref: EntryRef;
}

/**
 * When a hit stops counting: `expires_after` from its event time — from `now` when the event time
 * is in the future (clock skew), so a future timestamp never stretches a behavior; null = never.
 */
export function hitExpiry(eventTime: number, expiresAfter: number | null, now: number): number | null {
  return expiresAfter === null ? null : Math.min(eventTime, now) + expiresAfter;
}

/** True when some active behavior's expiry has passed. */
function anyDue(state: UserState, now: number): boolean {
  // Object.keys, as expire(): a corrupt state (behaviors or one behavior null) throws here too.
  for (const id of Object.keys(state.behaviors)) {
    const expiresAt = state.behaviors[id]!.expiresAt;
    if (expiresAt !== null && expiresAt <= now) return true;
  }
  return false;
}

function byTimeThenId(a: ReduceInput, b: ReduceInput): number {
  return a.event.time - b.event.time || (a.ref.stream === b.ref.stream ? compareIds(a.ref.id, b.ref.id) : a.ref.stream < b.ref.stream ? -1 : 1);
}

/**
 * Applies a user's events (any order; processed in event-time order) to their state:
 * expires what is due, runs every enabled behavior's detector (the windows of the others dropped),
 * records hits as active behaviors (with the level configured at hit time) and emits one change
 * per level change: at most one per event, to the highest level its hits give.
 * A hit counts from its event time ({@link hitExpiry}); one already expired at `now` (a
 * backfill) is returned with `expiredOnArrival` and changes neither behaviors nor level.
 * Pure: no I/O, no clock; `now` is the processing time. `secrets` (the worker's own tokens) are
 * taken out of what hits quote from their events, beside anything token-shaped. `epochs`: what the
 * enabled behaviors turned on again since the state was last applied remembered is dropped first
 * (src/risk/behavior-epochs.ts).
 */
export function reduce(
  state: UserState,
  inputs: ReduceInput[],
  behaviors: BehaviorConfig[],
  now: number,
  limits: DetectorLimits,
  secrets: readonly string[] = [],
  epochs: BehaviorEpochs = NO_EPOCHS,
): ReduceResult {
  const expired = anyDue(state, now) ? expire(state, now) : undefined;
  const next = expired === undefined || expired.state === state ? copyState(state) : expired.state;
  const changes = expired?.changes ?? [];
  const hits: BehaviorHit[] = [];
  const ordered = inputs.length > 1 ? [...inputs].sort(byTimeThenId) : inputs;
  const p = planOf(behaviors);
  const vouched = vouchedOf(next);
  catchUpEpochs(next, p.enabled, epochs);
  for (const input of ordered) {
    const { event, ref } = input;
    const eventId = event.id ?? `${ref.stream}/${ref.id}`;
    // An event an admin reset vouched for, delivered again: no detector sees it (nothing before the reset counts again).
    if (vouched !== undefined && event.id !== undefined && vouched.includes(eventId)) continue;
    const detectorInput = { event, eventId };
    // One event is one level change, to the highest level its hits give (never LOW → MEDIUM → HIGH
    // for one event hitting two behaviors): the change is recorded once its every behavior has run.
    let raised: RaisingHit | undefined;
    for (let i = 0; i < p.enabled.length; i++) {
      const b = p.enabled[i]!;
      const detector = p.detectors[i] ?? detectorFor(b.kind); // an unknown kind throws, as it did per event
      if (!detector.accepts(event, b.params)) continue;
      const r = detector.detect(next.windows[b.id], detectorInput, b.params, now, limits);
      if (r.window === undefined) delete next.windows[b.id];
      else next.windows[b.id] = r.window;
      if (!r.hits.length) continue;
      // An event (by its own id) seen in an earlier hit — a replayed file, a shipper retry — makes no
      // new hit (checked before this event's hits: one event may make several, e.g. a late login's).
      if (event.id !== undefined && (next.behaviors[b.id]?.ids?.includes(eventId) || seenLate(next, b.id, eventId))) continue;
      for (const h of r.hits) {
        const counted = recordHit(next, hits, b, h, input, eventId, now, secrets);
        if (counted && (raised === undefined || levelRank(counted.level) > levelRank(raised.level))) raised = counted;
      }
    }
    if (raised) recordChange(next, changes, raised.cause, raised.summary, 'system', now, raised.time);
  }
  // What behaviors turned off (or no longer configured) remembered goes: frozen while they saw nothing,
  // it would judge by a stale history once on again (new_country flagging the usual country).
  for (const id of Object.keys(next.windows)) if (!p.on.has(id) && id !== VOUCHED && id !== LATE_HITS) delete next.windows[id];
  if (LATE_HITS in next.windows) pruneLate(next, p.on);
  next.updatedAt = now;
  return { state: next, hits, changes };
}

/** Per behaviors array (the config's, never modified): the enabled ones with their detectors and ids. */
interface Plan {
  enabled: BehaviorConfig[];
  /** The detector of each enabled behavior; undefined for an unknown kind ({@link detectorFor} throws on use). */
  detectors: Array<ReturnType<typeof detectorFor> | undefined>;
  /** The enabled behaviors' ids: only their windows are kept. */
  on: Set<string>;
}

const plans = new WeakMap<readonly BehaviorConfig[], Plan>();

function planOf(behaviors: readonly BehaviorConfig[]): Plan {
  let p = plans.get(behaviors);
  if (p) return p;
  const enabled = behaviors.filter((b) => b.enabled);
  p = { enabled, detectors: enabled.map((b) => (isDetectorKind(b.kind) ? detectorFor(b.kind) : undefined)), on: new Set(enabled.map((b) => b.id)) };
  plans.set(behaviors, p);
  return p;
}

/** Evidence keys are the detectors' own names: only token-shaped values are scrubbed. */
const VALUES_ONLY: ScrubOptions = { secretName: () => false };

/** A hit that counted, as the level change it may make names it: the first of an event's highest level. */
interface RaisingHit {
  level: RiskLevel;
  /** The change id's cause: the entry and the behavior. */
  cause: string;
  summary: string;
  time: number;
}

/**
 * Records one detector hit of behavior `b`: the hit and the active behavior. Returns what the
 * level change it may make needs, or undefined for a hit expired on arrival (it changes no level).
 */
function recordHit(
  next: UserState,
  hits: BehaviorHit[],
  b: BehaviorConfig,
  h: DetectorHit,
  { event, ref }: ReduceInput,
  eventId: string,
  now: number,
  secrets: readonly string[],
): RaisingHit | undefined {
  const level = h.level ?? b.risk_level;
  // What a detector quotes from the event (a file name, a detection text, a device id) may hold a
  // token — one of the worker's own too —: scrubbed before it is stored, shown or sent in a SET's
  // reason; then cut (src/risk/hit-text.ts), so no event makes either as long as itself.
  const summary = boundedText(scrubAll(h.summary, secrets));
  const evidence = boundedTexts(scrubKnownDeep(scrubShared(h.evidence, VALUES_ONLY) as Record<string, unknown>, secrets));
  const expiresAt = hitExpiry(h.time, b.expires_after, now);
  const late = expiresAt !== null && expiresAt <= now;
  const hit: BehaviorHit = {
    behavior: b.id,
    level,
    time: h.time,
    processedAt: now,
    expiresAt,
    ...(late ? { expiredOnArrival: true } : {}),
    summary,
    evidence,
    eventIds: h.eventIds,
  };
  hits.push(hit);
  if (late) {
    // Recorded in the user's risk events; it stopped counting before it arrived. Its event, delivered again, makes no second hit.
    if (event.id !== undefined) rememberLate(next, b.id, [...h.eventIds, eventId]);
    return undefined;
  }
  const prev = next.behaviors[b.id];
  // Each level keeps its own expiry: a lower hit never prolongs a higher level (src/risk/tiers.ts).
  const tiers = prev ? mergeTiers([...tiersOf(prev), { level, expiresAt }]) : [{ level, expiresAt }];
  // The behavior shows its latest hit in event time: a late, older hit (arrival order) does not replace it.
  const shown = prev && h.time < prev.lastAt ? { summary: prev.summary, evidence: prev.evidence } : { summary, evidence };
  next.behaviors[b.id] = withTiers(
    {
      level,
      firstAt: prev ? Math.min(prev.firstAt, h.time) : h.time,
      lastAt: prev ? Math.max(prev.lastAt, h.time) : h.time,
      expiresAt,
      hits: (prev?.hits ?? 0) + 1,
      ...(event.id !== undefined
        ? { ids: [...new Set([...(prev?.ids ?? []), ...h.eventIds, eventId])].slice(-RECENT_HIT_IDS) }
        : prev?.ids
          ? { ids: prev.ids }
          : {}),
      ...shown,
    },
    tiers,
  );
  return { level, cause: `${ref.stream}/${ref.id}/${b.id}`, summary, time: h.time };
}
