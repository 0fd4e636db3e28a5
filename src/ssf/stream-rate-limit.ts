import type { RedisClient } from '../redis/client.js';
import type { DeliveryKeys } from '../delivery-keys.js';
import type { Logger } from '../obs/logger.js';
import { RiskstreamError } from '../errors.js';
import { scriptsOn, type Scripts } from '../redis/scripts.js';
import type { StreamLimits } from './streams.js';

/** At most one warn line per owner per this many ms while it is refused. */
const WARN_EVERY_MS = 60_000;

/**
 * The allowance of state-changing SSF stream management calls per ssf token (by owner digest):
 * a token bucket of `ssf.limits.changes_burst` calls refilled at `changes_per_second`, kept in
 * Redis (one script call per limited request) so every worker on the prefix shares it. Each of
 * those calls writes an audit entry: without it a receiver could push the admins' history out of
 * the capped audit stream. Read at every call (a reload applies at once).
 */
export class StreamRateLimit {
  private readonly scripts: Scripts;

  constructor(
    redis: RedisClient,
    private readonly keys: DeliveryKeys,
    private readonly limits: () => StreamLimits,
    private readonly logger?: Logger,
  ) {
    this.scripts = scriptsOn(redis);
  }

  /** Takes one call of `owner`'s allowance; RATE_LIMITED with `retryAfter` (seconds) when none is left. */
  async take(owner: string): Promise<void> {
    const { changes_per_second: rate, changes_burst: burst } = this.limits();
    if (rate <= 0) return;
    const [refused, waitMs, warn] = await this.scripts.ssfRateTake(this.keys.ssfOwnerRate(owner), String(rate), String(burst), String(WARN_EVERY_MS));
    if (!refused) return;
    const retryAfter = Math.max(1, Math.ceil(waitMs / 1000));
    // The owner digest, never the token: enough to tell which receiver's streams it is.
    if (warn) this.logger?.warn({ owner, rate, burst, retry_after: retryAfter }, 'ssf stream management calls over ssf.limits.changes_per_second; refused');
    throw new RiskstreamError('RATE_LIMITED', `more than ${burst} stream management calls at once or ${rate} a second (ssf.limits.changes_per_second)`, {
      retryAfter,
    });
  }
}
