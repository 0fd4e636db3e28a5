import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import { Metrics } from '../obs/metrics.js';
import type { RedisClient } from '../redis/client.js';
import { decodeEntry, type DecodeOptions } from '../ingest/decode.js';
import { Router } from '../engine/router.js';
import { createSessionStore } from '../sessions/service.js';
import { sessionUseEnricher } from '../sessions/captured.js';
import { buildRouteIngest } from './ingest-runtime.js';
import { decodeOptionsOf, routerOptionsOf } from './router-options.js';

/**
 * A router with its own parts, as the router thread runs it: decoding (its options in `decodeOpts`,
 * to update in place on a reload), the route ingest's enrichment (GeoIP, password_spray's IP edge)
 * then the captured sessions of session uses, and dead-lettering (`onDeadLettered`: counts per
 * stream after each write). Its metrics registry is its own and not served.
 */
export async function buildOwnRouter(d: {
  config: () => Config;
  redis: RedisClient;
  keys: Keys;
  logger: Logger;
  onDeadLettered?: (streams: Record<string, number>) => void;
  onFenced?: (epoch: number) => void;
}): Promise<{ router: Router; decodeOpts: DecodeOptions }> {
  const config = d.config();
  const ingest = await buildRouteIngest({ config: d.config, redis: d.redis, logger: d.logger, metrics: new Metrics() });
  const sessionUses = sessionUseEnricher(
    createSessionStore(d.redis, d.keys, () => d.config().raw.sessions),
    () => ({
      sessionsEnabled: d.config().raw.sessions.enabled,
      behaviors: d.config().behaviors,
      lifetime: d.config().raw.sessions.default_lifetime,
    }),
  );
  const decodeOpts = decodeOptionsOf(config);
  const router = new Router(d.redis, d.keys, routerOptionsOf(config), {
    ...(d.onFenced ? { onFenced: d.onFenced } : {}),
    decode: (raw, now) => decodeEntry(raw, decodeOpts, now),
    enrich: async (events) => {
      await ingest.enrich(events);
      await sessionUses(events); // as in the main thread (src/runtime/sessions.ts)
    },
    deadLetter: async (bad) => {
      const written = await ingest.deadLetter(bad);
      if (!d.onDeadLettered) return;
      const streams: Record<string, number> = {};
      // Counted once: not an entry dead-lettered before a crash and read again.
      bad.forEach((b, i) => written[i] && (streams[b.raw.stream] = (streams[b.raw.stream] ?? 0) + 1));
      d.onDeadLettered(streams);
    },
  });
  return { router, decodeOpts };
}
