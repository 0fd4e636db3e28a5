import type { RedisClient } from '../redis/client.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { SetQueue } from './queue.js';
import { SsfStreamStore } from './streams.js';
import { StreamService } from './stream-service.js';
import { configOwners } from './stream-owner.js';

/**
 * The stream service for a configuration: streams in Redis, SETs to `queue`, signed with the
 * configured `signing.alg`, with the configured `issuer`, within `ssf.limits`; a stream created
 * with a token no longer configured gets nothing.
 */
export function createStreamService(redis: RedisClient, keys: Keys, queue: SetQueue, audit: AuditLog, config: () => Config): StreamService {
  return new StreamService(
    redis,
    new SsfStreamStore(redis, keys),
    queue,
    audit,
    () => config().raw.issuer,
    1000,
    () => config().raw.signing.alg,
    () => config().raw.ssf,
    undefined,
    () => configOwners(config()),
  );
}
