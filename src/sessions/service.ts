import type { RedisClient } from '../redis/client.js';
import type { Keys } from '../keys.js';
import type { AuditLog } from '../audit/audit-log.js';
import { SessionStore, type SessionStoreOptions } from './store.js';
import type { SessionSettings } from './identity.js';
import {
  drainRevocationNotices,
  revokeSession,
  revokeUserSession,
  revokeUserSessions,
  type RevocationSink,
  type RevokedSession,
  type RevokedSessionCopies,
  type RevokeOptions,
} from './revoke.js';

/** What the admin API (`services.sessions`) and the CLI use. */
export interface SessionService {
  store: SessionStore;
  /** Revokes one session id, every user's copy of it (audited, sink called); NOT_FOUND when unknown or expired. */
  revoke(id: string, opts: RevokeOptions): Promise<RevokedSessionCopies>;
  /** Revokes all of a user's active sessions. */
  revokeUser(user: string, opts: RevokeOptions): Promise<RevokedSession[]>;
  /** Revokes one of a user's sessions (that user's copy of the id; with `startedBefore`, one whose login is before it); nothing when it is not active. */
  revokeUserSession(user: string, id: string, opts: RevokeOptions, startedBefore?: number): Promise<RevokedSession[]>;
  /** Tells the revocations of partitions `parts` whose revoker stopped before telling them; returns how many. */
  drainNotices(parts: readonly number[]): Promise<number>;
}

/** Builds the session service from a store, the audit log and the revocation sink. */
export function createSessionService(deps: { store: SessionStore; audit: AuditLog; onRevoked: RevocationSink; now?: () => number }): SessionService {
  return {
    store: deps.store,
    revoke: (id, opts) => revokeSession(deps, id, opts),
    revokeUser: (user, opts) => revokeUserSessions(deps, user, opts),
    revokeUserSession: (user, id, opts, startedBefore) => revokeUserSession(deps, user, id, opts, startedBefore),
    drainNotices: (parts) => drainRevocationNotices(deps, parts),
  };
}

/** Convenience: a store bound to the live `sessions` settings (re-read on every put for reloads); `opts`: a clock, read-only reads. */
export function createSessionStore(
  redis: RedisClient,
  keys: Keys,
  settings: () => SessionSettings,
  opts: Pick<SessionStoreOptions, 'now' | 'readOnly'> = {},
): SessionStore {
  return new SessionStore(redis, keys, { maxPerUser: () => settings().max_per_user, redactClaims: () => settings().redact_claims, ...opts });
}
