/**
 * The records every worker of a prefix shares that a worker writes at its start (and each reload):
 * the partition count (src/engine/partition-count.ts), the behaviors' on-epochs
 * (src/engine/behavior-epochs.ts) and its entry of the receivers it has on (src/ssf/receivers-on.ts).
 * A Redis that keeps nothing on disk may restart empty while the workers run on (they reconnect):
 * each worker's upkeep writes them again when they are gone, a few commands per run (SET NX, one
 * script, HSETNX), never per event. A prefix found holding another partition count while this
 * worker runs (another worker with another `engine.partitions` started while the record was gone)
 * stops this worker's engine, as its start would have refused: users' state and routed input must
 * not be read and written under two partitionings (docs/operations.md).
 */
import type { Config } from '../config/load.js';
import { restoreBehaviors } from '../engine/behavior-epochs.js';
import { recordPartitionCountAgain } from '../engine/partition-count.js';
import { isRiskstreamError } from '../errors.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import type { RedisClient } from '../redis/client.js';
import type { BehaviorEpochs } from '../risk/behavior-epochs.js';
import { recordReceiversOnAgain } from '../ssf/receivers-on.js';
import type { EngineRuntime } from './engine-types.js';

/** What {@link restoreSharedRecords} works with. */
export interface SharedRecordsDeps {
  redis: RedisClient;
  keys: Keys;
  /** The running configuration. */
  config: () => Config;
  workerId: string;
  /** The stream owner ids the worker's SSF runtime records as its tokens' (SsfRuntime.ownersOn); absent: none. */
  owners?: () => Iterable<string>;
  /** The on-epochs this worker's owners follow (never put back below them). */
  epochs: () => BehaviorEpochs;
  /** The engine: halted on another partition count; once halted, nothing is written. */
  engine: Pick<EngineRuntime, 'halted' | 'halt'>;
  logger: Logger;
}

/**
 * Writes again the shared records that are gone (one upkeep run); a Redis error rejects (retried at
 * the next run). Another partition count recorded halts the engine (logged as an error, CONFIG_INVALID).
 */
export async function restoreSharedRecords(d: SharedRecordsDeps): Promise<void> {
  if (d.engine.halted()) return; // a stopped engine's count and entries are not the prefix's any more
  const config = d.config();
  const [count, epochs, receivers] = await Promise.allSettled([
    recordPartitionCountAgain(d.redis, d.keys),
    restoreBehaviors(d.redis, d.keys, config.behaviors, d.epochs()),
    recordReceiversOnAgain(d.redis, d.keys, d.workerId, config.receivers, d.owners?.() ?? []),
  ]);
  if (count.status === 'rejected' && isRiskstreamError(count.reason, 'CONFIG_INVALID')) {
    d.logger.error({ err: count.reason, worker: d.workerId }, 'the prefix holds another partition count now: stopped processing');
    d.engine.halt(`stopped: the prefix's data is recorded with another engine.partitions than this worker's ${d.keys.partitions}`);
    return;
  }
  const put = [count, epochs, receivers].map((r) => r.status === 'fulfilled' && r.value);
  if (put.some(Boolean))
    d.logger.warn(
      { partitions: put[0], behavior_epochs: put[1], receivers_on: put[2] },
      'shared records were missing in Redis (restarted empty?): written again',
    );
  const failed = [count, epochs, receivers].find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;
}
