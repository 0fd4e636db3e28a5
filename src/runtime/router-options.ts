import type { Config } from '../config/load.js';
import type { DecodeOptions } from '../ingest/decode.js';
import { timeWindowOf } from '../ingest/time-window.js';
import type { RouterOptions } from '../engine/router-types.js';

/** The router's settings from config (one consumer name for every router: a successor re-reads the pending entries). */
export function routerOptionsOf(config: Config): RouterOptions {
  const cfg = config.raw;
  return {
    sources: config.streams.inputs,
    group: config.streams.group,
    consumer: 'riskstream-router',
    count: cfg.streams.batch_size,
    ...(cfg.redis.wait_replicas ? { wait: { replicas: cfg.redis.wait_replicas, timeoutMs: cfg.redis.wait_timeout } } : {}),
  };
}

/** How input entries are decoded (mapping, time window, scrubbed fields), from config. */
export function decodeOptionsOf(config: Config): DecodeOptions {
  return {
    mapping: config.raw.mapping,
    window: timeWindowOf(config.raw.ingest),
    scrubFields: config.raw.ingest.scrub_fields,
    maxEventSize: config.raw.ingest.max_event_size,
  };
}
