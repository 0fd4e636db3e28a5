import type { Logger } from '../obs/logger.js';

/** How often a receiver that keeps failing is logged again (ms). */
export const FAILURE_LOG_INTERVAL_MS = 60_000;

interface Failing {
  since: number;
  lastLogged: number;
  /** Failures since the last line. */
  unlogged: number;
  total: number;
}

/**
 * The log lines of failing deliveries (every attempt is in the audit log and the metrics; the log
 * tells an operator reading it that a receiver is failing): a warning at a receiver's first
 * failure, then at most one per {@link FAILURE_LOG_INTERVAL_MS} with the count meanwhile (retries
 * and SETs given up alike), and one line when it delivers again. A refused authorization (401/403) says
 * so: every SET to that receiver fails alike until its `authorization` is fixed. Never the SET, its
 * token or the receiver's credentials.
 */
export class FailureLog {
  private readonly failing = new Map<string, Failing>();

  constructor(
    private readonly logger: Logger | undefined,
    private readonly now: () => number = Date.now,
  ) {}

  /** A failed attempt: `retrying` false when the SET was given up (permanent failure, horizon passed). */
  failed(receiver: string, info: { outcome: unknown; status?: unknown; message?: unknown; retrying: boolean }): void {
    const now = this.now();
    const f = this.failing.get(receiver) ?? { since: now, lastLogged: -Infinity, unlogged: 0, total: 0 };
    this.failing.set(receiver, f);
    f.unlogged++;
    f.total++;
    // One line per interval: thousands of SETs failing at once are one receiver's failure.
    if (now - f.lastLogged < FAILURE_LOG_INTERVAL_MS) return;
    this.logger?.warn(
      {
        receiver,
        outcome: info.outcome,
        ...(typeof info.status === 'number' ? { status: info.status } : {}),
        ...(typeof info.message === 'string' ? { message: info.message } : {}),
        failures: f.unlogged,
        failing_for_ms: now - f.since,
      },
      info.outcome === 'unauthorized'
        ? 'SET delivery given up: the receiver refused our authorization (check its authorization setting; see the audit log)'
        : info.retrying
          ? 'SET delivery failing; retrying with backoff (each attempt is in the audit log)'
          : 'SET delivery given up (see the audit log)',
    );
    f.lastLogged = now;
    f.unlogged = 0;
  }

  /** A delivered SET: a receiver that was failing has recovered. */
  delivered(receiver: string): void {
    const f = this.failing.get(receiver);
    if (!f) return;
    this.failing.delete(receiver);
    this.logger?.info({ receiver, failures: f.total, failing_for_ms: this.now() - f.since }, 'SET delivery recovered');
  }
}
