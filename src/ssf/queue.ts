/**
 * The BullMQ `set-delivery` queue: one job per (SET, receiver), with a deterministic job id so
 * re-enqueueing the same change (relay crash, replay) adds nothing, and a `jti` fixed at
 * enqueue time so every retry sends the same `jti`.
 */
import { createHash } from 'node:crypto';
import { Queue, type JobsOptions } from 'bullmq';
import type { RedisClient } from '../redis/client.js';
import { whileSlotMoves } from '../redis/slot-moving.js';
import type { ResolvedReceiver } from '../config/receiver.js';
import type { ReceiverEvent } from '../config/receiver-schema.js';
import type { Keys } from '../keys.js';
import type { LevelChange } from '../types.js';
import { DeliveryState } from './delivery-state.js';
import type { SessionRevoked } from './set-builder.js';

export const SET_DELIVERY_QUEUE = 'set-delivery';

/** Fields every job carries. */
interface JobBase {
  receiver: string;
  /** Fixed per job: the same on every retry. */
  jti: string;
  /** A rate-limit reservation the worker took for this attempt (attemptsMade): its `ref` goes back to the gate. */
  slot?: { attempt: number; ref: string };
  /** Set once the single invalid_key retry has been used. */
  invalidKeyRetried?: boolean;
}

/** Job data of the `set-delivery` queue. */
export type SetJobData =
  | (JobBase & { event: 'risk-level-change'; change: LevelChange })
  | (JobBase & {
      event: 'session-revoked';
      id: string;
      user: string;
      sessionId?: string;
      reason: string;
      initiatingEntity: SessionRevoked['initiatingEntity'];
      time: number;
    })
  | (JobBase & { event: 'verification'; id: string; state?: string })
  /** A self-registered stream's status, changed by the transmitter (SSF 1.0 §8.1.5). */
  | (JobBase & { event: 'stream-updated'; id: string; status: string; reason?: string });

/** The delivery queue plus the shared delivery state enqueueing updates. */
export interface SetQueue {
  readonly queue: Queue<SetJobData>;
  readonly state: DeliveryState;
  /** Closes the BullMQ queue (not the shared connection). */
  close(): Promise<void>;
}

/** Backoff type name; the worker supplies the strategy. */
export const SET_BACKOFF = 'set-delivery';

/**
 * The queue's default job options: completed jobs kept 7 days (at most 10 000), failed ones 30 days
 * (at most 100 000; each has its `set.failed` audit entry), retries bounded by the worker's horizon.
 */
export const SET_JOB_OPTIONS: JobsOptions = {
  attempts: 1_000_000,
  backoff: { type: SET_BACKOFF },
  removeOnComplete: { age: 7 * 86_400, count: 10_000 },
  removeOnFail: { age: 30 * 86_400, count: 100_000 },
};

/** sha256 hex prefix: keeps ':' and user data out of job ids. */
export function shortHash(value: string, length = 24): string {
  return createHash('sha256').update(value).digest('hex').slice(0, length);
}

/**
 * A deterministic `jti` (32 hex digits) derived from the job id and, for a level change, its change
 * id (`txn`): the job id (receiver, user, version) alone repeats in another deployment — a new
 * Redis, another prefix — whose user reaches the same version, and a receiver deduplicating by
 * `jti` would drop that SET (RFC 8417 §2.2). The change id names the input that caused it.
 */
export function jtiFor(jobId: string, changeId?: string): string {
  return shortHash(changeId === undefined ? `riskstream-jti\n${jobId}` : `riskstream-jti\n${jobId}\n${changeId}`, 32);
}

/** Job id of a level change for a receiver: (receiver, user, version). */
export function levelChangeJobId(receiver: string, user: string, version: number): string {
  return `rlc-${receiver}-${shortHash(user)}-v${version}`;
}

/** Job id of a session revocation for a receiver: (receiver, session id, revocation id). */
export function sessionRevokedJobId(receiver: string, sessionId: string | undefined, id: string): string {
  return `srv-${receiver}-${shortHash(sessionId ?? '')}-${shortHash(id, 16)}`;
}

/** Job id of a verification event for a receiver. */
export function verificationJobId(receiver: string, id: string): string {
  return `ver-${receiver}-${shortHash(id)}`;
}

/** Job id of a stream-updated event for a stream's receiver. */
export function streamUpdatedJobId(receiver: string, id: string): string {
  return `sup-${receiver}-${shortHash(id)}`;
}

/**
 * Creates the queue (prefix `keys.bullPrefix`). `connection` may be shared; it is not closed.
 * `writesMeta: false` (one-shot CLI commands): the queue's `meta` hash is left to the workers, so a
 * command that only reads writes nothing (a read-only Redis user can run it).
 */
export function createSetQueue(connection: RedisClient, keys: Keys, o: { writesMeta?: boolean } = {}): SetQueue {
  const queue = new Queue<SetJobData>(SET_DELIVERY_QUEUE, {
    connection,
    prefix: keys.bullPrefix,
    defaultJobOptions: SET_JOB_OPTIONS,
    ...(o.writesMeta === false ? { skipMetasUpdate: true } : {}),
  });
  return { queue, state: new DeliveryState(connection, keys), close: () => queue.close() };
}

/** Jobs per state (waiting, active, delayed, failed, completed, prioritized). */
export function queueCounts(q: SetQueue): Promise<Record<string, number>> {
  return q.queue.getJobCounts('waiting', 'active', 'delayed', 'failed', 'completed', 'prioritized');
}

