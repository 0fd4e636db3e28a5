/**
 * A worker's periodic upkeep, beside the engine: the shared records a Redis restarted empty lost
 * written again, the outbox relayed again, session revocations a crashed revoker left untold
 * drained, and the inputs trimmed — one run at a time, every `state.sweep_interval`.
 */
import type { Subscription } from 'rxjs';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { Logger } from '../obs/logger.js';
import type { RedisClient } from '../redis/client.js';
import type { OutboxRelay } from '../risk/outbox-relay.js';
import { trimInputs } from '../ingest/trim.js';
import { expirySweep } from '../../pipelines/expiry-sweep.js';
import type { SessionsRuntime } from './sessions.js';

/** How often the session revocations a crashed revoker left untold are looked for (ms). */
const NOTICE_DRAIN_MS = 10_000;

/** What the upkeep works on. */
export interface UpkeepDeps {
  config: () => Config;
  redis: RedisClient;
  keys: Keys;
  relay: OutboxRelay;
  sessions: SessionsRuntime;
  /** Whether this worker owns partition `p` now. */
  owns: (p: number) => boolean;
  /** Writes again the shared records a Redis restarted empty lost (src/runtime/shared-records.ts). */
  restore?: () => Promise<void>;
  logger: Logger;
}

/** Starts the upkeep (shared records, outbox recovery, untold revocations, input trimming); unsubscribe to stop it. */
export function startUpkeep(d: UpkeepDeps): Subscription {
  let lastTrim = 0;
  let lastNotices = 0;
  return expirySweep({
    everyMs: d.config().raw.state.sweep_interval,
    sweep: async () => {
      // First, on its own: a failure here holds back neither the outbox nor the trimming.
      await d.restore?.().catch((err: unknown) => d.logger.warn({ err }, 'shared records not checked; retrying next interval'));
      await d.relay.relayPending({ owns: (p) => d.owns(p) });
      // Session revocations a crashed revoker deleted but did not tell (audit entry, SETs): told by the partition's owner.
      if (Date.now() - lastNotices > NOTICE_DRAIN_MS) {
        lastNotices = Date.now();
        const told = await d.sessions.service.drainNotices(d.keys.partitionList.filter((p) => d.owns(p)));
        if (told) d.logger.warn({ told }, 'session revocations told after their revoker stopped (audit entries and SETs)');
      }
      if (Date.now() - lastTrim > 60_000) {
        lastTrim = Date.now();
        const config = d.config();
        await trimInputs(d.redis, [...config.streams.inputs, d.keys.controlStream], config.streams.group, config.raw.streams.input_retention);
      }
    },
    onError: (err) => d.logger.warn({ err }, 'outbox/trim run failed; retrying next interval'),
  }).subscribe();
}
