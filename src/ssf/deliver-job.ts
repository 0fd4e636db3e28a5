/**
 * The `set-delivery` job processor: ordering/coalescing checks, per-receiver egress slot
 * and throttle, the per-(user, receiver) send lock, sign at send time, push, and one audit
 * entry per attempt. Retryable failures throw a RiskstreamError carrying `details.delayMs`
 * for the backoff strategy; permanent ones throw UnrecoverableError (the failed job is kept 30 days at most).
 */
import { DelayedError, type Job } from 'bullmq';
import type { ResolvedReceiver } from '../config/receiver.js';
import { isRiskstreamError } from '../errors.js';
import { contextOf, outcomeHandlers, type Ctx, type DeliveryResult, type OutcomeDeps } from './delivery-outcome.js';
import { EgressLimiter, MIN_WAIT_MS, type Egress } from './egress.js';
import { EndpointPolicy } from './endpoint-policy.js';
import type { KeyRing } from './key-ring.js';
import { pushSet } from './push-client.js';
import type { SetJobData } from './queue.js';
import type { ReceiverRegistry } from './receivers.js';
import { signJobSet } from './job-set.js';
import { SendSlots } from './send-slots.js';
import { stillAnnounced } from './stream-updated.js';
import { fencedPush, type StreamFence } from './stream-fence.js';
import { isSubjectRemoved } from './subject-key.js';

/** Everything the processor needs. */
export interface ProcessorDeps extends OutcomeDeps {
  /** The `delivery` block; `concurrency` (the worker's) gives configured receivers' default egress cap. */
  delivery: OutcomeDeps['delivery'] & { concurrency: number };
  registry: ReceiverRegistry;
  keyRing: KeyRing;
  issuer: string;
  random?: () => number;
  /** Policy and limits for self-registered streams (default: no allowed endpoints, 2 per stream, 16 in all). */
  egress?: Egress;
  /** Records a push to a self-registered stream as in flight and re-reads the stream (src/ssf/stream-fence.ts). */
  fence?: StreamFence;
  /** Aborted when the worker shuts down with sends still in flight: they end as retryable at once. */
  signal?: AbortSignal;
}

/** How often a SET queued for a stream that was paused since looks again for the resume. */
const PAUSED_RECHECK_MS = 5_000;
/** How often a SET for a receiver only another worker's configuration has looks again. */
const SKEW_RECHECK_MS = 5_000;
/** Lock TTL beyond the receiver timeout (signing, Redis round trips). */
const LOCK_MARGIN_MS = 5_000;

/** Latest a push may start after its send lock was asked for: the lock outlives the push (at most the timeout) by a second. */
const SEND_WITHIN_MS = LOCK_MARGIN_MS - 1_000;

