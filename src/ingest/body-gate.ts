import { RiskstreamError } from '../errors.js';

/**
 * A per-process gate for `POST /v1/events` bodies: at most `concurrency` bodies are decoded at
 * once (default 1, so the worker never holds more than one body's records), up to `maxQueued`
 * more wait their turn in arrival order, and any beyond that are refused with INGEST_BUSY
 * (429, `Retry-After`) — the shipper retries. A body whose caller is gone while it waits (its
 * `signal` aborted: the client closed the connection, or it was answered 503) leaves the queue at
 * once, its place free for a live one.
 */
export class BodyGate {
  private active = 0;
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
