/**
 * The BullMQ worker that delivers SETs from the `set-delivery` queue. See
 * {@link createSetProcessor} for what one attempt does; this file wires the worker, the
 * retry delays (exponential backoff with jitter, bounded by the horizon) and graceful close.
 */
import { setMaxListeners } from 'node:events';
import { Worker, type Job } from 'bullmq';
import { duplicate, type RedisClient } from '../redis/client.js';
import { SLOT_MOVE_REDIRECTIONS } from '../redis/slot-moving.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { RiskstreamFileConfig } from '../config/schema.js';
import { isRiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import { retryDelay } from './backoff.js';
import { createSetProcessor } from './deliver-job.js';
import { beginStreamSend } from './stream-fence.js';
import { missingJob, MissingJobLog } from './missing-job-log.js';
import type { DeliveryOutcome, DeliveryResult, OutcomeInfo } from './delivery-outcome.js';
import { DeliveryState } from './delivery-state.js';
import type { Egress } from './egress.js';
import type { KeyRing } from './key-ring.js';
import { SET_DELIVERY_QUEUE, type SetJobData } from './queue.js';
import type { ReceiverRegistry } from './receivers.js';

/** How often Redis interruptions of the delivery worker are logged, at most (ms). */
const INTERRUPTED_LOG_MS = 30_000;

/** How long close() waits, after aborting the sends still in flight, for their jobs to be put back (ms). */
const ABORT_GRACE_MS = 2_000;

/** True if `p` settles within `ms`. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const done = await Promise.race([p.then(() => true), new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)))]);
  clearTimeout(timer);
  return done;
}

/** Options of {@link startDeliveryWorker}. */
export interface DeliveryWorkerOptions {
  /** Redis for delivery state; duplicated (maxRetriesPerRequest: null) for BullMQ. Not closed. */
  connection: RedisClient;
  keys: Keys;
  registry: ReceiverRegistry;
  keyRing: KeyRing;
  /** The SET `iss`. */
  issuer: string;
  audit: AuditLog;
  /** The config's `delivery` block (durations in ms). */
  delivery: RiskstreamFileConfig['delivery'];
  /** Metrics hook, called once per attempt outcome. */
  onOutcome?: (receiver: string, outcome: DeliveryOutcome, info: OutcomeInfo) => void;
  logger?: Logger;
  /** How long close() waits for in-flight sends (default 15 s). */
  closeTimeoutMs?: number;
  /** Jitter source (tests). */
  random?: () => number;
  /** Endpoint policy and send limits for self-registered streams (see {@link egressFromConfig}). */
  egress?: Egress;
}

/** A running delivery worker. */
export interface DeliveryWorker {
  readonly worker: Worker<SetJobData, DeliveryResult>;
  /**
   * Stops taking jobs, waits for in-flight sends — `closeTimeoutMs`, or `waitMs` when shorter (what
   * a drain has left) — then aborts those still unanswered, and closes its connections. Idempotent.
   */
  close(waitMs?: number): Promise<void>;
  /** Bounds the wait of a close under way (a reload's restart) to `waitMs` from now; nothing when none is. */
  hurry(waitMs: number): void;
  /**
   * Stops at once (a shutdown past its deadline): sends in flight aborted, no job taken or settled
   * any more (their locks lapse; BullMQ sends them again), connections dropped.
   */
  terminate(): void;
}

// ioredis's cluster client says 'None of startup nodes is available' / 'Failed to refresh slots cache'
// while a killed master's replica takes over (it retries by itself).
const TRANSIENT_REDIS =
  /UNBLOCKED|MOVED|ASK |CLUSTERDOWN|TRYAGAIN|READONLY|LOADING|Connection is closed|ECONNREFUSED|ECONNRESET|EPIPE|ETIMEDOUT|None of startup nodes is available|Failed to refresh slots cache/;

/** True for the errors of a Redis failover or reconnect, which BullMQ's worker recovers from by itself. */
export function isTransientRedisError(err: Error): boolean {
  return TRANSIENT_REDIS.test(err.message);
}

/**
 * True for BullMQ's "could not renew lock for job …": the job's lock was lost (a master failed
 * over before it replicated the lock, or the process stalled past `lockDuration`). BullMQ's
 * stalled-job check takes the job back and it is sent again with the same `jti`, so nothing is
 * lost; a receiver may see that SET twice, which SETs' `jti` is for.
 */
export function isLockLost(err: Error): boolean {
  return /^could not renew lock for job /.test(err.message);
}

/** The name (CLIENT SETNAME) of the BullMQ delivery worker's own connection. */
export const BULLMQ_CONNECTION_NAME = 'riskstream:delivery-queue';

/** Starts a worker on the `set-delivery` queue (prefix `keys.bullPrefix`). */
export function startDeliveryWorker(opts: DeliveryWorkerOptions): DeliveryWorker {
  const random = opts.random ?? Math.random;
  const d = opts.delivery;
  // The processor's own commands (versions, lock, throttle, audit: ~8 small ones per SET, from
  // `concurrency` jobs at once) go through a connection that sends each tick's commands in one
  // write (ioredis auto-pipelining): one socket write per tick instead of one per command.
  // BullMQ keeps plain connections (it is not made for auto-pipelining).
  const fast = duplicate(opts.connection, { enableAutoPipelining: true, connectionName: 'riskstream:delivery' });
  fast.on('error', (err: Error) => opts.logger?.debug({ conn: 'delivery', err }, 'redis connection error; reconnecting'));
  // Shutdown: sends still in flight when close() runs out of time are aborted (they end as retryable
  // while the connections are open); past that, a processor that settles late never settles (see below).
  const shutdown = new AbortController();
  // Every send in flight listens on it (removed when it settles): up to `concurrency` at once, so
  // Node's default of 10 printed a "possible memory leak" warning (not a JSON log line) at the 11th.
  setMaxListeners(Math.max(10, d.concurrency), shutdown.signal);
  let torn = false;
  const attempt = createSetProcessor({
    state: new DeliveryState(fast, opts.keys),
    registry: opts.registry,
    fence: (r) => beginStreamSend(fast, opts.keys, opts.registry, r),
    keyRing: opts.keyRing,
    issuer: opts.issuer,
    audit: opts.audit.via(fast),
    delivery: d,
    random,
    ...(opts.egress ? { egress: opts.egress } : {}),
    ...(opts.onOutcome ? { onOutcome: opts.onOutcome } : {}),
    ...(opts.logger ? { logger: opts.logger } : {}),
    signal: shutdown.signal,
  });
  // A job that settles after its connections were closed is left as it is (BullMQ's lock on it
  // expires and the stalled-job check sends it again, as after a crash): handed to BullMQ, its
  // failure handler retries "Connection is closed" without pause while the worker is closing — a
  // promise loop that starves the process's event loop.
  const never = new Promise<never>(() => undefined);
  const processor = async (job: Job<SetJobData>, token?: string): Promise<DeliveryResult> => {
    try {
      const result = await attempt(job, token);
      return torn ? never : result;
    } catch (err) {
      if (torn) return never;
      throw err;
    }
  };
  // Named apart from the connection it copies (`riskstream:main`: CLIENT LIST would show BullMQ's
  // commands under it); BullMQ names its blocking connection itself (`{<prefix>}:bull:…`).
  // On a cluster its commands wait out a move of the queue's slot (they are refused while it lasts)
  // rather than fail into BullMQ after 64 redirections (see SLOT_MOVE_REDIRECTIONS).
  const bull = duplicate(
    opts.connection,
    { maxRetriesPerRequest: null, enableAutoPipelining: false, connectionName: BULLMQ_CONNECTION_NAME },
    { maxRedirections: SLOT_MOVE_REDIRECTIONS },
  );
  const worker = new Worker<SetJobData, DeliveryResult>(SET_DELIVERY_QUEUE, processor, {
    connection: bull,
    prefix: opts.keys.bullPrefix,
    concurrency: d.concurrency,
    maxStalledCount: 5,
    // A worker killed mid-send: its job is retried within ~5-15 s, not BullMQ's default 30 s+.
    lockDuration: 15_000,
    stalledInterval: 5_000,
    settings: {
      // The processor decides the delay (details.delayMs) and audits the expiry at the horizon;
      // unexpected errors back off too, and are not retried past the horizon (-1 = fail, job kept).
      backoffStrategy: (attemptsMade: number, _type?: string, err?: Error, job?: unknown) => {
        const asked = isRiskstreamError(err) && typeof err.details?.delayMs === 'number' ? err.details.delayMs : undefined;
        return retryDelay(attemptsMade, asked, (job as Job | undefined)?.timestamp ?? Date.now(), Date.now(), d, random());
      },
    },
  });
  // A Redis failover or reconnect interrupts BullMQ's blocking reads and commands, again and again
  // until Redis is back; it resumes by itself: one line (no stack) per half minute of it.
  let interruptedLogged = -Infinity;
  let interruptions = 0;
  let lockLossLogged = -Infinity;
  let lockLosses = 0;
  const missingJobs = new MissingJobLog(opts.logger, INTERRUPTED_LOG_MS);
  worker.on('error', (err) => {
    if (isLockLost(err)) {
      lockLosses++;
      if (Date.now() - lockLossLogged < INTERRUPTED_LOG_MS) return;
      opts.logger?.warn(
        { message: err.message, lock_losses: lockLosses },
        'set-delivery worker: a job lost its lock; the stalled-job check takes it back and resends it (same jti)',
      );
      lockLossLogged = Date.now();
      lockLosses = 0;
      return;
    }
    const missing = missingJob(err);
    if (missing) return missingJobs.note(missing, Date.now());
    if (!isTransientRedisError(err)) return void opts.logger?.error({ err }, 'set-delivery worker error');
    interruptions++;
    if (Date.now() - interruptedLogged < INTERRUPTED_LOG_MS) return;
    opts.logger?.warn({ message: err.message, interruptions }, 'set-delivery worker: Redis interrupted (failover or reconnect); it resumes');
    interruptedLogged = Date.now();
    interruptions = 0;
  });

  let closing: Promise<void> | undefined;
  let cutWait: () => void = () => undefined;
  const waitCut = new Promise<void>((r) => (cutWait = r));
  const close = async (waitMs = Infinity): Promise<void> => {
    const timeoutMs = Math.min(opts.closeTimeoutMs ?? 15_000, waitMs);
    const closed = worker.close().then(
      () => true,
      () => true,
    );
    let finished = false;
    void closed.then(() => (finished = true));
    // Until the sends end, the wait runs out, or a drain cuts it short (hurry).
    await within(Promise.race([closed, waitCut]), timeoutMs);
    if (!finished) {
      // Sends still waiting for their receivers: aborted, they end as retryable and BullMQ puts
      // their jobs back (delayed) while the connections are still open.
      shutdown.abort();
      finished = await within(closed, ABORT_GRACE_MS);
      opts.logger?.warn(
        { timeoutMs },
        finished
          ? 'set-delivery: in-flight sends did not finish in time: aborted, their jobs will be retried'
          : 'set-delivery: in-flight jobs did not finish in time; BullMQ sends them again when their locks expire',
      );
    }
    torn = true;
    if (finished) await Promise.all([bull.quit().catch(() => bull.disconnect()), fast.quit().catch(() => fast.disconnect())]);
    else {
      bull.disconnect();
      fast.disconnect();
    }
  };
  return {
    worker,
    close: (waitMs) => (closing ??= close(waitMs)),
    hurry: (waitMs) => void (closing && setTimeout(cutWait, waitMs).unref()),
    terminate: () => {
      shutdown.abort();
      torn = true;
      void worker.close(true).catch(() => undefined);
      bull.disconnect();
      fast.disconnect();
    },
  };
}
