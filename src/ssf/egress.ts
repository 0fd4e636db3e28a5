/**
 * Egress limits, so that no receiver can starve another. Self-registered SSF streams: the
 * endpoint policy checked (and the address pinned) at every send, and in-flight sends capped
 * per stream and for all streams together in this worker. Configured receivers: in-flight sends
 * capped per receiver (its `concurrency`, default half the worker's). A job that finds no free
 * slot is put back for a moment instead of holding a worker slot, so a receiver that hangs never
 * holds more than its share of the delivery concurrency.
 */
import type { RiskstreamFileConfig } from '../config/schema.js';
import { EndpointPolicy, type Resolver } from './endpoint-policy.js';

/** Counts in-flight sends per receiver and in total (in this process). */
export class EgressLimiter {
  private readonly inflight = new Map<string, number>();
  private total = 0;

  constructor(
    /** Max sends in flight to one receiver. */
    readonly perReceiver: number,
    /** Max sends in flight to all limited receivers together. */
    readonly overall: number,
  ) {}

  /**
   * Takes a slot for `receiver` (at most `limit` in flight to it, default `perReceiver`); returns
   * its release (call once), or undefined when none is free.
   */
  tryAcquire(receiver: string, limit = this.perReceiver): (() => void) | undefined {
    const mine = this.inflight.get(receiver) ?? 0;
    if (mine >= limit || this.total >= this.overall) return undefined;
    this.inflight.set(receiver, mine + 1);
    this.total++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.total--;
      const n = (this.inflight.get(receiver) ?? 1) - 1;
      if (n > 0) this.inflight.set(receiver, n);
      else this.inflight.delete(receiver);
    };
  }

  /** Sends in flight now (all receivers, or one). */
  inFlight(receiver?: string): number {
    return receiver === undefined ? this.total : (this.inflight.get(receiver) ?? 0);
  }
}

/** What the delivery processor applies to self-registered streams. */
export interface Egress {
  policy: EndpointPolicy;
  limiter: EgressLimiter;
}

/**
 * The egress limits from the config's `ssf` block. All streams together get at most
 * `streams_concurrency` slots, and never every one of the worker's `concurrency` slots.
 */
export function egressFromConfig(ssf: RiskstreamFileConfig['ssf'], concurrency: number, resolver?: Resolver): Egress {
  const overall = Math.max(1, Math.min(ssf.streams_concurrency, concurrency - 1));
  return { policy: new EndpointPolicy(ssf.allowed_endpoints, resolver), limiter: new EgressLimiter(ssf.per_stream_concurrency, overall) };
}

/**
 * Most sends in flight at once to a configured receiver, per worker: its `concurrency`, else half
 * the worker's `delivery.concurrency` (at least 1), so one receiver that hangs leaves the other
 * half to the rest.
 */
export function receiverConcurrency(receiver: { concurrency?: number | undefined }, workerConcurrency: number): number {
  return receiver.concurrency ?? Math.max(1, Math.floor(workerConcurrency / 2));
}
