/**
 * The slots a SET send holds while in flight (src/ssf/deliver-job.ts). Sends in flight are capped
 * per receiver (self-registered streams: for all of them together too), so one that hangs holds at
 * most its share of the worker's slots; a receiver with a send in flight takes no more of the
 * worker's last free slots ({@link WorkerSlots}), so several that hang leave some to a receiver with
 * none in flight. A job without a free slot waits outside them, its turn in the receiver's line.
 */
import type { ResolvedReceiver } from '../config/receiver.js';
import { EgressLimiter, receiverConcurrency, WorkerSlots } from './egress.js';

/** What {@link SendSlots.take} gives: the slots taken (`release` them once the send ends), or none free and how long to wait. */
export type SlotTry = { release: () => void; waitMs?: undefined } | { release?: undefined; waitMs: (maxMs: number) => number };

/** The egress slots of one delivery processor. */
export class SendSlots {
  /** Configured receivers: each its own cap (its `concurrency`, read per send: a reload applies), none for all together. */
  private readonly configured = new EgressLimiter(Infinity, Infinity);
  /** All receivers together: a few of the worker's slots stay free for a receiver with no send in flight. */
  private readonly worker: WorkerSlots;

  constructor(
    /** The limits of self-registered streams (per stream, all together). */
    private readonly streams: EgressLimiter,
    /** The worker's delivery concurrency: configured receivers' default cap, the worker's slots. */
    private readonly concurrency: number,
  ) {
    this.worker = new WorkerSlots(concurrency);
  }

  /**
   * Takes a slot for a send to `receiver`; none free: `waitMs(maxMs)` is how long its job waits
   * before it tries again (the receiver's pace, at most `maxMs`, {@link EgressLimiter.waitMs}).
   */
  take(receiver: ResolvedReceiver): SlotTry {
    const limiter = receiver.selfRegistered ? this.streams : this.configured;
    const cap = receiver.selfRegistered ? this.streams.perReceiver : receiverConcurrency(receiver, this.concurrency);
    const limit = this.worker.limitFor(limiter.inFlight(receiver.name), cap);
    const slot = limiter.tryAcquire(receiver.name, Date.now(), limit);
    if (!slot) return { waitMs: (maxMs) => limiter.waitMs(receiver.name, Date.now(), maxMs, limit) };
    const held = this.worker.take();
    return {
      release: () => {
        slot(Date.now());
        held();
      },
    };
  }
}
