import type { Cluster } from 'ioredis';
import type { RedisClient } from '../redis/client.js';
import type { RiskstreamFileConfig } from '../config/schema.js';
import { scriptsOn } from '../redis/scripts.js';
import { RiskstreamError } from '../errors.js';

/**
 * List bridge: log shippers (Vector, Logstash, Filebeat) RPUSH JSON lines to Redis LISTs; the
 * bridge moves them into the input streams as field `event`.
 *
 * One Lua script pops up to N items and XADDs each, atomically: a crash loses and duplicates
 * nothing. Items that are not valid JSON are moved as they are; the decoder dead-letters them
 * with a reason (one place decides what is malformed).
 *
 * Redis Cluster: the script touches the list and the stream, so both keys must hash to one
 * slot — give them the same hash tag (`{rs}:okta-list` → `{rs}:login`). Otherwise run the
 * bridge against a single Redis (or the shippers can XADD to the stream themselves).
 */

/**
 * Most bytes of items one move takes (it always takes one item at least): Redis runs a move as one
 * script, answering nothing else meanwhile, so a list of large items (up to `ingest.max_event_size`
 * each) never holds it for a whole batch of them (500 items of 1 MiB blocked it for seconds, leases
 * and HTTP ingest timing out). A backlog is drained move after move all the same.
 */
export const MOVE_MAX_BYTES = 4 * 1024 * 1024;

/**
 * Moves up to `max` items (at most {@link MOVE_MAX_BYTES} of them) from `list` to `stream`. Returns how many moved and how many are left.
 * A failure (the list or the stream a key of another type, Redis unreachable) is BRIDGE_FAILED
 * naming the list and the stream: the log says which pair to fix, each pair's failure apart.
 */
export async function bridgeOnce(redis: RedisClient | Cluster, list: string, stream: string, max: number): Promise<{ moved: number; left: number }> {
  let reply: [number, number];
  try {
    // list-bridge-2.lua: pops up to `max` items (and MOVE_MAX_BYTES) and XADDs each, atomically.
    reply = await scriptsOn(redis).listBridge(list, stream, max, MOVE_MAX_BYTES);
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const moved = Number(/^BRIDGE moved (\d+)/.exec(text)?.[1] ?? 0);
    throw new RiskstreamError('BRIDGE_FAILED', `list bridge "${list}" → "${stream}": ${text}`, { list, stream, moved }, { cause: err });
  }
  return { moved: Number(reply[0]), left: Number(reply[1]) };
}

/** Bridge settings: `Config.raw.bridge`. */
export type BridgeConfig = RiskstreamFileConfig['bridge'];

export interface ListBridgeOptions {
  /** Called after each move that moved items (metrics, logs). */
  onMoved?: (list: string, stream: string, moved: number) => void;
  /** Called after each move, with what it moved and what it left in the list (a backlog gauge). */
  onMove?: (list: string, r: { moved: number; left: number }) => void;
  /** Called when a pass fails (the bridge keeps going, retrying every interval). */
  onError?: (err: unknown) => void;
}

/** A running bridge. */
export interface ListBridge {
  /** Runs one pass over every list now; resolves to the number of items moved. */
  drainOnce(): Promise<number>;
  /** Stops the loop and waits for the pass in flight. */
  stop(): Promise<void>;
}

/**
 * Starts moving items from `cfg.lists` (list → stream) every `cfg.interval` ms, up to
 * `cfg.batch` per list per pass; while any list still has items it loops at once (drains a
 * backlog fast). With no lists configured it does nothing.
 */
export function startListBridge(redis: RedisClient | Cluster, cfg: BridgeConfig, opts: ListBridgeOptions = {}): ListBridge {
  const pairs = Object.entries(cfg.lists);
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let inFlight: Promise<unknown> = Promise.resolve();

  // One list failing (a key of another type, say) never holds back the others: its error is reported.
  const pass = async (): Promise<{ moved: number; backlog: boolean; errors: unknown[] }> => {
    let moved = 0;
    let backlog = false;
    const errors: unknown[] = [];
    for (const [list, stream] of pairs) {
      let r: { moved: number; left: number };
      try {
        r = await bridgeOnce(redis, list, stream, cfg.batch);
      } catch (err) {
        errors.push(err);
        continue;
      }
      opts.onMove?.(list, r);
      if (r.moved) opts.onMoved?.(list, stream, r.moved);
      moved += r.moved;
      backlog ||= r.left > 0;
    }
    return { moved, backlog, errors };
  };

  const loop = (): void => {
    if (stopped) return;
    const p = pass().then(
      ({ backlog, errors }) => {
        for (const err of errors) opts.onError?.(err);
        schedule(backlog ? 0 : cfg.interval);
      },
      (err) => {
        opts.onError?.(err);
        schedule(cfg.interval);
      },
    );
    inFlight = p;
  };
  const schedule = (ms: number): void => {
    if (stopped) return;
    timer = setTimeout(loop, ms);
  };

  if (pairs.length) schedule(0);

  return {
    async drainOnce() {
      const r = await pass();
      if (r.errors.length && r.errors.length === pairs.length) throw r.errors[0];
      return r.moved;
    },
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await inFlight.catch(() => undefined);
    },
  };
}
