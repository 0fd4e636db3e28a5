/**
 * A shutdown that always ends: named steps run one after another against one deadline; a step
 * that does not finish in its time (Redis unreachable, a hung close) is abandoned and named.
 */
import type { FastifyInstance } from 'fastify';
import type { RedisClient } from '../redis/client.js';
import type { Logger } from '../obs/logger.js';
import { RiskstreamError } from '../errors.js';
import { closeConnection } from './connections.js';

/** One step of a shutdown. */
export interface ShutdownStep {
  /** What is given up if this step does not finish (for the log line). */
  name: string;
  /** Runs the step; `boundMs` is the time it is given (its own bound or what is left of the deadline). */
  run: (boundMs: number) => Promise<unknown>;
  /** This step's own bound in ms (it never gets more than what is left of the deadline). */
  maxMs?: number;
}

/** What a shutdown finished and what it gave up. */
export interface ShutdownResult {
  /** Steps that did not finish in time, or were never started because the deadline passed. */
  abandoned: string[];
  /** Of {@link abandoned}: those that ran and did not finish in their time. */
  timedOut: string[];
  /** Of {@link abandoned}: those never started (the deadline had passed). */
  notStarted: string[];
  /** Steps that finished by throwing, with the error message. */
  failed: Array<{ step: string; err: string }>;
  /** True when the whole deadline ran out (not only a step's own bound). */
  deadlinePassed: boolean;
}

const TIMED_OUT = Symbol('timed out');

/**
 * Of the drain left when SET delivery closes, what its wait for sends in flight leaves (at most
 * half) to abort those still unanswered, put their jobs back with their `set.retry` entries and
 * close HTTP and Redis: a hung receiver no longer runs the drain past `shutdown_timeout`.
 */
const AFTER_DELIVERY_WAIT_MS = 2_000;

/** How long SET delivery may wait for its sends in flight when `boundMs` is left of the drain. */
const deliveryWaitMs = (boundMs: number): number => Math.max(0, boundMs - Math.min(AFTER_DELIVERY_WAIT_MS, boundMs / 2));

function within<T>(p: Promise<T>, ms: number): Promise<T | typeof TIMED_OUT> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<typeof TIMED_OUT>((r) => {
    timer = setTimeout(() => r(TIMED_OUT), Math.max(0, ms));
    timer.unref();
  });
  return Promise.race([p, timeout]).finally(() => clearTimeout(timer));
}

/** True when `p` settles (resolved or rejected) within `ms`; false when it is still pending then. */
export async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  return (
    (await within(
      p.then(
        () => true,
        () => true,
      ),
      ms,
    )) === true
  );
}

/**
 * Runs `steps` in order, all within `deadlineMs` counted from `startedAt` (epoch ms). A step
 * that overruns its bound is left running in the background and recorded as abandoned; the
 * next one starts. Once the deadline has passed, the remaining steps are abandoned unstarted.
 * Never throws.
 */
export async function runShutdown(steps: ShutdownStep[], deadlineMs: number, startedAt: number, clock: () => number = Date.now): Promise<ShutdownResult> {
  const result: ShutdownResult = { abandoned: [], timedOut: [], notStarted: [], failed: [], deadlinePassed: false };
  // Set once a step was cut off by the deadline itself: timers and clocks may disagree by a
  // millisecond, so the deadline is not re-read from the clock after that.
  let expired = false;
  for (const step of steps) {
    const left = startedAt + deadlineMs - clock();
    if (expired || left <= 0) {
      result.abandoned.push(step.name);
      result.notStarted.push(step.name);
      result.deadlinePassed = true;
      continue;
    }
    const bound = Math.min(left, step.maxMs ?? left);
    let outcome: unknown;
    try {
      outcome = await within(
        Promise.resolve().then(() => step.run(bound)),
        bound,
      );
    } catch (err) {
      result.failed.push({ step: step.name, err: (err as Error)?.message ?? String(err) });
      continue;
    }
    if (outcome === TIMED_OUT) {
      result.abandoned.push(step.name);
      result.timedOut.push(step.name);
      expired = bound === left;
      if (expired) result.deadlinePassed = true;
    }
  }
  return result;
}

