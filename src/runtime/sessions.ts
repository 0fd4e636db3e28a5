import type { RedisClient } from '../redis/client.js';
import type { Config } from '../config/load.js';
import type { Keys } from '../keys.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { Logger } from '../obs/logger.js';
import type { EntryRef, StreamEvent } from '../types.js';
import { createSessionService, createSessionStore, type SessionService } from '../sessions/service.js';
import { setQueueSink } from '../sessions/set-sink.js';
import { identityBuilder } from '../../pipelines/session-audit.js';
import type { PutResult } from '../sessions/store.js';
import type { OwnerParts } from '../engine/owner.js';
import { sessionUseEnricher } from '../sessions/captured.js';
import { responsePolicy } from '../sessions/response-policy.js';
import type { LevelChange } from '../types.js';
import type { UserHit, UserLateLogin } from '../risk/outbox-entries.js';
import type { SsfRuntime } from './ssf.js';

/** The session-audit side: store, pipeline stage, service for API and CLI. */
export interface SessionsRuntime {
  /** The engine's side of session audit: identities built at apply time, written in the partition's commit. */
  engine: OwnerParts['sessions'];
  /** Enrich stage: attaches each session use's captured login identity (for session_hijack). */
  enrich(events: StreamEvent[]): Promise<void>;
  /** Outbox-relay hook: the `responses:` policies (revoke a user's sessions; a late login's session). */
  respond(changes: LevelChange[], hits: UserHit[], late?: UserLateLogin[]): Promise<void>;
  service: SessionService;
}

/** Builds the session-audit side; revocations queue CAEP session-revoked SETs. */
export function buildSessions(deps: {
  config: () => Config;
  redis: RedisClient;
  keys: Keys;
  audit: AuditLog;
  logger: Logger;
  ssf: SsfRuntime;
}): SessionsRuntime {
  const store = createSessionStore(deps.redis, deps.keys, () => deps.config().raw.sessions);
  const service = createSessionService({
    store,
    audit: deps.audit,
    onRevoked: setQueueSink(deps.ssf.setQueue, () => deps.config().receivers, deps.ssf.streams),
  });
  const onInvalid = (ref: EntryRef, err: unknown): void => deps.logger.warn({ stream: ref.stream, id: ref.id, err }, 'session identity skipped');
  const build = identityBuilder(() => deps.config().raw.sessions, { onInvalid });
  // A session id bound to another user is never rebound (issue 13 row 7): audited, logged; the event is still scored.
  const after = async (r: PutResult): Promise<void> => {
    for (const x of r.refused ?? []) {
      deps.logger.warn({ session_id: x.session_id, user: x.user, owner: x.owner }, 'session id bound to another user: login not bound to it');
      await deps.audit.write({ action: 'session.rebind_refused', actor: 'system', target: x.session_id, details: { user: x.user, owner: x.owner } });
    }
    // The user's own sign-out (the IdP's log has it): no audit entry, riskstream decided nothing.
    for (const x of r.signedOut ?? []) deps.logger.debug({ session_id: x.session_id, user: x.user }, 'session ended by sign-out');
  };
  return {
    // Read per step, so a reload that turns session audit on or off applies from the next step.
    engine: {
      build: (events) => (deps.config().raw.sessions.enabled ? build(events) : []),
      prepare: (identities) => store.prepare(identities),
      after,
      enabled: () => deps.config().raw.sessions.enabled,
      lifetime: () => deps.config().raw.sessions.default_lifetime,
    },
    enrich: sessionUseEnricher(store, () => ({
      sessionsEnabled: deps.config().raw.sessions.enabled,
      behaviors: deps.config().behaviors,
      lifetime: deps.config().raw.sessions.default_lifetime,
    })),
    respond: responsePolicy({
      redis: deps.redis,
      keys: deps.keys,
      rules: () => deps.config().responses,
      sessions: service,
      onRevoked: (t, revoked) => deps.logger.info({ user: t.user, trigger: t.marker, sessions: revoked.length }, 'response policy revoked sessions'),
    }),
    service,
  };
}
