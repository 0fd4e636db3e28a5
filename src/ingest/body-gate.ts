import { RiskstreamError } from '../errors.js';

/**
 * A per-process gate for `POST /v1/events` bodies: at most `concurrency` bodies are decoded at
 * once (default 1, so the worker never holds more than one body's records), up to `maxQueued`
 * more wait their turn in arrival order, and any beyond that are refused with INGEST_BUSY
 * (429, `Retry-After`) — the shipper retries. A body whose caller is gone while it waits (its
 * `signal` aborted: the client closed the connection, or it was answered 503) leaves the queue at
 * once, its place free for a live one. {@link admit} counts a request from before its body is
 * read, so bodies still arriving take places too: the worker holds at most
 * `concurrency + maxQueued` bodies, however many connections send one.
 */
export class BodyGate {
  private active = 0;
  /** Requests {@link admit}ted and not yet released (arriving, waiting or being decoded). */
  private admitted = 0;
  private readonly waiting: Array<{ go: () => void; refuse: (err: unknown) => void }> = [];
  /** Set by {@link close}: what every body that would wait, or asks later, is refused with. */
  private closed: (() => RiskstreamError) | undefined;

  constructor(
    private readonly limits: () => { concurrency: number; maxQueued: number },
    private readonly retryAfterSeconds = 1,
  ) {}

  /** Bodies being decoded now, and waiting. */
  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.waiting.length };
  }

  /**
   * Takes a place for a request before its body is read: INGEST_BUSY when `concurrency + maxQueued`
   * requests already hold one (arriving, waiting or decoded), the refusal of {@link close} once
   * closed. Returns the release (idempotent), to call when the request is answered or its client gone.
   */
  admit(): () => void {
    if (this.closed) throw this.closed();
    const { concurrency, maxQueued } = this.limits();
    if (this.admitted >= concurrency + maxQueued) {
      throw new RiskstreamError('INGEST_BUSY', `${this.admitted} bodies arriving, waiting or in progress; retry later`, {
        retryAfter: this.retryAfterSeconds,
      });
    }
    this.admitted++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.admitted--;
    };
  }

  /**
   * Runs `fn` when a slot is free; throws INGEST_BUSY at once when the queue is full, and the
   * signal's reason when `signal` aborts before the body's turn (it then never runs).
   */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    signal?.throwIfAborted();
    if (this.closed) throw this.closed();
    const { concurrency, maxQueued } = this.limits();
    if (this.active >= concurrency) {
      if (this.waiting.length >= maxQueued) {
        throw new RiskstreamError('INGEST_BUSY', `${this.active} bodies in progress and ${this.waiting.length} waiting; retry later`, {
          retryAfter: this.retryAfterSeconds,
        });
      }
      await this.turn(signal);
    } else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next body in line.
      if (next) next.go();
      else this.active--;
    }
  }

  /**
   * Takes no more bodies: those waiting their turn are refused now, and any asked later, with
   * `refusal()`; the bodies under way go on (the worker's drain waits for them alone).
   */
  close(refusal: () => RiskstreamError): void {
    this.closed = refusal;
    for (const w of this.waiting.splice(0)) w.refuse(refusal());
  }

  /** Waits in line for a slot (handed over by the body before); leaves the line when `signal` aborts or the gate closes. */
  private turn(signal: AbortSignal | undefined): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const leave = (): void => {
        const at = this.waiting.indexOf(waiter);
        if (at >= 0) this.waiting.splice(at, 1);
        reject(signal!.reason);
      };
      const waiter = {
        go: () => {
          signal?.removeEventListener('abort', leave);
          resolve();
        },
        refuse: (err: unknown) => {
          signal?.removeEventListener('abort', leave);
          reject(err);
        },
      };
      this.waiting.push(waiter);
      signal?.addEventListener('abort', leave, { once: true });
    });
  }
}
