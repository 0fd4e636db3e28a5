import { pipeline, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import type { Router, RouteReport } from './router.js';

/** What the router loop needs (in the worker's main thread or in its router thread). */
export interface RouterLoopDeps {
  router: Router;
  redis: RedisClient;
  /** Blocking wake-up reads. */
  waker: RedisClient;
  keys: Keys;
  logger: Logger;
  /** Read per step (hot reload): `streams.block`, `engine.max_routed`. */
  settings: () => { blockMs: number; maxRouted: number };
  /** True once the loop must end. */
  stopping: () => boolean;
  /** A step's writes completed (counted as routed), or an idle read (progress too). */
  onReport: (r: RouteReport) => void;
  /** A step failed (it is retried with back-off). */
  onError: (err: unknown) => void;
}

/** A routing step longer than this is logged (warn). */
const SLOW_STEP_MS = 250;

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Runs the router while this worker holds the router lease, until `stopping()`: one step ahead
 * (read and decode while the previous step's writes are in flight), waiting for input when idle,
 * retrying failed steps with back-off. Back-pressure: routing pauses while the partition streams
 * hold more than `maxRouted` entries not yet committed (counted at most every 500 ms), so a backlog
 * stays in the input streams (acked-based lag, `streams.max_lag`) rather than growing here.
 */
export async function runRouterLoop(d: RouterLoopDeps): Promise<void> {
  const { router } = d;
  let backlogAt = 0;
  let backlog = 0;
  const routedBacklog = async (): Promise<number> => {
    if (Date.now() - backlogAt < 500) return backlog;
    backlogAt = Date.now();
    const p = pipeline(d.redis);
    for (let i = 0; i < d.keys.partitions; i++) p.xlen(d.keys.partitionIn(i));
    backlog = ((await p.exec()) ?? []).reduce((a, [, n]) => a + Number(n ?? 0), 0);
    return backlog;
  };
  let errors = 0;
  // Steps in a row that read and routed nothing while entries are held (behind an id ahead of the
  // clock): polled ever less often, up to every 100 ms, rather than every millisecond.
  let heldIdle = 0;
  while (!d.stopping()) {
    if (!router.active) {
      await router
        .settle()
        .then(() => router.flushAcks())
        .catch(() => undefined);
      await sleep(50);
      continue;
    }
    const s = d.settings();
    if ((await routedBacklog().catch(() => 0)) > s.maxRouted) {
      await router.finishWrites(true).catch(() => undefined); // no read while paused: acks go now
      await sleep(50);
      continue;
    }
    try {
      const t0 = performance.now();
      const r = await router.stepAhead();
      const ms = performance.now() - t0;
      if (ms > SLOW_STEP_MS) d.logger.warn({ ms: Math.round(ms), ...(r === 'fenced' ? {} : { read: r.read, routed: r.routed }) }, 'slow routing step');
      // Progress counts what was written (a step's writes complete during the next one).
      const reportCompleted = (): number => {
        let written = 0;
        for (const done of router.takeCompleted()) {
          backlog += done.partitions; // entries written since the last count: the pause is not late by a count's age
          d.onReport(done);
          written += done.routed + done.deadLettered;
        }
        return written;
      };
      // The back-off resets on progress: entries written, or nothing at all to route. A step that only
      // read (its writes, in flight, fail in the next one) is none, so a failing write backs off.
      if (reportCompleted() > 0 || (r !== 'fenced' && r.read === 0 && r.routed === 0 && r.buffered === 0)) errors = 0;
      if (r === 'fenced') continue;
      // An idle read is progress too; what it released (held entries) is reported once, when written.
      if (r.read === 0) d.onReport({ ...r, routed: 0, deadLettered: 0, partitions: 0, present: 0 });
      heldIdle = r.buffered && r.read === 0 && r.routed === 0 ? heldIdle + 1 : 0;
      if (r.buffered) await sleep(heldIdle > 3 ? Math.min(100, 5 * heldIdle) : 1);
      else if (r.read === 0 || r.caughtUp) {
        // Read to the end: wait for input — at once when some arrived meanwhile — rather than read
        // again to find nothing; first the writes in flight are finished (reported) and acked (under
        // load, acks go with the next read instead).
        await router.finishWrites(true);
        if (reportCompleted() > 0) errors = 0;
        await router.waitForInput(d.waker, Math.min(s.blockMs, 250));
      }
    } catch (err) {
      // A consumer group deleted under the router (XGROUP DESTROY, a stream deleted, a Redis that
      // restarted without its data): recreated, and routing goes on — a warning, not a failure.
      if (/NOGROUP/.test(String((err as Error)?.message))) {
        d.logger.warn({ message: (err as Error).message }, 'input consumer group missing (deleted, or Redis lost its data): recreating it');
        await router.ensureGroups().catch(() => undefined);
      } else d.onError(err);
      await sleep(Math.min(100 * 2 ** errors++, 5000));
    }
  }
  // The last step's writes (its entries stay pending if they fail: a successor re-reads them).
  await router
    .settle()
    .then(() => router.flushAcks())
    .catch((err: unknown) => d.logger.warn({ err }, 'last routing step failed; its entries stay pending'));
}
