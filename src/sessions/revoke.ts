import { createHash } from 'node:crypto';
import { RiskstreamError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { SessionStore } from './store.js';
import { storedSessionId, type SessionIdentity } from './identity.js';

/** A revoked session, handed to the sink that queues the CAEP session-revoked SET. */
export interface SessionRevocation {
  /** Deterministic change id (same session → same id), usable as the delivery job id / SET `txn`. */
  id: string;
  user: string;
  sessionId: string;
  reason: string;
  actor: string;
  /** When it was revoked (epoch ms). */
  time: number;
}

/** Receives revocations (the lead wires it to the SET delivery queue). */
export type RevocationSink = (r: SessionRevocation) => Promise<void> | void;

/** What {@link revokeSession} needs. */
export interface RevokeDeps {
  store: SessionStore;
  audit: AuditLog;
  onRevoked: RevocationSink;
  now?: () => number;
}

/** Who revokes and why. */
export interface RevokeOptions {
  actor: string;
  reason: string;
}

/** The outcome of one revocation: the identity that was removed and the change sent on. */
export interface RevokedSession {
  identity: SessionIdentity;
  change: SessionRevocation;
}

/**
 * Deterministic change id of a session's revocation: one per session copy (id, login time and
 * user: users of different partitions who logged in with one id at one time are each told).
 */
export function revocationId(s: Pick<SessionIdentity, 'session_id' | 'login_at' | 'user'>): string {
  return `session-revoked:${createHash('sha256').update(`${s.session_id}\n${s.login_at}\n${s.user}`).digest('hex').slice(0, 32)}`;
}

/**
 * Revokes a session: deletes it (store), writes a `session.revoked` audit entry, then hands the
 * change to `onRevoked` — for each user holding a copy of the id, one copy at a time; returns the
 * earliest login's. Unknown or expired id → NOT_FOUND. If the sink fails the session stays
 * revoked, a `session.revoke_notify_failed` audit entry is written and INTERNAL is thrown (copies
 * not reached yet stay live).
 */
export async function revokeSession(deps: RevokeDeps, id: string, opts: RevokeOptions): Promise<RevokedSession> {
  // Users of different partitions who logged in with one id each hold a copy: each is told, as it is revoked.
  const out: RevokedSession[] = [];
  await deps.store.revokeCopies(id, opts, undefined, async (identity) => void out.push(await notify(deps, identity, opts)));
  if (!out.length) {
    const sid = storedSessionId(id).slice(0, 200); // never echo a pasted token
    throw new RiskstreamError('NOT_FOUND', `no active session ${JSON.stringify(sid)}`, { session: sid });
  }
  return out[0]!;
}

/** Revokes every active session of a user (each audited and notified); returns what was revoked. */
export async function revokeUserSessions(deps: RevokeDeps, user: string, opts: RevokeOptions): Promise<RevokedSession[]> {
  // Each session is told as it is revoked: a failure stops there, and the rest stay live for a retry.
  const out: RevokedSession[] = [];
  await deps.store.revokeUser(user, opts, async (identity) => void out.push(await notify(deps, identity, opts)));
  return out;
}

async function notify(deps: RevokeDeps, identity: SessionIdentity, opts: RevokeOptions): Promise<RevokedSession> {
  const time = (deps.now ?? Date.now)();
  const change: SessionRevocation = {
    id: revocationId(identity),
    user: identity.user,
    sessionId: identity.session_id,
    reason: opts.reason,
    actor: opts.actor,
    time,
  };
  await deps.audit.write({
    action: 'session.revoked',
    actor: opts.actor,
    target: identity.session_id,
    details: { user: identity.user, reason: opts.reason, change_id: change.id },
    time,
  });
  try {
    await deps.onRevoked(change);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await deps.audit.write({
      action: 'session.revoke_notify_failed',
      actor: 'system',
      target: identity.session_id,
      details: { user: identity.user, change_id: change.id, error: message.slice(0, 500) },
      time,
    });
    throw new RiskstreamError(
      'INTERNAL',
      `session ${identity.session_id} revoked, but the session-revoked event could not be queued`,
      { session: identity.session_id },
      { cause: err },
    );
  }
  return { identity, change };
}