/** Creates the processor function for a BullMQ Worker on `set-delivery`. */
export function createSetProcessor(deps: ProcessorDeps): (job: Job<SetJobData>, token?: string) => Promise<DeliveryResult> {
  const random = deps.random ?? Math.random;
  const egress = deps.egress ?? { policy: new EndpointPolicy(), limiter: new EgressLimiter(2, 16) };
  const slots = new SendSlots(egress.limiter, deps.delivery.concurrency);
  const { record, fail, leftOf, superseded, onFailure } = outcomeHandlers(deps, random);
  const skewLogged = new Set<string>();

  async function delay(job: Job<SetJobData>, token: string | undefined, ms: number): Promise<never> {
    await job.moveToDelayed(Date.now() + ms, token);
    throw new DelayedError();
  }

  /**
   * A SET for a receiver (or a stream's token) another worker's configuration has, not this one's:
   * it waits for a worker that has it, or for this one's reload, rather than failing for good; up
   * to the horizon (then `expired`, with `outcome` as the last).
   */
  async function waitForReload(job: Job<SetJobData>, token: string | undefined, outcome: string): Promise<DeliveryResult> {
    const { receiver } = job.data;
    if (leftOf(job) <= 0) return fail(contextOf(job), 'failed', { outcome: 'expired', last_outcome: outcome });
    if (!skewLogged.has(receiver)) {
      skewLogged.add(receiver);
      deps.logger?.warn(
        { receiver, outcome },
        outcome === 'owner_revoked'
          ? "SETs for an SSF stream whose token another worker's configuration has wait for a worker that has it: reload this one too (kill -HUP)"
          : "SETs for a receiver another worker's configuration has on wait for a worker that has it: reload this one too (kill -HUP)",
      );
    }
    return delay(job, token, SKEW_RECHECK_MS + Math.round(random() * SKEW_RECHECK_MS * 0.2));
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
    // Unknown or disabled here, or a self-registered stream: re-read first. Another worker may have
    // created, paused or disabled a stream, or removed the subject or the event type, since this
    // one's last sync (a second ago at most), and answered the receiver already.
    if ((receiver?.selfRegistered === true || !receiver?.enabled) && deps.registry.refresh) {
      await deps.registry.refresh();
      receiver = deps.registry.get(d.receiver);
    }
    // A stream whose creating token was removed from the configuration (the receiver's credential
    // revoked): nothing more is sent to it, announcements and SETs already queued or held included —
    // unless a running worker's configuration has the token (put back, or added, by a reload this one
    // has not had yet: workers are reloaded one by one): then it waits, as for a receiver below.
    if (receiver?.ownerRevoked) {
      if (receiver.owner !== undefined && (await deps.state.ownerElsewhere(receiver.owner))) return waitForReload(job, token, 'owner_revoked');
      return fail(ctx, 'failed', { outcome: 'owner_revoked' });
    }
    // Queued before the stream was disabled, or while it was: dropped even though it is enabled (or
    // paused) again since — a disabled stream holds nothing (SSF 1.0 §8.1.2).
    if (!announces && receiver?.queuedAfter !== undefined && job.timestamp < receiver.queuedAfter) return fail(ctx, 'failed', { outcome: 'receiver_disabled' });
    if (waits(receiver)) {
      // Queued before its stream was paused (or waiting out a retry): it waits for the resume, as
      // the SETs of changes made while paused wait in the stream's held list; up to the horizon.
      if (leftOf(job) <= 0) return fail(ctx, 'failed', { outcome: 'expired', last_outcome: 'paused' });
      return delay(job, token, PAUSED_RECHECK_MS + Math.round(random() * PAUSED_RECHECK_MS * 0.2));
    }
    if (!receiver || (!receiver.enabled && !(announces && receiver.streamId))) {
      const outcome = receiver ? 'receiver_disabled' : 'unknown_receiver';
      // A configured receiver another worker's configuration has on (it queued this SET) while
      // this one's is behind a reload (workers are reloaded one by one): it waits for a worker
      // that has it, or for this one's reload, rather than failing for good; up to the horizon.
      if (receiver?.selfRegistered !== true && (await deps.state.enabledElsewhere(d.receiver))) return waitForReload(job, token, outcome);
      return fail(ctx, 'failed', { outcome });
    }
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
    const session = d.event === 'session-revoked' ? d.sessionId : undefined;
    if (user !== undefined && isSubjectRemoved(receiver.removedSubjects, user, session)) return fail(ctx, 'failed', { outcome: 'subject_removed' });
    if (d.event !== 'verification' && d.event !== 'stream-updated' && !receiver.events.includes(d.event))
      return fail(ctx, 'failed', { outcome: 'event_not_requested' });
    if (d.event === 'risk-level-change') {
      const skipped = await superseded(d.change, ctx);
      if (skipped) return skipped;
    }

    // A slot per receiver and of the worker's (src/ssf/send-slots.ts). A job without a free slot waits
    // outside them (its turn in the receiver's line, at most backoff_max); it takes the slot before
    // the throttle (no rate-limit slot spent on a job put back) and before the per-(user, receiver)
    // lock. Up to the horizon.
    const slot = slots.take(receiver);
    if (!slot.release) {
      // Waiting past the horizon (a receiver that hangs for longer) is expiring, as for a paused or rate-limited one.
      const left = leftOf(job);
      if (left <= 0) return fail(ctx, 'failed', { outcome: 'expired', last_outcome: 'no_slot' });
      const wait = slot.waitMs(Math.min(deps.delivery.backoff_max, left));
      // Jitter in proportion (a fifth of the wait, at least the shortest wait): jobs put back together spread out.
      return delay(job, token, wait + Math.round(random() * Math.max(MIN_WAIT_MS, wait / 5)));
    }
    try {
      return await send(job, token, receiver, ctx);
    } finally {
      slot.release();
    }
  };

  /** The rest of an attempt, holding an egress slot: throttle, lock, sign, push, outcome. */
  async function send(job: Job<SetJobData>, token: string | undefined, receiver: ResolvedReceiver, ctx: Ctx): Promise<DeliveryResult> {
    const d = job.data;
    // A rate-limit reservation taken earlier in this attempt goes back to the gate: used, or re-checked once stale.
    const held = d.slot?.attempt === job.attemptsMade ? d.slot.ref : undefined;
    const gate = await deps.state.gate(receiver.name, receiver.rate_limit, held);
    // A job put back keeps a reservation it took (no rate slot spent twice).
    const keep = async (): Promise<void> => {
      if (gate.reserved) await job.updateData({ ...d, slot: { attempt: job.attemptsMade, ref: gate.reserved } });
    };
    /** Put back for a moment (the lock taken elsewhere, or held too long here): the next attempt checks again. */
    const retrySoon = async (): Promise<never> => {
      await keep();
      return delay(job, token, 100 + Math.round(random() * 200));
    };
    if (gate.wait > 0) {
      // Waiting past the horizon (a receiver paused for longer by its Retry-After) is expiring.
      const left = leftOf(job);
      if (left <= 0) return fail(ctx, 'failed', { outcome: 'expired', last_outcome: 'rate_limited' });
      await keep();
      return delay(job, token, Math.min(gate.wait, left));
    }
    let release: (() => Promise<void>) | undefined;
    let sendBy = Infinity;
    let lapses = 0;
    if (d.event === 'risk-level-change') {
      const asked = performance.now();
      release = await deps.state.lock(d.change.user, receiver.name, receiver.timeout + LOCK_MARGIN_MS);
      if (!release) return retrySoon();
      sendBy = asked + SEND_WITHIN_MS;
      lapses = asked + receiver.timeout + LOCK_MARGIN_MS;
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
      // This worker stood still since it took the lock (paused, a long GC, a reply held up on its
      // way back): the lock may have expired and another worker sent a newer level meanwhile, which
      // this one must not follow. Put back: its next attempt checks the versions again. Checked right
      // before the push, after the fence (a stream's push recorded in flight: round trips held up too).
      const outcome = await fencedPush(deps.fence, receiver, async () =>
        performance.now() > sendBy
          ? ('late' as const)
          : pushSet({
              endpoint: receiver.endpoint,
              set,
              timeoutMs: receiver.timeout,
              ...(receiver.authorizationValue ? { authorization: receiver.authorizationValue } : {}),
              ...(receiver.selfRegistered ? { policy: egress.policy } : {}),
              ...(deps.signal ? { signal: deps.signal } : {}),
            }),
      );
      // Stood still past `sendBy`, or the stream changed since this push was decided (disabled, …): decided again.
      if (outcome === 'late' || outcome === 'changed') return await retrySoon();
      if (outcome.kind !== 'delivered') {
        // Sent, and no answer (timed out, cut off, aborted at shutdown): the receiver may hold the SET
        // and still be applying it. Its send lock is left to lapse, not released, so the user's next
        // level does not overtake it there; this SET's own retry waits for that too.
        const inDoubt = outcome.kind === 'retryable' && outcome.sent === true && release !== undefined;
        if (inDoubt) release = undefined;
        // `return await` inside try/finally: a rejection must not sit unhandled while the lock is released.
        return await onFailure(job, ctx, receiver, outcome, inDoubt ? Math.ceil(lapses - performance.now()) : 0);
      }
      // Audited (once per SET) before the version is marked delivered: a crash between the two
      // pushes it again (the same jti) and writes no second entry; one after both finds it delivered.
      await record('set.delivered', ctx, 'delivered', { outcome: 'delivered', status: outcome.status });
      if (d.event === 'risk-level-change') await deps.state.markDelivered(d.change.user, receiver.name, d.change.version);
      return { outcome: 'delivered', jti: d.jti, status: outcome.status };
    } finally {
      await release?.();
    }
  }
}
