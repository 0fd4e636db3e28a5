/**
 * The `set-delivery` job processor: ordering/coalescing checks, per-receiver throttle, the
 * per-(user, receiver) send lock, sign at send time, push, and one audit entry per attempt.
 * Retryable failures throw a RiskstreamError carrying `details.delayMs` for the backoff
 * strategy; permanent ones throw UnrecoverableError (the failed job is kept).
 */
import { DelayedError, UnrecoverableError, type Job } from 'bullmq';
import type { AuditLog } from '../audit/audit-log.js';
import type { ResolvedReceiver } from '../config/receiver.js';
import { isRiskstreamError, RiskstreamError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import { FailureLog } from './failure-log.js';
import type { LevelChange } from '../types.js';
import { backoffDelay, horizonLeft, type BackoffConfig } from './backoff.js';
import type { DeliveryState } from './delivery-state.js';
import { EgressLimiter, type Egress } from './egress.js';
import { EndpointPolicy } from './endpoint-policy.js';
import type { KeyRing } from './key-ring.js';
import { pushSet, type PushOutcome } from './push-client.js';
import type { SetJobData } from './queue.js';
import type { ReceiverRegistry } from './receivers.js';
import { signJobSet } from './job-set.js';
import { stillAnnounced } from './stream-updated.js';

/** Outcome of one attempt, as reported to `onOutcome` (a metrics label). */
export type DeliveryOutcome = 'delivered' | 'superseded' | 'retry' | 'rate_limited' | 'failed' | 'unauthorized';

/** Extra facts passed to `onOutcome`. */
export interface OutcomeInfo {
  event: SetJobData['event'];
  status?: number;
  attempts: number;
}

/** What a completed job returns. */
export interface DeliveryResult {
  outcome: 'delivered' | 'superseded';
  jti: string;
  status?: number;
}

/** Everything the processor needs. */
export interface ProcessorDeps {
  state: DeliveryState;
  registry: ReceiverRegistry;
  keyRing: KeyRing;
  issuer: string;
  audit: AuditLog;
  delivery: BackoffConfig & { invalid_key_retry: number };
  onOutcome?: (receiver: string, outcome: DeliveryOutcome, info: OutcomeInfo) => void;
  logger?: Logger;
  random?: () => number;
  /** Policy and limits for self-registered streams (default: no allowed endpoints, 2 per stream, 16 in all). */
  egress?: Egress;
}

/** How often a SET queued for a stream that was paused since looks again for the resume. */
const PAUSED_RECHECK_MS = 5_000;

/** Lock TTL beyond the receiver timeout (signing, Redis round trips). */
const LOCK_MARGIN_MS = 5_000;

type Ctx = { receiver: string; event: SetJobData['event']; jti: string; attempts: number; user?: string; version?: number; session_id?: string };

function contextOf(job: Job<SetJobData>): Ctx {
  const d = job.data;
  const ctx: Ctx = { receiver: d.receiver, event: d.event, jti: d.jti, attempts: job.attemptsMade + 1 };
  if (d.event === 'risk-level-change') return { ...ctx, user: d.change.user, version: d.change.version };
  if (d.event === 'session-revoked') return { ...ctx, user: d.user, ...(d.sessionId ? { session_id: d.sessionId } : {}) };
  return ctx;
}

/** Creates the processor function for a BullMQ Worker on `set-delivery`. */
export function createSetProcessor(deps: ProcessorDeps): (job: Job<SetJobData>, token?: string) => Promise<DeliveryResult> {
  const random = deps.random ?? Math.random;
  const egress = deps.egress ?? { policy: new EndpointPolicy(), limiter: new EgressLimiter(2, 16) };
  const failures = new FailureLog(deps.logger);

  async function record(action: string, ctx: Ctx, outcome: DeliveryOutcome, details: Record<string, unknown>): Promise<void> {
    if (action === 'set.delivered') failures.delivered(ctx.receiver);
    else if (action === 'set.retry' || action === 'set.failed')
      failures.failed(ctx.receiver, { outcome: details.outcome, status: details.status, message: details.message, retrying: action === 'set.retry' });
    try {
      await deps.audit.write({ action, actor: 'system', target: ctx.user ?? ctx.receiver, details: { ...ctx, ...details } });
    } catch (err) {
      deps.logger?.error({ action, receiver: ctx.receiver, jti: ctx.jti, err }, 'audit write failed');
    }
    try {
      const status = typeof details.status === 'number' ? { status: details.status } : {};
      deps.onOutcome?.(ctx.receiver, outcome, { event: ctx.event, attempts: ctx.attempts, ...status });
    } catch {
      /* a metrics hook must not break delivery */
    }
  }

  async function fail(ctx: Ctx, outcome: DeliveryOutcome, details: Record<string, unknown>): Promise<never> {
    await record('set.failed', ctx, outcome, details);
    const status = details.status !== undefined ? ` (HTTP ${String(details.status)})` : '';
    throw new UnrecoverableError(`${ctx.event} to ${ctx.receiver}: ${String(details.outcome)}${status}`);
  }

  /** The time left before the job's horizon (ms). */
  function leftOf(job: Job<SetJobData>): number {
    return horizonLeft(job.timestamp, Date.now(), deps.delivery.horizon);
  }

  /** Pauses the receiver `ms`, never beyond the job's horizon. */
  async function pauseWithin(job: Job<SetJobData>, receiver: ResolvedReceiver, ms: number): Promise<void> {
    await deps.state.pause(receiver.name, Math.min(ms, leftOf(job)));
  }

  async function retry(job: Job<SetJobData>, ctx: Ctx, outcome: DeliveryOutcome, wantMs: number, details: Record<string, unknown>): Promise<never> {
    const left = leftOf(job);
    if (left <= 0) return fail(ctx, 'failed', { ...details, outcome: 'expired', last_outcome: details.outcome });
    const delayMs = Math.min(wantMs, left);
    await record('set.retry', ctx, outcome, { ...details, delay_ms: delayMs });
    const code = outcome === 'rate_limited' ? 'DELIVERY_RATE_LIMITED' : 'DELIVERY_RETRYABLE';
    throw new RiskstreamError(code, `${ctx.event} to ${ctx.receiver}: ${String(details.outcome)}, retry in ${delayMs} ms`, { delayMs });
  }

  async function delay(job: Job<SetJobData>, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  async function superseded(change: LevelChange, ctx: Ctx): Promise<DeliveryResult | undefined> {
    const v = await deps.state.versions(change.user, ctx.receiver);
    if (v.delivered < change.version && v.enqueued <= change.version) return undefined;
    await record('set.superseded', ctx, 'superseded', { outcome: 'superseded', delivered_version: v.delivered, latest_version: v.enqueued });
    return { outcome: 'superseded', jti: ctx.jti };
  }

  async function onFailure(job: Job<SetJobData>, ctx: Ctx, receiver: ResolvedReceiver, o: Exclude<PushOutcome, { kind: 'delivered' }>): Promise<never> {
    const attempt = job.attemptsMade + 1;
    switch (o.kind) {
      case 'permanent':
        return fail(ctx, 'failed', { outcome: 'rejected', status: o.status, err: o.err, description: o.description });
      case 'unauthorized':
        deps.logger?.warn({ receiver: ctx.receiver, status: o.status }, 'receiver refused our authorization: check its authorization setting');
        return fail(ctx, 'unauthorized', { outcome: 'unauthorized', status: o.status, err: o.err, description: o.description, alert: true });
      case 'invalid_key':
        if (job.data.invalidKeyRetried || deps.delivery.invalid_key_retry <= 0)
          return fail(ctx, 'failed', { outcome: 'rejected', status: o.status, err: o.err, description: o.description });
        await job.updateData({ ...job.data, invalidKeyRetried: true });
        return retry(job, ctx, 'retry', deps.delivery.invalid_key_retry, { outcome: 'invalid_key', status: o.status, description: o.description });
      case 'rate_limited': {
        // Retry-After is honoured as a floor under the backoff, as a 5xx's: `Retry-After: 0` (or a
        // date past) repeated must not resend at once, again and again, until the horizon.
        const ms = Math.max(o.retryAfterMs ?? 0, backoffDelay(attempt, deps.delivery, random()));
        await pauseWithin(job, receiver, ms);
        return retry(job, ctx, 'rate_limited', ms, { outcome: 'rate_limited', status: o.status, retry_after_ms: o.retryAfterMs });
      }
      case 'retryable': {
        // A 5xx's Retry-After (a 503 during maintenance) is a floor under the backoff, never less
        // (`Retry-After: 0` must not retry a failing receiver at once, again and again); the
        // receiver waits that long, within the horizon.
        const ms = Math.max(o.retryAfterMs ?? 0, backoffDelay(attempt, deps.delivery, random()));
        if (o.retryAfterMs !== undefined) await pauseWithin(job, receiver, ms);
        return retry(job, ctx, 'retry', ms, {
          outcome: o.reason,
          status: o.status,
          message: o.message,
          ...(o.retryAfterMs !== undefined ? { retry_after_ms: o.retryAfterMs } : {}),
        });
      }
      case 'refused':
        deps.logger?.warn({ receiver: ctx.receiver, reason: o.reason }, 'self-registered stream endpoint refused at send time');
        return fail(ctx, 'failed', { outcome: 'endpoint_refused', reason: o.reason, message: o.message });
    }
  }

  return async function processSetJob(job, token) {
    const d = job.data;
    const ctx = contextOf(job);
    let receiver = deps.registry.get(d.receiver);
    // A SET for a paused stream waits for the resume; a verification SET too (its request was
    // answered 204: the SET will be sent, SSF 1.0 §8.1.4.2). A stream-updated SET announces the
    // status itself: it is sent whatever the stream's status (SSF 1.0 §8.1.5).
    const announces = d.event === 'stream-updated';
    const waits = (r: ResolvedReceiver | undefined): boolean => r?.paused === true && !announces;
    // Unknown or disabled here: re-read first. A waiting SET needs no re-read: the resume shows at
    // the next periodic sync, before it looks again.
    if (!receiver?.enabled && !waits(receiver) && deps.registry.refresh) {
      await deps.registry.refresh();
      receiver = deps.registry.get(d.receiver);
    }
    if (waits(receiver)) {
      // Queued before its stream was paused (or waiting out a retry): it waits for the resume, as
      // the SETs of changes made while paused wait in the stream's held list; up to the horizon.
      if (leftOf(job) <= 0) return fail(ctx, 'failed', { outcome: 'expired', last_outcome: 'paused' });
      return delay(job, token, PAUSED_RECHECK_MS + Math.round(random() * PAUSED_RECHECK_MS * 0.2));
    }
    if (!receiver || (!receiver.enabled && !(announces && receiver.streamId)))
      return fail(ctx, 'failed', { outcome: receiver ? 'receiver_disabled' : 'unknown_receiver' });
    if (d.event === 'stream-updated') {
      const now = await stillAnnounced(deps.registry, receiver, d.status);
      if (!now) return fail(ctx, 'failed', { outcome: 'unknown_receiver' });
      if (now === 'superseded') {
        await record('set.superseded', ctx, 'superseded', { outcome: 'superseded' });
        return { outcome: 'superseded', jti: d.jti };
      }
      receiver = now;
    }
    // Queued, held or retrying before the stream dropped its subject or the event type: not sent.
    const user = d.event === 'risk-level-change' ? d.change.user : d.event === 'session-revoked' ? d.user : undefined;
    if (user !== undefined && receiver.removedSubjects?.includes(user)) return fail(ctx, 'failed', { outcome: 'subject_removed' });
    if (d.event !== 'verification' && d.event !== 'stream-updated' && !receiver.events.includes(d.event))
      return fail(ctx, 'failed', { outcome: 'event_not_requested' });
    if (d.event === 'risk-level-change') {
      const skipped = await superseded(d.change, ctx);
      if (skipped) return skipped;
    }

    const hasSlot = d.slotAttempt === job.attemptsMade;
    const gate = await deps.state.gate(receiver.name, hasSlot ? undefined : receiver.rate_limit);
    if (gate.wait > 0) {
      // Waiting past the horizon (a receiver paused for longer by its Retry-After) is expiring.
      const left = leftOf(job);
      if (left <= 0) return fail(ctx, 'failed', { outcome: 'expired', last_outcome: 'rate_limited' });
      if (gate.reserved) await job.updateData({ ...d, slotAttempt: job.attemptsMade });
      return delay(job, token, Math.min(gate.wait, left));
    }

    // A self-registered stream without a free egress slot waits outside the worker's slots.
    const slot = receiver.selfRegistered ? egress.limiter.tryAcquire(receiver.name) : undefined;
    if (receiver.selfRegistered && !slot) return delay(job, token, 500 + Math.round(random() * 1000));
    let release: (() => Promise<void>) | undefined;
    if (d.event === 'risk-level-change') {
      release = await deps.state.lock(d.change.user, receiver.name, receiver.timeout + LOCK_MARGIN_MS);
      if (!release) {
        slot?.();
        return delay(job, token, 100 + Math.round(random() * 200));
      }
    }
    try {
      if (d.event === 'risk-level-change') {
        const skipped = await superseded(d.change, ctx); // re-check under the lock
        if (skipped) return skipped;
      }
      let set: string;
      try {
        set = await signJobSet(deps.keyRing, deps.issuer, d, receiver);
      } catch (err) {
        if (isRiskstreamError(err) && err.code.startsWith('KEY_')) return await fail(ctx, 'failed', { outcome: 'no_signing_key', message: err.message });
        throw err;
      }
      const outcome = await pushSet({
        endpoint: receiver.endpoint,
        set,
        timeoutMs: receiver.timeout,
        ...(receiver.authorizationValue ? { authorization: receiver.authorizationValue } : {}),
        ...(receiver.selfRegistered ? { policy: egress.policy } : {}),
      });
      // `return await` inside try/finally: a rejection must not sit unhandled while the lock is released.
      if (outcome.kind !== 'delivered') return await onFailure(job, ctx, receiver, outcome);
      if (d.event === 'risk-level-change') await deps.state.markDelivered(d.change.user, receiver.name, d.change.version);
      await record('set.delivered', ctx, 'delivered', { outcome: 'delivered', status: outcome.status });
      return { outcome: 'delivered', jti: d.jti, status: outcome.status };
    } finally {
      slot?.();
      await release?.();
    }
  };
}
