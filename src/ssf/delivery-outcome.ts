import { UnrecoverableError, type Job } from 'bullmq';
import type { AuditLog } from '../audit/audit-log.js';
import type { ResolvedReceiver } from '../config/receiver.js';
import { RiskstreamError } from '../errors.js';
import type { Logger } from '../obs/logger.js';
import type { LevelChange } from '../types.js';
import { backoffDelay, horizonLeft, type BackoffConfig } from './backoff.js';
import type { DeliveryState } from './delivery-state.js';
import { FailureLog } from './failure-log.js';
import type { PushOutcome } from './push-response.js';
import type { SetJobData } from './queue.js';

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

/** What outcome handling needs of the processor's dependencies (`ProcessorDeps`, ./deliver-job.ts, extends it). */
export interface OutcomeDeps {
  state: DeliveryState;
  audit: AuditLog;
  delivery: BackoffConfig & { invalid_key_retry: number };
  onOutcome?: (receiver: string, outcome: DeliveryOutcome, info: OutcomeInfo) => void;
  logger?: Logger;
}

/** A job's facts, as its audit entries and outcome reports carry them. */
export type Ctx = { receiver: string; event: SetJobData['event']; jti: string; attempts: number; user?: string; version?: number; session_id?: string };

/** How long a SET's `set.delivered` (`set.failed`, `set.superseded`) entry is remembered as written (ms): the delivery horizon, at least an hour. */
export function deliveredOnceMs(horizon: number): number {
  return Math.max(horizon, 3_600_000);
}

/** The facts of `job`'s attempt. */
export function contextOf(job: Job<SetJobData>): Ctx {
  const d = job.data;
  const ctx: Ctx = { receiver: d.receiver, event: d.event, jti: d.jti, attempts: job.attemptsMade + 1 };
  if (d.event === 'risk-level-change') return { ...ctx, user: d.change.user, version: d.change.version };
  if (d.event === 'session-revoked') return { ...ctx, user: d.user, ...(d.sessionId ? { session_id: d.sessionId } : {}) };
  return ctx;
}

/**
 * A processor's outcome handling: each attempt's audit entry, failure log entry and `onOutcome`
 * report; permanent failures (UnrecoverableError), retries within the horizon (a RiskstreamError
 * carrying `details.delayMs`), superseded level changes, and a push that was not delivered.
 */
export function outcomeHandlers(deps: OutcomeDeps, random: () => number) {
  const failures = new FailureLog(deps.logger);

  async function record(action: string, ctx: Ctx, outcome: DeliveryOutcome, details: Record<string, unknown>): Promise<void> {
    if (action === 'set.delivered') failures.delivered(ctx.receiver);
    else if (action === 'set.retry' || action === 'set.failed')
      failures.failed(ctx.receiver, { outcome: details.outcome, status: details.status, message: details.message, retrying: action === 'set.retry' });
    try {
      const entry = { action, actor: 'system', target: ctx.user ?? ctx.receiver, details: { ...ctx, ...details } };
      // A SET's final outcome (delivered, failed for good, superseded) is audited once, however
      // often its job runs (an attempt stopped by a crash after the push; a job taken back from a
      // worker cut off from Redis, and run again elsewhere while its own write waited).
      if (action === 'set.delivered' || action === 'set.failed' || action === 'set.superseded')
        await deps.audit.writeOnce(`${action}:${ctx.receiver}/${ctx.jti}`, entry, deliveredOnceMs(deps.delivery.horizon));
      else await deps.audit.write(entry);
    } catch (err) {
      deps.logger?.error({ action, receiver: ctx.receiver, jti: ctx.jti, err }, 'audit write failed');
      // A SET sent is never left unaudited: not marked delivered, its job is retried (pushed
      // again, the same jti) until its entry is written — once, however often it is pushed.
      if (action === 'set.delivered')
        throw new RiskstreamError('DELIVERY_RETRYABLE', `${ctx.event} to ${ctx.receiver}: delivered, not audited (audit write failed)`, undefined, {
          cause: err,
        });
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

  async function superseded(change: LevelChange, ctx: Ctx): Promise<DeliveryResult | undefined> {
    const v = await deps.state.versions(change.user, ctx.receiver);
    if (v.delivered < change.version && v.enqueued <= change.version) return undefined;
    // This very SET (one job per receiver, user and version) was delivered by an attempt that
    // stopped (a crash) before its job completed: it is audited as delivered (written once), not superseded.
    if (v.delivered === change.version) {
      await record('set.delivered', ctx, 'delivered', { outcome: 'delivered' });
      return { outcome: 'delivered', jti: ctx.jti };
    }
    await record('set.superseded', ctx, 'superseded', { outcome: 'superseded', delivered_version: v.delivered, latest_version: v.enqueued });
    return { outcome: 'superseded', jti: ctx.jti };
  }

  /** `floorMs`: the least wait before the retry (a push left unanswered: until its send lock lapses). */
  async function onFailure(
    job: Job<SetJobData>,
    ctx: Ctx,
    receiver: ResolvedReceiver,
    o: Exclude<PushOutcome, { kind: 'delivered' }>,
    floorMs = 0,
  ): Promise<never> {
    const attempt = job.attemptsMade + 1;
    switch (o.kind) {
      case 'permanent':
        return fail(ctx, 'failed', { outcome: 'rejected', status: o.status, err: o.err, description: o.description });
      case 'unauthorized':
        // Logged by the failure log (one line per receiver and interval, not one per SET).
        return fail(ctx, 'unauthorized', { outcome: 'unauthorized', status: o.status, err: o.err, description: o.description, alert: true });
      case 'invalid_key':
        if (job.data.invalidKeyRetried || deps.delivery.invalid_key_retry <= 0)
          return fail(ctx, 'failed', { outcome: 'rejected', status: o.status, err: o.err, description: o.description });
        await job.updateData({ ...job.data, invalidKeyRetried: true });
        return retry(job, ctx, 'retry', deps.delivery.invalid_key_retry, { outcome: 'invalid_key', status: o.status, err: o.err, description: o.description });
      case 'rate_limited': {
        // Retry-After is honoured as a floor under the backoff, as a 5xx's: `Retry-After: 0` (or a
        // date past) repeated must not resend at once, again and again, until the horizon. The
        // receiver pauses as long as it asked (its other SETs, new ones too, not for this one's
        // backoff, minutes once it has grown); without a wait given, for this SET's.
        const ms = Math.max(o.retryAfterMs ?? 0, backoffDelay(attempt, deps.delivery, random()));
        await pauseWithin(job, receiver, o.retryAfterMs ?? ms);
        return retry(job, ctx, 'rate_limited', ms, { outcome: 'rate_limited', status: o.status, retry_after_ms: o.retryAfterMs });
      }
      case 'retryable': {
        // A 5xx's or 408's Retry-After (a 503 during maintenance) is a floor under the backoff, never less
        // (`Retry-After: 0` must not retry a failing receiver at once, again and again); the
        // receiver waits as long as it asked, within the horizon.
        const ms = Math.max(o.retryAfterMs ?? 0, floorMs, backoffDelay(attempt, deps.delivery, random()));
        if (o.retryAfterMs !== undefined) await pauseWithin(job, receiver, o.retryAfterMs);
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

  return { record, fail, leftOf, superseded, onFailure };
}
