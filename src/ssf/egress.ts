/**
 * Egress limits, so that no receiver can starve another. Self-registered SSF streams: the
 * endpoint policy checked (and the address pinned) at every send, and in-flight sends capped
 * per stream and for all streams together in this worker. Configured receivers: in-flight sends
 * capped per receiver (its `concurrency`, default half the worker's). A job that finds no free
 * slot is put back until its turn instead of holding a worker slot, so a receiver that hangs never
 * holds more than its share of the delivery concurrency.
 */
import type { RiskstreamFileConfig } from '../config/schema.js';
import { EgressLine, type Waiting } from './egress-line.js';
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

/** How long (ms) past its turn and jitter a job put back keeps its place if it has not come back. */
const LATE_MS = 1_000;

/** A job asking for a slot: its id and when it was queued (its place in its receiver's line). */
export interface LineJob {
  id: string;
  queuedAt: number;
}

/** One receiver's sends in flight (start times, oldest first), typical send time, and its line. */
interface Lane {
  starts: number[];
  /** Moving average of its sends' durations (ms), once one has finished. */
  hold?: number;
  /** The line of all receivers only: when the last job put back is due back (ms since epoch). */
  next: number;
  /** Jobs put back for want of a slot: a freed slot is theirs, oldest first, before a newer job's. */
  waiting: EgressLine;
}

const newLane = (): Lane => ({ starts: [], next: 0, waiting: new EgressLine() });

/**
 * How many jobs wait in `lane` ahead of `job` (one not in line: after all queued by its time) and
 * their latest turn, once those gone too long are dropped; `self`: its own place, if still held.
 */
function ahead(lane: Lane, now: number, job: LineJob): { count: number; due: number; self: Waiting | undefined } {
  // Its place even if its hold has just ended: those put back before it at the same time stay ahead.
  const seq = lane.waiting.get(job.id)?.seq ?? Infinity;
  lane.waiting.prune(now);
  const { count, due } = lane.waiting.ahead(job.queuedAt, seq);
  return { count, due, self: lane.waiting.get(job.id) };
}

/**
 * Counts in-flight sends per receiver and in total (in this process), and tells a job that found
 * no free slot how long to wait: the jobs put back for one receiver are spread at about the pace
 * its slots free up (its typical send time — or the age of its latest send still in flight, when
 * longer: a receiver that hangs frees one only at its timeout — divided by its cap), so a backlog
 * for a receiver that hangs does not keep the worker busy putting the same jobs back every second.
 * The jobs put back keep their place in the receiver's line (oldest queued first): a freed slot
 * goes to the oldest when it comes back, not to a newer job, and each one's turn follows those
 * ahead of it.
 */
export class EgressLimiter {
  private readonly lanes = new Map<string, Lane>();
  /** Every limited send together: the line of the jobs put back for want of an overall slot. */
  private readonly all: Lane = newLane();
  /** Numbers the jobs put back, in order (and the jobs asking without an id). */
  private seq = 0;
  private total = 0;

  constructor(
    /** Max sends in flight to one receiver. */
    readonly perReceiver: number,
    /** Max sends in flight to all limited receivers together. */
    readonly overall: number,
  ) {}

  /**
   * Takes a slot for `receiver` (at most `limit` in flight to it, default `perReceiver`) for `job`
   * (default: a new one) at `now`; returns its release (call once, with the time it ends), or
   * undefined when none is free — or when the free ones are kept for older jobs put back.
   */
  tryAcquire(receiver: string, now: number, limit = this.perReceiver, job?: LineJob): ((now: number) => void) | undefined {
    const lane = this.lanes.get(receiver) ?? newLane();
    if (lane.starts.length + ahead(lane, now, job ?? this.newJob(now)).count >= limit || this.total >= this.overall) return undefined;
    this.keep(receiver, lane, now);
    if (job) lane.waiting.delete(job.id);
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
      if (lane.starts.length === 0 && lane.waiting.size === 0 && lane.hold < QUICK_HOLD_MS) this.lanes.delete(receiver);
    };
  }

  /**
   * How long (ms, at most `maxMs`, at least {@link MIN_WAIT_MS}) `job` (default: a new one), which
   * found no free slot for `receiver` at `now`, waits before it looks again: its turn in the
   * receiver's line, one slot's pace after the jobs queued before it — or, when the receiver is
   * below its own cap and the overall cap is what is full, the next turn in the line of all
   * receivers together (paced by all sends in flight), so jobs for receivers with nothing in
   * flight do not come back every shortest wait while others hold every slot. The job keeps its
   * place in the receiver's line until it comes back (or a while after its turn).
   */
  waitMs(receiver: string, now: number, maxMs: number, limit = this.perReceiver, job: LineJob = this.newJob(now)): number {
    const own = this.lanes.get(receiver) ?? newLane();
    const { count, due: last, self: again } = ahead(own, now, job);
    // Below its own cap with the overall cap full: the line of all; else its own line's pace.
    const [lane, cap] = own.starts.length < limit && this.total >= this.overall ? [this.all, this.overall] : [own, limit];
    // Even its latest send still going after this long: the receiver is stuck at least as long.
    const youngest = lane.starts.length ? now - lane.starts[lane.starts.length - 1]! : 0;
    const interval = Math.max(lane.hold ?? 0, youngest) / Math.max(1, cap);
    // Put back again: its place's turn (the jobs ahead go first); else the turn after theirs.
    let due: number;
    if (lane !== own) due = lane.next = Math.min(Math.max(lane.next, now) + interval, now + maxMs);
    else if (again) due = Math.min(now + (count + 1) * interval, now + maxMs);
    else due = Math.min(Math.max(last, now) + interval, now + maxMs);
    const wait = Math.max(MIN_WAIT_MS, Math.min(maxMs, due - now));
    this.keep(receiver, own, now);
    // Its place is kept past its turn by the caller's jitter (a fifth of the wait) and LATE_MS.
    const seq = again?.seq ?? this.seq++;
    own.waiting.set({ id: job.id, queuedAt: job.queuedAt, seq, due, until: now + wait + Math.max(MIN_WAIT_MS, wait / 5) + LATE_MS });
    return wait;
  }

  /** A job without an id: new, queued now. */
  private newJob(now: number): LineJob {
    return { id: `~${this.seq++}`, queuedAt: now };
  }

  /** Keeps `lane` as `receiver`'s, first dropping idle ones when there are many. */
  private keep(receiver: string, lane: Lane, now: number): void {
    if (this.lanes.has(receiver)) return;
    if (this.lanes.size >= MAX_IDLE_LANES)
      for (const [name, l] of this.lanes) {
        l.waiting.prune(now);
        if (l.starts.length === 0 && l.waiting.size === 0) this.lanes.delete(name);
      }
    this.lanes.set(receiver, lane);
  }

  /** Sends in flight now (all receivers, or one). */
  inFlight(receiver?: string): number {
    return receiver === undefined ? this.total : (this.lanes.get(receiver)?.starts.length ?? 0);
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
