/**
 * The gauges a metrics scrape refreshes from Redis: each input's pending entries and consumer lag,
 * and the SET delivery queue's depth by state. Best effort, and never waiting on an absent Redis.
 */
import type { Config } from '../config/load.js';
import type { Metrics } from '../obs/metrics.js';
import type { RedisClient } from '../redis/client.js';
import { readGroups } from '../redis/stream-info.js';
import type { SsfRuntime } from './ssf.js';

/** What the gauges are read from and written to. */
export interface GaugeDeps {
  config: () => Config;
  redis: RedisClient;
  metrics: Metrics;
  ssf: SsfRuntime;
}

/** Refreshes the gauges; with Redis unreachable it leaves the last values, at once (a scrape must not hang). */
export async function refreshGauges(d: GaugeDeps): Promise<void> {
  const { redis, metrics } = d;
  if (redis.status !== 'ready') return; // Redis unreachable: the last values, at once (a scrape must not hang)
  try {
    const groups = await readGroups(redis, d.config().streams.inputs);
    const config = d.config();
    config.streams.inputs.forEach((s, i) => {
      for (const g of groups[i] ?? []) {
        if (g.name !== config.streams.group) continue;
        metrics.pending.set({ stream: s }, g.pending);
        if (g.lag !== null) metrics.consumerLag.set({ stream: s }, g.lag);
      }
    });
    const counts = await d.ssf.queueCounts();
    for (const [state, n] of Object.entries(counts)) metrics.queueDepth.set({ state }, n);
  } catch {
    /* gauges are best effort */
  }
}
