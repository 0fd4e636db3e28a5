/**
 * The worker identity's renewal: the identity's claim lives as long as the leases. A worker
 * superseded by a newer process with its identity (or whose identity was taken) stops processing:
 * the other process owns its work now.
 */
import { isRiskstreamError } from '../errors.js';
import type { Logger } from '../obs/logger.js';

/** What {@link renewIdentityEvery} renews, and whom it tells when the worker must stop. */
export interface IdentityRenewal {
  workerId: string;
  logger: Logger;
  renewIdentity: () => Promise<void>;
  /** The leases saw a newer process with this worker id. */
  superseded: () => boolean;
  /** The engine is stopping already (nothing more to halt). */
  stopping: () => boolean;
  /** The worker is to stop processing, with the reason to report. */
  halt: (reason: string) => void;
}

/** Renews the worker identity every `heartbeatMs` (one renew at a time); returns the timer (clear it on stop). */
export function renewIdentityEvery(heartbeatMs: number, d: IdentityRenewal): NodeJS.Timeout {
  let renewing = false;
  const renew = setInterval(() => {
    if (d.superseded() && !d.stopping()) {
      d.logger.error({ worker: d.workerId }, 'superseded by a newer process with this worker id: stopped processing');
      d.halt(`stopped: superseded by a newer process with worker id ${d.workerId}`);
      return;
    }
    // One renew at a time: while Redis is away they would queue up and all run at its return.
    if (renewing) return;
    renewing = true;
    d.renewIdentity()
      .catch((err: unknown) => {
        if (!isRiskstreamError(err, 'WORKER_ID_LOST')) return d.logger.warn({ err, worker: d.workerId }, 'worker identity not renewed; retrying');
        d.logger.error({ err, worker: d.workerId }, 'worker identity taken by another process: stopped processing');
        d.halt(`stopped: worker id ${d.workerId} taken by another process`);
      })
      .finally(() => {
        renewing = false;
      });
  }, heartbeatMs);
  renew.unref();
  return renew;
}
