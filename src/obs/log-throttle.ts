/**
 * Repeats of one failure logged at most once per interval: a condition that fails every pass (a
 * bridge list holding another Redis type fails every 200 ms) is reported, not flooded. Pure apart
 * from the clock it is given.
 */
export class LogThrottle {
  readonly #last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly intervalMs: number,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Whether to log a failure with this `key` now; when it is, how many repeats were held back since
   * (undefined: log nothing now).
   */
  take(key: string): { suppressed: number } | undefined {
    const t = this.now();
    const seen = this.#last.get(key);
    if (seen && t - seen.at < this.intervalMs) {
      seen.suppressed++;
      return undefined;
    }
    this.#last.set(key, { at: t, suppressed: 0 });
    if (this.#last.size > 1000) this.#last.delete(this.#last.keys().next().value!);
    return { suppressed: seen?.suppressed ?? 0 };
  }
}
