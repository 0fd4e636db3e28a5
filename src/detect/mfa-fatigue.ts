/**
 * mfa_fatigue (push bombing): `count` MFA pushes `denied` or `timeout` for one user within
 * `window` of event time. The burst fires once per window length (window-counter.ts); an
 * approved push (`outcome: success`) with at least `count` denied or unanswered pushes in the
 * `window` before it fires again with `approved: true` in its evidence — the user gave in, the
 * dangerous case. Both verdicts are order-free: an approval that arrives before the denials it
 * follows in event time is still judged (attempts.ts).
 *
 * Events: `type: mfa`; `factor` (when present) must be one of `factors` (default `push`). A denial
 * with `reason: fraud_reported` (the user reported the prompt as fraud) counts as denied and is
 * named in the evidence (`fraud_reported`).
 */
import { z } from 'zod';
import { formatDuration, windowMs } from '../duration.js';
import type { CanonicalEvent } from '../types.js';
import { addAttempt, addSuccess, attemptsBefore, readAttempts, type Attempt, type AttemptsState } from './attempts.js';
import { lower, typeIn } from './fields.js';
import { isoTime } from './format.js';
import type { Detector, DetectorHit } from './types.js';
import { addEvent, isSlidingCount, type CountSpec, type SlidingCount } from './window-counter.js';
import { expiresAfterOf } from './params.js';

/** mfa_fatigue's parameters. */
export const mfaFatigueParams = z.strictObject({
  /** Denied or unanswered pushes needed. */
  count: z.number().int().positive().default(5),
  window: windowMs.prefault('10m'),
  /** MFA factors that count (`factor`, case-insensitive); an event without a factor counts. */
  factors: z
    .array(z.string().min(1))
    .min(1, { message: 'must name at least one factor, e.g. [push] (to turn the behavior off: enabled: false)' })
    .default(['push']),
});
export type MfaFatigueParams = z.output<typeof mfaFatigueParams>;

/** Window: `c` the burst counter, `t` denials and approvals for the "then approved" verdict. */
export interface MfaFatigueWindow {
  c: SlidingCount;
  t: AttemptsState;
}

/** Outcomes of a push the user did not approve. */
export const REFUSED_OUTCOMES = ['denied', 'timeout'] as const;

function outcomeOf(event: CanonicalEvent, params: MfaFatigueParams): 'refused' | 'approved' | undefined {
  if (!typeIn(event, ['mfa'])) return undefined;
  const factor = lower(event.factor);
  if (factor !== undefined && factor !== '' && !params.factors.some((f) => f.toLowerCase() === factor)) return undefined;
  const o = lower(event.outcome);
  if (o === 'success') return 'approved';
  return o !== undefined && (REFUSED_OUTCOMES as readonly string[]).includes(o) ? 'refused' : undefined;
}

/** The note of a denial the user reported as fraud (`reason: fraud_reported`). */
const FRAUD = 'fraud_reported';

/**
 * A refused push as the attempts keep it: [outcome, note]. The outcome slot holds only `timeout` or
 * `denied`, as before notes existed, so that an older worker reading the window (a rolling upgrade,
 * a partition moving) counts a fraud-reported denial as denied; the note `fraud_reported` names it.
 */
function refusal(event: CanonicalEvent): ['timeout'] | ['denied'] | ['denied', typeof FRAUD] {
  if (lower(event.outcome) !== 'denied') return ['timeout'];
  return lower(event.reason) === FRAUD ? ['denied', FRAUD] : ['denied'];
}

/** True for a fraud-reported denial (also as stored by 228adc7, `fraud` in the outcome slot). */
const isFraud = (p: Attempt): boolean => p[3] === FRAUD || p[2] === 'fraud';

