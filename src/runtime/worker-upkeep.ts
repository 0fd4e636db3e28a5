/**
 * A worker's periodic upkeep, beside the engine: the shared records a Redis restarted empty lost
 * written again, the outbox relayed again, session revocations a crashed revoker left untold
 * drained, the inputs trimmed and expired sessions taken out of the session indexes of the
 * partitions it owns — one run at a time, every `state.sweep_interval`.
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
/** How often the owned partitions' session indexes lose their expired sessions' members (ms). */
const SESSION_PRUNE_MS = 10_000;
/** Most prune passes (each up to 500 members a partition) one upkeep run makes. */
const SESSION_PRUNE_ROUNDS = 20;

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

/** Starts the upkeep (shared records, outbox recovery, untold revocations, input trimming, session indexes); unsubscribe to stop it. */
export function startUpkeep(d: UpkeepDeps): Subscription {
  let lastTrim = 0;
  let lastNotices = 0;
  let lastPrune = 0;
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
      // The partitions' session indexes keep a member per session until it is pruned: listing
      // sessions prunes too, but a deployment that never lists them relies on this.
      if (Date.now() - lastPrune > SESSION_PRUNE_MS) {
        lastPrune = Date.now();
        const owned = d.keys.partitionList.filter((p) => d.owns(p));
        for (let i = 0; i < SESSION_PRUNE_ROUNDS && owned.length; i++) if (!(await d.sessions.service.store.pruneExpired(owned))) break;
      }
    },
    onError: (err) => d.logger.warn({ err }, 'outbox/trim run failed; retrying next interval'),
  }).subscribe();
}
