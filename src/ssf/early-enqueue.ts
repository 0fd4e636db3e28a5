import { duplicate, type RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import type { LevelChange } from '../types.js';
import { createSetQueue, type SetQueue } from './queue.js';

/** Change ids remembered as enqueued early, at most (the relay forgets them as it passes them). */
const MAX_REMEMBERED = 100_000;

/** How long closing waits for the enqueue in flight, then for the queue to close (ms). */
const CLOSE_WAIT_MS = 2_000;

/** The early enqueue of committed level changes (see {@link earlyEnqueue}). */
export interface EarlyEnqueue {
  /** Starts enqueueing `changes` (in call order, one call at a time); none once closed. Never throws. */
  enqueue(changes: LevelChange[]): void;
  /** After the early enqueues started so far: the changes they enqueued, and the rest. */
  split(changes: LevelChange[]): Promise<{ done: LevelChange[]; rest: LevelChange[] }>;
  close(): Promise<void>;
}

/**
 * Enqueues the SETs of level changes as soon as their commit lands, on a queue with a Redis
 * connection of its own, instead of after the outbox relay (several round trips behind the
 * commits' pipelines on the shared connection). The relay still passes every change: {@link
 * EarlyEnqueue.split} tells it which were enqueued already (it awaits the early enqueues started
 * before, so a failed one is redone by the relay, never lost). Job ids are deterministic, so a
 * change enqueued twice (a crash between the two) adds one job.
 */
export function earlyEnqueue(
  deps: { redis: RedisClient; keys: Keys; logger: Logger },
  send: (queue: SetQueue, changes: LevelChange[]) => Promise<void>,
): EarlyEnqueue {
  let conn: RedisClient | undefined;
  let queue: SetQueue | undefined;
  const done = new Set<string>();
  let chain: Promise<void> = Promise.resolve();
  let closed = false;
  return {
    enqueue(changes) {
      // Once closed (shutdown), the outbox keeps them: the relay or the next start enqueues them.
      if (!changes.length || closed) return;
      chain = chain.then(async () => {
        try {
          conn ??= duplicate(deps.redis, { connectionName: 'riskstream:early-enqueue' });
          queue ??= createSetQueue(conn, deps.keys);
          await send(queue, changes);
          for (const c of changes) done.add(c.id);
          if (done.size > MAX_REMEMBERED) for (const id of [...done].slice(0, done.size - MAX_REMEMBERED)) done.delete(id);
        } catch (err) {
          deps.logger.warn({ err }, 'early SET enqueue failed; the outbox relay enqueues these changes');
        }
      });
    },
    async split(changes) {
      await chain;
      const out = { done: [] as LevelChange[], rest: [] as LevelChange[] };
      for (const c of changes) {
        if (done.delete(c.id)) out.done.push(c);
        else out.rest.push(c);
      }
      return out;
    },
    async close() {
      closed = true;
      // The enqueue in flight gets a moment (Redis may be gone: shutdown must not wait on it); the
      // connection is dropped in any case, so it cannot hold the process open.
      const moment = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms).unref());
      await Promise.race([chain, moment(CLOSE_WAIT_MS)]);
      await Promise.race([queue?.close(), moment(CLOSE_WAIT_MS)]).catch(() => undefined);
      conn?.disconnect();
    },
  };
}