function burstEvidence(pushes: readonly Attempt[], params: MfaFatigueParams) {
  const first = pushes[0]![0];
  const last = pushes[pushes.length - 1]![0];
  const timeout = pushes.filter((p) => p[2] === 'timeout').length;
  const fraud = pushes.filter(isFraud).length;
  return {
    count: pushes.length,
    denied: pushes.length - timeout,
    timeout,
    // The user said the prompt was not theirs: named only when it happened.
    ...(fraud > 0 ? { fraud_reported: fraud } : {}),
    threshold: params.count,
    window: formatDuration(params.window),
    first: isoTime(first),
    last: isoTime(last),
    span: formatDuration(Math.max(0, last - first)),
    event_ids: pushes.slice(-20).map((p) => p[1]),
  };
}

function burstText(e: ReturnType<typeof burstEvidence>): string {
  const fraud = e.fraud_reported ? `, ${e.fraud_reported} of them reported as fraud` : '';
  const parts = [e.denied && `${e.denied} denied${fraud}`, e.timeout && `${e.timeout} unanswered`].filter(Boolean).join(', ');
  return `${e.count} MFA pushes refused in ${e.span} (${parts}; threshold ${e.threshold} in ${e.window})`;
}

function burstHit(t: AttemptsState, end: number, params: MfaFatigueParams): DetectorHit | undefined {
  const pushes = attemptsBefore(t, end, params.window);
  if (pushes.length === 0) return undefined;
  const evidence = { ...burstEvidence(pushes, params), approved: false };
  return { time: end, summary: burstText(evidence), evidence, eventIds: evidence.event_ids };
}

function approvedHit(time: number, id: string, pushes: readonly Attempt[], params: MfaFatigueParams): DetectorHit {
  const evidence = { ...burstEvidence(pushes, params), approved: true, approved_at: isoTime(time), approval_id: id };
  return {
    time,
    summary: `${burstText(evidence)}, then a push was approved at ${isoTime(time)}: the user may have given in`,
    evidence,
    eventIds: [id, ...evidence.event_ids],
  };
}

function readWindow(w: unknown): MfaFatigueWindow {
  const o = (w && typeof w === 'object' ? w : {}) as Partial<MfaFatigueWindow>;
  return { c: isSlidingCount(o.c) ? o.c : { e: [], f: [] }, t: readAttempts(o.t) };
}

/** The mfa_fatigue detector. Window: {@link MfaFatigueWindow}, bounded by `window` + allowed lateness. */
export const mfaFatigue: Detector<MfaFatigueParams, MfaFatigueWindow> = {
  kind: 'mfa_fatigue',
  params: mfaFatigueParams,
  countedBy: ['factors'],
  accepts: (event, params) => Number.isFinite(event.time) && outcomeOf(event, params) !== undefined,
  detect(window, { event, eventId }, params, now, limits) {
    const kind = outcomeOf(event, params);
    if (!kind || !Number.isFinite(event.time)) return { window, hits: [] };
    const w = readWindow(window);
    // The behavior's expires_after (the config passes it with the parameters, as to thresholds): a
    // burst's firing holds off the next only while its hit still counts.
    const spec: CountSpec = { count: params.count, window: params.window, expires_after: expiresAfterOf(params) };
    if (kind === 'approved') {
      const r = addSuccess(w.t, [event.time, eventId, ''], spec, now, limits);
      const f = r.flagged;
      return { window: { c: w.c, t: r.state }, hits: f ? [approvedHit(f.time, f.id, f.attempts, params)] : [] };
    }
    const t = addAttempt(w.t, [event.time, eventId, ...refusal(event)], spec, now, limits);
    // The burst counts the pushes the attempts keep: one too late behind the user's newest push or
    // approval is dropped by both (else the burst could fire with fewer pushes than `count` in its evidence).
    const c = t.late ? { state: w.c, crossings: [] as const } : addEvent(w.c, event.time, eventId, spec, now, limits);
    const hits: DetectorHit[] = [];
    for (const x of c.crossings) {
      const burst = burstHit(t.state, x.end, params);
      if (burst) hits.push(burst);
    }
    for (const f of t.flagged) hits.push(approvedHit(f.time, f.id, f.attempts, params));
    return { window: { c: c.state, t: t.state }, hits };
  },
};
