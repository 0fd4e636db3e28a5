/**
 * Riding out a Redis Cluster slot move (live resharding: CLUSTER SETSLOT MIGRATING/IMPORTING,
 * MIGRATE, SETSLOT NODE). While a slot is migrating, a command on several of its keys is refused
 * with TRYAGAIN whenever one of them is not on the node asked, and a key that does not exist at
 * all counts as not there: BullMQ's scripts declare optional keys (limiter, paused, …), so every
 * one of them on the queue's slot is refused for the whole move, however few keys have moved.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { RiskstreamError } from '../errors.js';

/**
 * How many redirections (MOVED, ASK, TRYAGAIN: ioredis retries TRYAGAIN after
 * `retryDelayOnTryAgain`, 100 ms, on a random node, which redirects it again) a command of the
 * BullMQ delivery worker follows before it fails: about a minute of a migrating slot (~1.7 per
 * 100 ms: TRYAGAIN, then often MOVED from the random node back to the slot's owner). The default
 * 64 lasted 2-6 s: BullMQ's scripts then failed into the worker (an error logged; a job delivered
 * but its completion refused, counted as a failed attempt and retried).
 */
export const SLOT_MOVE_REDIRECTIONS = 1_000;

// A refusal of a slot move: TRYAGAIN, ASK, MOVED, a script's "non local key" (the commit script
// checks what it reaches before its first write), NOSCRIPT (a MULTI redirected to the slot's new
// node, which has not loaded the script yet: the next try loads it), a MULTI aborted by TRYAGAIN.
const SLOT_MOVING = /TRYAGAIN|^ASK |^MOVED |^NOSCRIPT|non local key|migrating slot/;
// ioredis gives up with "Too many Cluster redirections. Last error: <the last one>": a slot move
// only when that last error is one (not a failover's CLUSTERDOWN or closed connection, after which
// a write may have run).
const GAVE_UP = /^Too many Cluster redirections\. Last error: (?:\w*Error: )?([\s\S]*)$/;

/**
 * True for an error a slot move gives a command: nothing of it ran, and it succeeds once the slot
 * is served by one node.
 */
export function slotMoving(err: unknown): boolean {
  if (!(err instanceof Error)) return false;
  const last = GAVE_UP.exec(err.message);
  return SLOT_MOVING.test(last ? last[1]! : err.message);
}

/**
 * `err` as a SLOT_MIGRATING error (503: retry once the slot is served; the Redis error is its
 * cause, in the logs) when {@link slotMoving}, else `err` itself. `what`: what was refused. The
 * message names no node address: the API answers it.
 */
export function asSlotMigrating(err: unknown, what: string): unknown {
  if (!slotMoving(err)) return err;
  return new RiskstreamError(
    'SLOT_MIGRATING',
    `${what}: refused while a Redis Cluster slot of its keys is being migrated (nothing written); retry`,
    undefined,
    {
      cause: err,
    },
  );
}

/** Options of {@link whileSlotMoves}. */
export interface SlotMoveRetry {
  /** Longest wait for the move, from the first refusal (ms); then the last error is thrown. Default 30 s. */
  limitMs?: number;
  /** Pause between tries (ms). Default 100. */
  delayMs?: number;
}

/**
 * Runs `op`, again while it fails because its slot is moving ({@link slotMoving}), for at most
 * `limitMs`. Only for an `op` that may run twice (one that adds nothing a second time, e.g. BullMQ
 * jobs with fixed ids: a MULTI refused with TRYAGAIN ran none of its commands anyway).
 */
export async function whileSlotMoves<T>(op: () => Promise<T>, { limitMs = 30_000, delayMs = 100 }: SlotMoveRetry = {}): Promise<T> {
  let until: number | undefined;
  for (;;) {
    try {
      return await op();
    } catch (err) {
      until ??= Date.now() + limitMs;
      if (!slotMoving(err) || Date.now() + delayMs > until) throw err;
      await sleep(delayMs);
    }
  }
}
