import type { Redis } from 'ioredis';
import { AuditLog } from '../audit/audit-log.js';
import type { Config } from '../config/load.js';
import { Keys } from '../keys.js';
import { createLogger } from '../obs/logger.js';
import { RiskService } from '../risk/service.js';
import { RiskStore } from '../risk/store.js';
import { buildSsf, type SsfRuntime } from './ssf.js';

/** Services for one-shot CLI commands: risk and audit, with SETs queued (delivered by the workers). */
export interface CliServices {
  risk: RiskService;
  audit: AuditLog;
  ssf: SsfRuntime;
  close(): Promise<void>;
}

/** Builds CLI services on an open connection (no delivery worker: the running workers deliver). */
export async function cliServices(config: Config, redis: Redis): Promise<CliServices> {
  const keys = new Keys(config.prefix, config.raw.engine.partitions);
  const logger = createLogger(process.env.RISKSTREAM_LOG_LEVEL ?? 'error');
  const audit = new AuditLog(redis, config.streams.audit, config.raw.streams.maxlen);
  const ssf = await buildSsf({ config: () => config, redis, keys, audit, logger, deliver: false });
  const store = new RiskStore(redis, keys);
  // A reset is applied by the user's partition owner (a running worker), in order with the user's events.
  return { risk: new RiskService(redis, keys, store), audit, ssf, close: () => ssf.close() };
}