/** What {@link drainWorker} stops, in this order. */
export interface DrainParts {
  logger: Logger;
  /** `shutdown_timeout`: the whole drain's bound. */
  deadlineMs: number;
  /** Bound of the wait for the batch in flight. */
  batchMs: number;
  /** Resolves when the engine has stopped (after its last commit and releasing its leases). */
  pipelineFinished: Promise<void>;
  /** Settles when the configuration reload in flight (if any) has, applied or cancelled: before the parts it uses close. */
  reloadFinished: Promise<void>;
  /** True when `bridge.lists` names lists (the step that stops it is named for it then). */
  listBridge: boolean;
  /** Periodic work (sweeper, trimming) to unsubscribe. */
  subs: Array<{ unsubscribe(): void }>;
  /** `stopTaking`: called first — HTTP bodies still waiting their turn are refused (503), the drain waits only for those being appended. */
  ingest: { stopTaking(): void; close(): Promise<void> };
  /** `close(waitMs)`: waits at most `waitMs` for the sends in flight, then aborts them (retried later, same `jti`). */
  ssf: { close(waitMs?: number): Promise<void>; hurry(waitMs: number): void; terminate(): void };
  app: FastifyInstance;
  redis: RedisClient;
  reader: RedisClient;
}

/**
 * The worker's drain (docs/operations.md, "Graceful shutdown"): batch in flight, a reload in
 * flight, list bridge, SET delivery, HTTP server, Redis connections — within `deadlineMs`. If a step overruns, the
 * rest is cut off (sockets closed, reconnect loops ended), the abandoned steps are logged and it
 * rejects with `SHUTDOWN_TIMEOUT`. Nothing is acked by giving up: entries are acked only after
 * their batch is committed, so an abandoned batch stays pending and is read again.
 */
export async function drainWorker(p: DrainParts): Promise<void> {
  const startedAt = Date.now();
  // A queue of shippers' bodies (each seconds of work) would hold the drain past its deadline, and
  // those cut off then were partly appended, unanswered, and sent again: they go elsewhere now.
  p.ingest.stopTaking();
  p.logger.info({ deadlineMs: p.deadlineMs }, 'draining: finishing the batch in flight');
  const r = await runShutdown(
    [
      { name: 'engine: the last commit (what is not committed is applied again from the committed position)', run: () => p.pipelineFinished, maxMs: p.batchMs },
      {
        name: 'configuration reload in flight (what it did not apply, the next start reads from the files)',
        // A reload restarting SET delivery waits on its sends in flight: no longer than the drain's own close would.
        run: (boundMs) => (p.ssf.hurry(deliveryWaitMs(boundMs)), p.reloadFinished),
      },
      {
        name: p.listBridge ? 'list bridge (items not moved stay in their lists)' : 'periodic work (sweeps, trimming)',
        run: () => (p.subs.forEach((s) => s.unsubscribe()), p.ingest.close()),
      },
      {
        name: 'SET delivery (unsent SETs stay queued in Redis and are retried)',
        // A receiver that never answers gets what is left of the drain, less the steps after the wait.
        run: (boundMs) => p.ssf.close(deliveryWaitMs(boundMs)),
      },
      { name: 'HTTP server (open connections cut)', run: () => p.app.close() },
      { name: 'Redis connections (dropped)', run: () => Promise.all([closeConnection(p.redis), closeConnection(p.reader)]) },
    ],
    p.deadlineMs,
    startedAt,
  );
  for (const f of r.failed) p.logger.error({ step: f.step, err: f.err }, 'shutdown step failed');
  if (!r.abandoned.length && !r.failed.length) {
    p.logger.info('stopped');
    p.logger.flush?.();
    return;
  }
  // Whatever still holds the process open goes now: timers, client sockets, the reconnect loops.
  p.subs.forEach((s) => s.unsubscribe());
  void p.ingest.close().catch(() => undefined);
  p.ssf.terminate(); // a step cut off or never started: no SET is sent after close
  p.app.server.close();
  p.app.server.closeAllConnections?.();
  p.redis.disconnect();
  p.reader.disconnect();
  if (r.abandoned.length) {
    p.logger.error(
      {
        code: 'SHUTDOWN_TIMEOUT',
        deadlineMs: p.deadlineMs,
        deadlinePassed: r.deadlinePassed,
        elapsedMs: Date.now() - startedAt,
        abandoned: r.abandoned,
        timedOut: r.timedOut,
        notStarted: r.notStarted,
      },
      `shutdown incomplete; timed out: ${r.timedOut.join('; ') || 'none'}${r.notStarted.length ? `; not started: ${r.notStarted.join('; ')}` : ''}`,
    );
  }
  p.logger.flush?.();
  throw r.abandoned.length
    ? new RiskstreamError(
        'SHUTDOWN_TIMEOUT',
        r.deadlinePassed
          ? `shutdown deadline of ${p.deadlineMs} ms passed`
          : `shutdown incomplete: ${r.abandoned.length === 1 ? 'a step' : 'steps'} overran ${r.abandoned.length === 1 ? 'its' : 'their'} own bound (the engine's last commit: ${p.batchMs} ms)`,
        { abandoned: r.abandoned },
      )
    : new RiskstreamError('INTERNAL', 'shutdown finished with errors', { failed: r.failed.map((f) => f.step) });
}
