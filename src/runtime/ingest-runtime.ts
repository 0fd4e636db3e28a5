import type { RedisClient } from '../redis/client.js';
import type { Config } from '../config/load.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { RawEntry, StreamEvent } from '../types.js';
import { openGeoIp, type GeoIp } from '../ingest/geoip.js';
import { writeDeadLetters } from '../ingest/dead-letter.js';
import { knownSecretsOf, scrubAll } from '../secrets/known-secrets.js';
import { startListBridge, type ListBridge } from '../ingest/list-bridge.js';
import { createIngestService, type IngestService } from '../ingest/http-ingest.js';
import { ipSprayEnricher } from '../ingest/ip-spray.js';
import { Keys } from '../keys.js';
import { LogThrottle } from '../obs/log-throttle.js';
import { coercedCounter } from '../obs/coerced.js';
import { isRiskstreamError } from '../errors.js';

/** The ingest side of the worker: geo and source-IP enrichment, dead letters, list bridge, HTTP ingest. */
export interface IngestRuntime {
  enrich: (events: StreamEvent[]) => Promise<void>;
  /** Dead-letters entries, each once (also across a crash); resolves with which were written now (not before a crash). */
  deadLetter(bad: Array<{ raw: RawEntry; reason: string }>): Promise<boolean[]>;
  service: IngestService;
  /** Counts (and now and then logs) events accepted with a value taken as absent (DecodeOptions.onCoerced). */
  coerced: (reason: string, n?: number) => void;
  /** At the start of the drain: HTTP bodies not yet being appended are refused ({@link IngestService.stopTaking}). */
  stopTaking(): void;
  close(): Promise<void>;
}

/** The router's side of ingest: geo and source-IP enrichment, dead letters (also built alone, in a router thread). */
export async function buildRouteIngest(deps: {
  config: () => Config;
  redis: RedisClient;
  logger: Logger;
  metrics: Metrics;
}): Promise<Pick<IngestRuntime, 'enrich' | 'deadLetter'>> {
  const { redis, logger, metrics } = deps;
  const cfg = deps.config();
  const geo: GeoIp | null = await openGeoIp(cfg);
  const spray = ipSprayEnricher(redis, new Keys(cfg.prefix, cfg.raw.engine.partitions), {
    behaviors: () => deps.config().behaviors,
    allowedLateness: () => deps.config().raw.state.allowed_lateness,
    onError: (err) => logger.warn({ err }, 'password_spray: reading the generation of its IP tallies failed (read again at the next batch)'),
  });
  return {
    // GeoIP first (a located login keeps its place), then each source IP's logins (password_spray).
    enrich: async (events: StreamEvent[]) => {
      geo?.enrichEvents(events);
      await spray(events);
    },
    deadLetter: async (bad) => {
      const c = deps.config();
      // Entries of the input streams (router) and partitions (owner): each dead-lettered once, also across a crash.
      const secrets = knownSecretsOf(c);
      const opts = { maxlen: c.raw.streams.maxlen, scrubPaths: c.raw.ingest.scrub_fields, once: true, secrets };
      const ids = await writeDeadLetters(redis, c.streams.deadLetter, bad, opts);
      const written = ids.map((id) => id !== '');
      bad.forEach((b, i) => written[i] && metrics.deadLettered.inc({ stream: b.raw.stream })); // not the ones written before a crash
      logger.warn({ count: bad.length, first: bad[0] ? scrubAll(bad[0].reason, secrets) : undefined }, 'entries dead-lettered');
      return written;
    },
  };
}

/** Builds the ingest side from config. */
export async function buildIngest(deps: { config: () => Config; redis: RedisClient; logger: Logger; metrics: Metrics }): Promise<IngestRuntime> {
  // A list that fails every pass (another Redis type under its key) is reported once a minute, each list apart.
  const throttle = new LogThrottle(60_000);
  const { metrics } = deps;
  const bridge: ListBridge = startListBridge(deps.redis, deps.config().raw.bridge, {
    onMove: (list, r) => {
      if (r.moved) metrics.bridgeMoved.inc({ list }, r.moved);
      metrics.bridgeBacklog.set({ list }, r.left);
    },
    onError: (err) => {
      const failed = isRiskstreamError(err, 'BRIDGE_FAILED') ? err.details : undefined;
      const list = failed ? String(failed.list) : '';
      if (failed) {
        metrics.bridgeFailures.inc({ list });
        // Items moved before the failure (an XADD refused part-way): moved all the same.
        if (Number(failed.moved)) metrics.bridgeMoved.inc({ list }, Number(failed.moved));
      }
      const ok = throttle.take(`${list}\n${err instanceof Error ? err.message.slice(-200) : String(err)}`);
      if (ok) deps.logger.warn({ err, repeats_not_logged: ok.suppressed }, 'list bridge pass failed (repeats of this failure are logged once a minute)');
    },
  });
  const coerced = coercedCounter(metrics, deps.logger);
  const service = createIngestService({ ...deps, onCoerced: coerced });
  return {
    ...(await buildRouteIngest(deps)),
    service,
    coerced,
    stopTaking: () => service.stopTaking(),
    close: () => bridge.stop(),
  };
}
