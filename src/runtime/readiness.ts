import type { RedisClient } from '../redis/client.js';
import type { Readiness } from '../api/context.js';
import type { Config } from '../config/load.js';
import { readBacklog, stallReason, type ProgressClock } from '../ingest/backlog.js';

/** What `/readyz` looks at. */
export interface ReadinessDeps {
  redis: RedisClient;
  config: () => Config;
  /** False while draining or after a NOGROUP error until the group is back. */
  consumerGroup: () => boolean;
  progress: ProgressClock;
}

/**
 * `/readyz`: Redis answers PING, the consumer group is joined, and the risk pipeline is not
 * stalled — it advanced within `ingest.stall_after`, or no input waits (see src/ingest/backlog.ts).
 */
export function readinessCheck(deps: ReadinessDeps): () => Promise<Readiness> {
  return async () => {
    const config = deps.config();
    const checks: Record<string, boolean> = { redis: false, consumer_group: deps.consumerGroup(), config: true, pipeline: true };
    const reasons: Record<string, string> = {};
    try {
      checks.redis = (await deps.redis.ping()) === 'PONG';
    } catch {
      checks.redis = false;
    }
    const now = Date.now();
    const stallAfter = config.raw.ingest.stall_after;
    if (checks.redis && now - deps.progress.lastAdvance > stallAfter) {
      const backlog = await readBacklog(deps.redis, config.streams.inputs, config.streams.group).catch(() => null);
      const stalled = stallReason(deps.progress.lastAdvance, now, stallAfter, backlog);
      if (stalled) {
        checks.pipeline = false;
        reasons.pipeline = stalled;
      }
    }
    return { ok: Object.values(checks).every(Boolean), checks, ...(Object.keys(reasons).length ? { reasons } : {}) };
  };
}
