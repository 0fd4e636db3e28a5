import { RiskstreamError } from '../errors.js';

/**
 * A per-process gate for `POST /v1/events` bodies: at most `concurrency` bodies are decoded at
 * once (default 1, so the worker never holds more than one body's records), up to `maxQueued`
 * more wait their turn in arrival order, and any beyond that are refused with INGEST_BUSY
 * (429, `Retry-After`) — the shipper retries.
 */
export class BodyGate {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(
    private readonly limits: () => { concurrency: number; maxQueued: number },
    private readonly retryAfterSeconds = 1,
  ) {}

  /** Bodies being decoded now, and waiting. */
  get load(): { active: number; queued: number } {
    return { active: this.active, queued: this.waiting.length };
  }

  /** Runs `fn` when a slot is free; throws INGEST_BUSY at once when the queue is full. */
  async run<T>(fn: () => Promise<T>): Promise<T> {
    const { concurrency, maxQueued } = this.limits();
    if (this.active >= concurrency) {
      if (this.waiting.length >= maxQueued) {
        throw new RiskstreamError('INGEST_BUSY', `${this.active} bodies in progress and ${this.waiting.length} waiting; retry later`, {
          retryAfter: this.retryAfterSeconds,
        });
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else this.active++;
    try {
      return await fn();
    } finally {
      const next = this.waiting.shift();
      // The slot passes straight to the next body in line.
      if (next) next();
      else this.active--;
    }
  }
}
