/**
 * The shapes of the engine's ownership layer: a lease a worker holds, and the options (timing and
 * callbacks to the engine) of the {@link LeaseManager} that holds them, with their timing check.
 */
import { RiskstreamError } from '../errors.js';
import type { Logger } from '../obs/logger.js';

/** A lease this worker holds. */
export interface Lease {
  resource: string;
  /** The fencing token `${workerId}#${epoch}` (the lease key's value; commits check it). */
  token: string;
  epoch: number;
  /** Local clock (ms) when it was acquired. */
  acquiredAt: number;
}

/** Options of a {@link LeaseManager}: its worker id, resources, timing and the engine's callbacks. */
export interface LeaseManagerOptions {
  workerId: string;
  /** All resources to balance (partitions + routers); read each heartbeat, so it may change on reload. */
  resources: () => string[];
  /** Lease PX (`engine.lease_ttl`, default 10 s); also how long a silent member stays live. */
  ttlMs: number;
  /** Renew + membership heartbeat + rebalance period (`engine.heartbeat`, default 2 s); < ttl − margin. */
  heartbeatMs: number;
  /** Safety margin of {@link LeaseManager.holds} against clock drift (default ttl / 10). */
  marginMs?: number;
  /** A lease was acquired: the engine starts the resource. Awaited (in parallel) within the heartbeat; a throw releases the lease. */
  onAcquired(lease: Lease): void | Promise<void>;
  /** Assignment moved away: the engine finishes in-flight work and calls `release(resource)`. Not awaited; called once per holding. */
  onRevoke(resource: string): void | Promise<void>;
  /** Lease lost (renew failed: expired or taken over): the engine must stop touching it immediately. */
  onLost(resource: string): void;
  logger?: Logger;
  /** Local clock (tests freeze it). */
  now?: () => number;
}

/** The margin a lease is given up by before its ttl when none is configured (`marginMs`): a tenth of the ttl. */
export function defaultLeaseMargin(ttlMs: number): number {
  return Math.ceil(ttlMs / 10);
}

/** Throws CONFIG_INVALID unless there is a worker id and `heartbeatMs` is positive and below `ttlMs − marginMs`. */
export function checkLeaseOptions(opts: LeaseManagerOptions, marginMs: number): void {
  if (!opts.workerId) throw new RiskstreamError('CONFIG_INVALID', 'engine: a worker id is required');
  if (!(opts.heartbeatMs > 0 && opts.heartbeatMs < opts.ttlMs - marginMs)) {
    throw new RiskstreamError('CONFIG_INVALID', 'engine: heartbeat must be positive and shorter than the lease ttl minus its margin', {
      heartbeatMs: opts.heartbeatMs,
      ttlMs: opts.ttlMs,
      marginMs,
    });
  }
}
