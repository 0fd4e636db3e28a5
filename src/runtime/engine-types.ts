/**
 * The shapes of one worker's partitioned engine: what it is built from ({@link EngineDeps}), what
 * starting it returns ({@link EngineRuntime}), and the router control its lease callbacks drive.
 */
import type { RedisClient } from '../redis/client.js';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { LeaseManager } from '../engine/leases.js';
import type { OwnerParts, PartitionOwner, StepReport } from '../engine/owner.js';
import type { RouterParts, RouteReport } from '../engine/router.js';

/** What the lease callbacks drive: the router here or in its thread. */
export interface RouterControl {
  readonly active: boolean;
  start(token: string): void;
  stop(): void;
}

/** The engine's loops, leases and reports. */
export interface EngineRuntime {
  workerId: string;
  owner: PartitionOwner;
  /** This worker's router (in this thread or in its router thread): whether it holds the router lease. */
  router: Pick<RouterControl, 'active'>;
  leases: LeaseManager;
  /** Called after every routing step and every owner step. */
  onReport(listener: (r: { route?: RouteReport; step?: StepReport }) => void): void;
  /** The router thread (engine.router_thread) takes the worker's configuration, after a reload the worker applied. */
  reload(): void;
  /** Why this engine stopped processing on its own (its worker id taken over by another process, {@link halt}), else undefined. */
  halted(): string | undefined;
  /** Stops processing for good, with why (the first reason stays): as `stop()`, its leases given back; reported by `halted()`. */
  halt(reason: string): void;
  /** Resolves when both loops have stopped (after `stop()`). */
  finished: Promise<void>;
  /**
   * Stops reading; the owner commits what it applied; leases are released. With `bound`: a last
   * commit still out after `bound.commitMs` no longer holds the leases — they are released then, on
   * a connection of `bound.connection()`'s (fenced: that commit, landing later, is refused), and the
   * promise settles when the commit does.
   */
  stop(bound?: StopBound): Promise<void>;
}

/** How long a stopping engine's last commit may hold its leases ({@link EngineRuntime.stop}). */
export interface StopBound {
  /** The last commit's bound (ms). */
  commitMs: number;
  /** How long the release on the new connection may take (ms); past it the leases expire after `engine.lease_ttl`. */
  releaseMs: number;
  /** A new connection to release the leases on (disconnected after). */
  connection: () => RedisClient;
  /** Given up with the leases on that connection too: the worker's claimed id (else kept until its ttl, `engine.lease_ttl`). */
  alsoRelease?: (via: RedisClient) => Promise<void>;
}

/** What the engine is built from. */
export interface EngineDeps {
  config: () => Config;
  redis: RedisClient;
  /** Blocking reads (owner). */
  reader: RedisClient;
  /** Blocking wake-up reads (router). */
  waker: RedisClient;
  keys: Keys;
  logger: Logger;
  metrics: Metrics;
  workerId: string;
  /** The config file or directory the worker was started from: with `engine.router_thread`, routing runs in a thread (absent: in this thread). */
  configPath?: string;
  /** Refreshes the worker identity's claim (with the heartbeat). */
  renewIdentity: () => Promise<void>;
  route: RouterParts;
  own: OwnerParts;
  /** Counts events routed in a router thread with a value taken as absent (its decode's `onCoerced`, in this thread). */
  onCoerced?: (reason: string, n: number) => void;
}
