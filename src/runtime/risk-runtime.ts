import type { RedisClient } from '../redis/client.js';
import type { Logger } from '../obs/logger.js';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import { RiskStore } from '../risk/store.js';
import { OutboxRelay } from '../risk/outbox-relay.js';
import { RiskService } from '../risk/service.js';
import { UsersTable } from '../risk/users-table.js';
import { resetUser } from '../engine/offline-reset.js';
import { commitSettingsOf } from './engine.js';
import type { SsfRuntime } from './ssf.js';
import type { SessionsRuntime } from './sessions.js';

/** The risk side of the worker: the users' risk records, their outbox relay, and the services the API reads them through. */
export interface RiskRuntime {
  /** Moves committed outbox entries onward: SETs and response policies, the risk-events feed, the audit log. */
  relay: OutboxRelay;
  /** Reads and resets users' risk (the admin API). */
  risk: RiskService;
  /** The console's users table. */
  users: UsersTable;
}

/** Options of {@link buildRisk}. */
export interface RiskDeps {
  config: () => Config;
  redis: RedisClient;
  keys: Keys;
  /** Takes the level changes relayed (their SETs queued before the outbox entries go). */
  ssf: Pick<SsfRuntime, 'enqueueChanges'>;
  /** Takes the changes, hits and late logins relayed (the `responses:` policies), after their SETs are queued. */
  sessions: Pick<SessionsRuntime, 'respond'>;
  /** Where a reset's failed relay is told (the reset stands; the outbox relay's sweep sends its SET). */
  logger?: Pick<Logger, 'warn'>;
}

/**
 * Builds the risk side and relays what a previous run left in the outboxes: every user with a
 * non-empty outbox is marked pending, then the pending marks are relayed (before the engine starts).
 * Resets go through `resetUser` (src/engine/offline-reset.ts: through the partition's owner, or
 * applied here when none runs) with the running configuration's commit settings.
 */
export async function buildRisk(deps: RiskDeps): Promise<RiskRuntime> {
  const { redis, keys, ssf, sessions } = deps;
  const config = deps.config();
  const store = new RiskStore(redis, keys);
  const relay = new OutboxRelay(
    redis,
    keys,
    config.streams.riskEvents,
    (changes, hits, late) => ssf.enqueueChanges(changes).then(() => sessions.respond(changes, hits, late)), // responses: before the outbox entries go
    config.raw.streams.maxlen,
    config.streams.audit,
  );
  const onRelayFailed = relayFailedLog(deps.logger);
  const risk = new RiskService(redis, keys, store, (req) =>
    resetUser(redis, keys, req, { ...commitSettingsOf(deps.config()), onRelayFailed }, (users) => relay.relay(users)),
  );
  await relay.recover();
  await relay.relayPending();
  return { relay, risk, users: new UsersTable(redis, keys, store) };
}

/** Logs a reset's relay that failed after its commit landed (the reset stands; the SET waits for the outbox relay's sweep). */
export function relayFailedLog(logger: Pick<Logger, 'warn'> | undefined): (err: unknown) => void {
  return (err) => logger?.warn({ err }, "a reset's relay failed after it was committed: its SET and audit entry wait for the outbox relay's next sweep");
}
