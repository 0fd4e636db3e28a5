import type { RedisClient } from '../redis/client.js';
import { AuditLog } from '../audit/audit-log.js';
import { envLogLevelProblem, type Config } from '../config/load.js';
import { Keys } from '../keys.js';
import { RiskstreamError } from '../errors.js';
import { createLogger } from '../obs/logger.js';
import { RiskService } from '../risk/service.js';
import { RiskStore } from '../risk/store.js';
import { OutboxRelay } from '../risk/outbox-relay.js';
import { buildSessions } from './sessions.js';
import { resetUser } from '../engine/offline-reset.js';
import { commitSettingsOf } from './engine.js';
import { relayFailedLog } from './risk-runtime.js';
import { buildSsf, type SsfRuntime } from './ssf.js';

/** Services for one-shot CLI commands: risk and audit, with SETs queued (delivered by the workers). */
export interface CliServices {
  risk: RiskService;
  audit: AuditLog;
  ssf: SsfRuntime;
  close(): Promise<void>;
}

/** Builds CLI services on an open connection (no delivery worker: the running workers deliver). */
export async function cliServices(config: Config, redis: RedisClient): Promise<CliServices> {
  const level = envLogLevelProblem();
  if (level) throw new RiskstreamError('CONFIG_INVALID', level);
  const keys = new Keys(config.prefix, config.raw.engine.partitions);
  const logger = createLogger(process.env.RISKSTREAM_LOG_LEVEL || 'error');
  const audit = new AuditLog(redis, config.streams.audit, config.raw.streams.maxlen);
  const ssf = await buildSsf({ config: () => config, redis, keys, audit, logger, deliver: false, auditReceivers: false });
  const store = new RiskStore(redis, keys);
  // A reset goes through the user's partition owner when a worker runs (in order with the user's
  // events); with none, the CLI commits it itself and relays the outbox (the SET waits in the queue).
  const sessions = buildSessions({ config: () => config, redis, keys, audit, logger, ssf });
  const sink = (c: Parameters<SsfRuntime['enqueueChanges']>[0], hits: Parameters<typeof sessions.respond>[1], late: Parameters<typeof sessions.respond>[2]) =>
    ssf.enqueueChanges(c).then(() => sessions.respond(c, hits, late));
  const relay = new OutboxRelay(redis, keys, config.streams.riskEvents, sink, config.raw.streams.maxlen, config.streams.audit);
  const onRelayFailed = relayFailedLog(logger);
  const risk = new RiskService(redis, keys, store, (req) =>
    resetUser(redis, keys, req, { ...commitSettingsOf(config), onRelayFailed }, (users) => relay.relay(users)),
  );
  return { risk, audit, ssf, close: () => ssf.close() };
}
