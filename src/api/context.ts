import type { Config } from '../config/load.js';
import type { Logger } from '../obs/logger.js';
import type { Metrics } from '../obs/metrics.js';
import type { TokenSet } from './auth.js';

/** Readiness of the worker's parts, for `/readyz`. */
export interface Readiness {
  ok: boolean;
  checks: Record<string, boolean>;
  /** Why a failed check failed, when known (e.g. `pipeline`: stalled while input waits). */
  reasons?: Record<string, string>;
  /** A stable code per failed check, for scripts and probes (`pipeline`: `router_stalled`, `partitions_stalled`, `input_stuck`, …). */
  codes?: Record<string, string>;
  /** What is stalled, when `codes.pipeline` says a stage is (`router`: its input streams and backlog; `partitions`: their numbers). */
  stalled?: {
    router?: { streams: string[]; lag: number; pending: number; seconds: number };
    partitions?: { partitions: number[]; seconds: number };
  };
}

/**
 * What the server itself and every route module share: the configuration, the tokens and the
 * logger. Services are not here: each route module takes the ones it uses as typed arguments
 * (`riskRoutes({ risk })`), so a missing or misspelled service is a compile error.
 */
export interface ApiContext {
  /** The configuration in force (changes on reload). */
  config(): Config;
  tokens: TokenSet;
  logger: Logger;
  /** The worker's metrics (failed authentications are counted there); none: not counted. */
  metrics?: Metrics;
  /** The clock of the API's own throttles (failed authentications); default `Date.now`. */
  now?: () => number;
  /** False while Redis is unreachable: routes that need it answer 503 at once instead of waiting. */
  redisUp?: () => boolean;
  /** Why Redis does not answer a PING now (undefined: it does); never waits long. Arms http.redis_timeout. */
  redisProblem?: () => Promise<string | undefined>;
}
