import type { Logger } from '../obs/logger.js';

/**
 * The log of lost leases: one `engine lease lost` line per reason for the losses of one burst (a
 * superseded or long-paused worker loses all its partitions at once), with the count and the
 * first few resources, instead of a line per lease.
 */
export class LossLog {
  private readonly pending = new Map<string, string[]>();

  constructor(
    private readonly workerId: string,
    private readonly logger: Logger | undefined,
  ) {}

  /** Records a loss; the burst's lines are written once the current I/O callbacks have run. */
  add(resource: string, why: string): void {
    const list = this.pending.get(why);
    if (list) return void list.push(resource);
    this.pending.set(why, [resource]);
    if (this.pending.size === 1) setImmediate(() => this.flush());
  }

  private flush(): void {
    for (const [why, resources] of this.pending) {
      const shown = resources.length > 8 ? [...resources.slice(0, 8), '…'] : resources;
      this.logger?.warn({ resources: shown, count: resources.length, worker: this.workerId, why }, 'engine lease lost');
    }
    this.pending.clear();
  }
}