/** True when receiver `r` is enabled and takes `event`: the receivers a SET of that event is queued for. */
export function wants(r: ResolvedReceiver, event: ReceiverEvent): boolean {
  return r.enabled && r.events.includes(event);
}

/** Jobs per `addBulk` call (one MULTI): a relay of thousands of changes stays a few round trips. */
const BULK = 500;

type BulkJob = Parameters<Queue<SetJobData>['addBulk']>[0][number];

/**
 * Adds jobs in one MULTI, again while the queue's cluster slot is being moved: ioredis follows no
 * TRYAGAIN in a MULTI, and BullMQ's add script is refused for as long as the move lasts (see
 * src/redis/slot-moving.ts). The job ids are fixed, so a repeat adds nothing twice.
 */
function addJobs(q: SetQueue, jobs: BulkJob[]): Promise<unknown> {
  return whileSlotMoves(() => q.queue.addBulk(jobs));
}

/**
 * Enqueues one SET job per enabled receiver whose `events` include `risk-level-change`.
 * Records the version as the latest enqueued first, so older jobs for the same (user,
 * receiver) still waiting are skipped (coalescing). Idempotent. Returns the job ids.
 */
export function enqueueLevelChange(q: SetQueue, change: LevelChange, receivers: readonly ResolvedReceiver[]): Promise<string[]> {
  return enqueueLevelChanges(q, [change], receivers);
}

/**
 * {@link enqueueLevelChange} for many changes at once: every enqueued version raised together,
 * then the jobs added in bulk, in the changes' order (so a user's versions are added in order).
 * A relay used to await two round trips per change: a commit with hundreds of changes held every
 * SET behind it for as many round trips.
 */
export async function enqueueLevelChanges(q: SetQueue, changes: readonly LevelChange[], receivers: readonly ResolvedReceiver[]): Promise<string[]> {
  const targets = receivers.filter((r) => wants(r, 'risk-level-change'));
  if (!targets.length || !changes.length) return [];
  // The versions are raised and the jobs added without a round trip between them. On one node both
  // go on the queue's one connection, so Redis runs the raises first; on a cluster a raise (the
  // user's slot) may land just after its job (the queue's slot). A late or failed raise costs only
  // coalescing: an older job still waiting is sent too, before this one (the delivery checks the
  // versions delivered); the caller's retry raises it again.
  const raised = Promise.all(changes.flatMap((c) => targets.map((r) => q.state.markEnqueued(c.user, r.name, c.version))));
  raised.catch(() => undefined); // awaited below, after the jobs
  const jobs = changes.flatMap((change) =>
    targets.map((r) => {
      const jobId = levelChangeJobId(r.name, change.user, change.version);
      return {
        name: 'risk-level-change',
        data: { event: 'risk-level-change' as const, change, receiver: r.name, jti: jtiFor(jobId, change.id) },
        opts: { jobId },
      };
    }),
  );
  for (let i = 0; i < jobs.length; i += BULK) await addJobs(q, jobs.slice(i, i + BULK));
  await raised;
  return jobs.map((j) => j.opts.jobId);
}

/** Enqueues a CAEP session-revoked SET for each receiver that wants it. Idempotent per (receiver, session, id). */
export async function enqueueSessionRevoked(q: SetQueue, revoked: SessionRevoked, receivers: readonly ResolvedReceiver[]): Promise<string[]> {
  const jobs = receivers
    .filter((r) => wants(r, 'session-revoked'))
    .map((r) => {
      const jobId = sessionRevokedJobId(r.name, revoked.sessionId, revoked.id);
      const data: SetJobData = { event: 'session-revoked', receiver: r.name, jti: jtiFor(jobId), ...revoked };
      return { name: 'session-revoked', data, opts: { jobId } };
    });
  if (jobs.length) await addJobs(q, jobs);
  return jobs.map((j) => j.opts.jobId);
}

/**
 * Options of verification jobs: removed once finished, delivered or failed (the outcome stays in
 * the audit log as `set.delivered` / `set.failed`). Per job, not age/count trimming: BullMQ trims
 * the whole failed set by age or count, which would also drop failed risk jobs.
 */
export const VERIFICATION_JOB_OPTIONS: JobsOptions = { removeOnComplete: true, removeOnFail: true };

/** Enqueues an SSF verification SET (`state` echoed) for one receiver. Idempotent per (receiver, id). */
export async function enqueueVerification(q: SetQueue, receiver: string, id: string, state?: string): Promise<string> {
  const jobId = verificationJobId(receiver, id);
  const data: SetJobData = { event: 'verification', receiver, id, jti: jtiFor(jobId), ...(state !== undefined ? { state } : {}) };
  await whileSlotMoves(() => q.queue.add('verification', data, { ...VERIFICATION_JOB_OPTIONS, jobId }));
  return jobId;
}

/**
 * Enqueues an SSF stream-updated SET (the stream's new `status`, `reason`) for a stream's
 * receiver: sent whatever the stream's status (SSF 1.0 §8.1.5). Idempotent per (receiver, id).
 */
export async function enqueueStreamUpdated(q: SetQueue, receiver: string, id: string, status: string, reason?: string): Promise<string> {
  const jobId = streamUpdatedJobId(receiver, id);
  const data: SetJobData = { event: 'stream-updated', receiver, id, status, jti: jtiFor(jobId), ...(reason ? { reason } : {}) };
  await whileSlotMoves(() => q.queue.add('stream-updated', data, { ...VERIFICATION_JOB_OPTIONS, jobId }));
  return jobId;
}
