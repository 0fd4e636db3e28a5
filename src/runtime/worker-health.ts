import type { RedisClient } from '../redis/client.js';
import type { Config } from '../config/load.js';
import type { Metrics } from '../obs/metrics.js';
import type { HealthDeps } from '../api/routes/health.js';
import type { StallVerdict } from '../engine/stall-tracker.js';
import { PING_TIMEOUT_MS, readinessCheck, within, type GroupDown } from './readiness.js';
import { refreshGauges } from './worker-gauges.js';
import type { SsfRuntime } from './ssf.js';

/** What the worker's `/readyz` and `/metrics` read. */
export interface WorkerHealthDeps {
  config: () => Config;
  redis: RedisClient;
  metrics: Metrics;
  /** The SET delivery queue, whose depth a scrape reads. */
  ssf: SsfRuntime;
  /** True while the worker reads its input; else why not (draining, the engine halted). */
  consumerGroup: () => true | GroupDown;
  /** Why the configuration in force is not the one the files last gave (a reload refused). */
  configProblem: () => string | undefined;
  /** The pipeline-wide stall verdict (src/runtime/stall-watch.ts). */
  stall: () => StallVerdict;
}

/**
 * The worker's health routes' answers: `/readyz` (src/runtime/readiness.ts) and `/metrics`, whose
 * scrape refreshes the gauges from Redis first — one refresh at a time however many scrapes wait,
 * and never waiting longer than the readiness PING does (a Redis that keeps the connection but does
 * not answer gets the last values, not a scrape held until it answers again).
 */
export function workerHealth(d: WorkerHealthDeps): HealthDeps {
  const { config, redis, metrics, ssf } = d;
  let refreshing: Promise<void> | undefined; // one read of the gauges at a time, however many scrapes wait
  return {
    metrics: async () => {
      await within((refreshing ??= refreshGauges({ config, redis, metrics, ssf }).finally(() => (refreshing = undefined))), PING_TIMEOUT_MS, undefined);
      return metrics.render();
    },
    readiness: readinessCheck({ redis, config, consumerGroup: d.consumerGroup, configProblem: d.configProblem, stall: d.stall }),
  };
}
