import type { Redis } from 'ioredis';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../obs/logger.js';
import type { TokenSet } from './auth.js';
import { RiskstreamError } from '../errors.js';

/** Readiness of the worker's parts, for `/readyz`. */
export interface Readiness {
  ok: boolean;
  checks: Record<string, boolean>;
  /** Why a failed check failed, when known (e.g. `pipeline`: stalled while input waits). */
  reasons?: Record<string, string>;
}

/**
 * Everything route modules may use. Services are optional so the API can run with only
 * the parts a process has (e.g. a CLI-only API in tests).
 */
export interface ApiContext {
  /** The configuration in force (changes on reload). */
  config(): Config;
  redis: Redis;
  keys: Keys;
  audit: AuditLog;
  logger: Logger;
  tokens: TokenSet;
  readiness(): Promise<Readiness>;
  /** Prometheus exposition text. */
  metrics?(): Promise<{ contentType: string; body: string }>;
  /** Public JWKS document. */
  jwks?(): Promise<{ keys: unknown[] }>;
  /** Named services registered by the worker (risk, sessions, ingest, ssf …). */
  services: Record<string, unknown>;
}

/** Fetches a named service or throws `UNAVAILABLE` (503). */
export function service<T>(ctx: ApiContext, name: string): T {
  const s = ctx.services[name];
  if (!s) throw new RiskstreamError('UNAVAILABLE', `${name} service not running`);
  return s as T;
}
