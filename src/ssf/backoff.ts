/** Retry delays for SET delivery: exponential backoff with jitter, bounded by the horizon. */

/** Backoff settings (the config's `delivery` block, in ms). */
export interface BackoffConfig {
  backoff_base: number;
  backoff_max: number;
  /** Give up retrying this long after the job was enqueued. */
  horizon: number;
}

/**
 * Delay before retry number `attempt` (1 = first retry): min(max, base·2^(attempt-1)),
 * "equal jitter" (between half and all of it). `random` in [0, 1).
 */
export function backoffDelay(attempt: number, cfg: Pick<BackoffConfig, 'backoff_base' | 'backoff_max'>, random: number): number {
  const exp = Math.min(cfg.backoff_max, cfg.backoff_base * 2 ** Math.min(Math.max(attempt - 1, 0), 40));
  return Math.round(exp / 2 + (random * exp) / 2);
}

/** Time left before the horizon for a job enqueued at `enqueuedAt` (ms, ≥ 0). */
export function horizonLeft(enqueuedAt: number, now: number, horizon: number): number {
  return Math.max(0, enqueuedAt + horizon - now);
}
