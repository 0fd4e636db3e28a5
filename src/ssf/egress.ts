/**
 * Egress limits, so that no receiver can starve another. Self-registered SSF streams: the
 * endpoint policy checked (and the address pinned) at every send, and in-flight sends capped
 * per stream and for all streams together in this worker. Configured receivers: in-flight sends
 * capped per receiver (its `concurrency`, default half the worker's). A job that finds no free
 * slot is put back until its turn instead of holding a worker slot, so a receiver that hangs never
 * holds more than its share of the delivery concurrency.
 */
import type { RiskstreamFileConfig } from '../config/schema.js';
import { EndpointPolicy, type Resolver } from './endpoint-policy.js';

/**
 * Shortest wait of a job put back for want of a slot (ms), before jitter: a receiver that answers
 * in milliseconds frees a slot that soon, so its SETs beyond its cap go out a moment later, not
 * seconds later.
 */
export const MIN_WAIT_MS = 50;

/** A lane whose sends take less than this (ms) is forgotten once idle: nothing to pace. */
const QUICK_HOLD_MS = 500;

/** Lanes kept before idle ones (slow receivers' paces, deleted streams') are dropped. */
const MAX_IDLE_LANES = 1024;

/** One receiver's sends in flight: their start times (oldest first), typical send time, next turn. */
interface Lane {
  starts: number[];
  /** Moving average of its sends' durations (ms), once one has finished. */
  hold?: number;
  /** When the last job put back is due back (ms since epoch). */
  next: number;
}

/**
 * Counts in-flight sends per receiver and in total (in this process), and tells a job that found
 * no free slot how long to wait: the jobs put back for one receiver are spread at about the pace
 * its slots free up (its typical send time — or the age of its latest send still in flight, when
 * longer: a receiver that hangs frees one only at its timeout — divided by its cap), so a backlog
 * for a receiver that hangs does not keep the worker busy putting the same jobs back every second.
 */
export class EgressLimiter {
  private readonly lanes = new Map<string, Lane>();
  /** Every limited send together: the line of the jobs put back for want of an overall slot. */
  private readonly all: Lane = { starts: [], next: 0 };
  private total = 0;

  constructor(
    /** Max sends in flight to one receiver. */
    readonly perReceiver: number,
    /** Max sends in flight to all limited receivers together. */
    readonly overall: number,
  ) {}

  /**
   * Takes a slot for `receiver` (at most `limit` in flight to it, default `perReceiver`) at `now`;
   * returns its release (call once, with the time it ends), or undefined when none is free.
   */
  tryAcquire(receiver: string, now: number, limit = this.perReceiver): ((now: number) => void) | undefined {
    const lane = this.lanes.get(receiver) ?? { starts: [], next: 0 };
    if (lane.starts.length >= limit || this.total >= this.overall) return undefined;
    if (!this.lanes.has(receiver)) {
      if (this.lanes.size >= MAX_IDLE_LANES) for (const [name, l] of this.lanes) if (l.starts.length === 0 && l.next <= now) this.lanes.delete(name);
      this.lanes.set(receiver, lane);
    }
    lane.starts.push(now);
    this.all.starts.push(now);
    this.total++;
    let released = false;
    return (end: number) => {
      if (released) return;
      released = true;
      this.total--;
      lane.starts.splice(lane.starts.indexOf(now), 1);
      this.all.starts.splice(this.all.starts.indexOf(now), 1);
      const took = Math.max(0, end - now);
      lane.hold = lane.hold === undefined ? took : lane.hold * 0.8 + took * 0.2;
      this.all.hold = this.all.hold === undefined ? took : this.all.hold * 0.8 + took * 0.2;
      // Idle, nothing due back and quick: forgotten. A slow one's pace is kept for its next sends.
      if (lane.starts.length === 0 && lane.next <= end && lane.hold < QUICK_HOLD_MS) this.lanes.delete(receiver);
    };
  }

  /**
   * How long (ms, at most `maxMs`, at least {@link MIN_WAIT_MS}) a job that found no free slot for
   * `receiver` at `now` waits before it looks again; each call is the next turn in the receiver's
   * line — or, when the receiver is below its own cap and the overall cap is what is full, in the
   * line of all receivers together (paced by all sends in flight), so jobs for receivers with
   * nothing in flight do not come back every shortest wait while others hold every slot.
   */
  waitMs(receiver: string, now: number, maxMs: number, limit = this.perReceiver): number {
    const own = this.lanes.get(receiver);
    const [lane, cap] = own && own.starts.length >= limit ? [own, limit] : this.total >= this.overall ? [this.all, this.overall] : [undefined, 1];
    if (!lane) return MIN_WAIT_MS; // freed meanwhile
    // Even its latest send still going after this long: the receiver is stuck at least as long.
    const youngest = lane.starts.length ? now - lane.starts[lane.starts.length - 1]! : 0;
    const interval = Math.max(lane.hold ?? 0, youngest) / Math.max(1, cap);
    lane.next = Math.min(Math.max(lane.next, now) + interval, now + maxMs);
    return Math.max(MIN_WAIT_MS, Math.min(maxMs, lane.next - now));
  }

  /** Sends in flight now (all receivers, or one). */
  inFlight(receiver?: string): number {
    return receiver === undefined ? this.total : (this.lanes.get(receiver)?.starts.length ?? 0);
  }
}

/**
 * Slots kept free, of a worker's `concurrency`, for receivers with no send in flight: an eighth (at
 * least 1; none with a single slot).
 */
export function reserveOf(concurrency: number): number {
  return concurrency < 2 ? 0 : Math.max(1, Math.floor(concurrency / 8));
}

/**
 * The worker's delivery slots (`delivery.concurrency`), shared by configured receivers and
 * self-registered streams: each receiver's cap alone keeps the others a share only while one of
 * them hangs — two at the default cap (half each) held every slot, and every other receiver's SETs
 * waited for their timeout. A receiver with a send in flight takes another only while more than
 * {@link reserveOf} slots are free; one with none in flight always finds a slot.
 */
export class WorkerSlots {
  #inFlight = 0;
  readonly reserve: number;

  constructor(readonly size: number) {
    this.reserve = reserveOf(size);
  }

  /** The cap now of a receiver with `own` sends in flight and a cap of `limit`: what it holds, once only the reserve is free. */
  limitFor(own: number, limit: number): number {
    return own > 0 && this.#inFlight >= this.size - this.reserve ? Math.min(own, limit) : limit;
  }

  /** Counts a send starting; returns its release (idempotent). */
  take(): () => void {
    this.#inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.#inFlight--;
    };
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
 * half to the rest ({@link WorkerSlots}: several that hang leave a few slots at least).
 */
export function receiverConcurrency(receiver: { concurrency?: number | undefined }, workerConcurrency: number): number {
  return receiver.concurrency ?? Math.max(1, Math.floor(workerConcurrency / 2));
}
