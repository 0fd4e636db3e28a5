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

/**
 * BullMQ's delay before the next attempt of a failed job, or -1 to give up (the job is kept, failed, for 30 days at most).
 * `askedMs` is the delay the processor chose (it judged the horizon and audited a retry): it is
 * honoured even when the horizon passed in the moments since, at least 1 ms, so that the next attempt
 * audits the expiry itself (`set.failed`, outcome `expired`) rather than the job failing silently
 * after a `set.retry`. Any other error backs off within the horizon and gives up past it.
 */
export function retryDelay(attemptsMade: number, askedMs: number | undefined, enqueuedAt: number, now: number, cfg: BackoffConfig, random: number): number {
  const left = horizonLeft(enqueuedAt, now, cfg.horizon);
  if (askedMs !== undefined) return Math.max(1, Math.min(askedMs, left));
  if (left <= 0) return -1;
  return Math.min(backoffDelay(attemptsMade, cfg, random), left);
}
