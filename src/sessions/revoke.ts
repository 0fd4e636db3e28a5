import { RiskstreamError } from '../errors.js';
import type { AuditLog } from '../audit/audit-log.js';
import type { SessionStore } from './store.js';
import type { RevokedCopy, RevokeMeta } from './store-revoke.js';
import { storedSessionId, type SessionIdentity } from './identity.js';
import type { SessionRevocation } from './revocation.js';

export type { SessionRevocation } from './revocation.js';
export { revocationId } from './revocation.js';

/** The reason of an admin's revocation that gives none (API and CLI alike). */
export const DEFAULT_REVOKE_REASON = 'revoked by admin';

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

/** A session id's revocation: the first copy revoked, and every copy (users of different partitions who logged in with the id). */
export interface RevokedSessionCopies extends RevokedSession {
  copies: RevokedSession[];
}

/**
 * Revokes a session: deletes it (store), writes a `session.revoked` audit entry, then hands the
 * change to `onRevoked` — for each user holding a copy of the id, one copy at a time; returns the
 * earliest login's. Unknown or expired id → NOT_FOUND. If the sink fails the session stays
 * revoked, a `session.revoke_notify_failed` audit entry is written and INTERNAL is thrown (copies
 * not reached yet stay live). `copies` holds every copy revoked.
 */
export async function revokeSession(deps: RevokeDeps, id: string, opts: RevokeOptions): Promise<RevokedSessionCopies> {
  // Users of different partitions who logged in with one id each hold a copy: each is told, as it is revoked.
  const out: RevokedSession[] = [];
  await deps.store.revokeCopies(id, metaOf(deps, opts), undefined, notifyInto(deps, out));
  if (!out.length) {
    const sid = storedSessionId(id).slice(0, 200); // never echo a pasted token
    throw new RiskstreamError('NOT_FOUND', `no active session ${JSON.stringify(sid)}`, { session: sid });
  }
  return { ...out[0]!, copies: out };
}

/** Revokes every active session of a user (each audited and notified); returns what was revoked. */
export async function revokeUserSessions(deps: RevokeDeps, user: string, opts: RevokeOptions): Promise<RevokedSession[]> {
  // Each session is told as it is revoked: a failure stops there, and the rest stay live for a retry.
  const out: RevokedSession[] = [];
  await deps.store.revokeUser(user, metaOf(deps, opts), notifyInto(deps, out));
  return out;
}

/**
 * Revokes one of a user's sessions by id, the user's copy only (audited and notified), and with
 * `startedBefore` only when its login is before that; returns it, or nothing when not active.
 */
export async function revokeUserSession(deps: RevokeDeps, user: string, id: string, opts: RevokeOptions, startedBefore?: number): Promise<RevokedSession[]> {
  const out: RevokedSession[] = [];
  await deps.store.revokeCopies(id, metaOf(deps, opts), user, notifyInto(deps, out), startedBefore);
  return out;
}

/** The store's revocation meta: who, why, and now (`deps.now`). */
const metaOf = (deps: RevokeDeps, opts: RevokeOptions): RevokeMeta => ({ ...opts, time: (deps.now ?? Date.now)() });

/** Tells of each copy the store revokes, as it goes, collecting them in `out`. */
function notifyInto(deps: RevokeDeps, out: RevokedSession[]): RevokedCopy {
  return async (identity, change, part) => {
    await tell(deps, change, part, false);
    await deps.store.noticeTold(part, change.id);
    out.push({ identity, change });
  };
}

/**
 * Tells of a revocation: its `session.revoked` audit entry (unless `audited`: written before, and
 * marked), then its SETs queued (deterministic job ids: queued again after a crash, still one per
 * receiver). If the sink fails, a `session.revoke_notify_failed` entry is written and INTERNAL
 * thrown: the notice stays, for a drain.
 */
async function tell(deps: RevokeDeps, change: SessionRevocation, part: number, audited: boolean): Promise<void> {
  const { time, sessionId, user } = change;
  if (!audited) {
    // Once per revocation: a crash between this entry and its mark below leaves it unmarked, and the drain that tells it then writes no second one.
    await deps.audit.writeOnce(change.id, {
      action: 'session.revoked',
      actor: change.actor,
      target: sessionId,
      details: { user, reason: change.reason, change_id: change.id },
      time,
    });
    // Marked: a later teller (the sink failed, or this process stops now) does not write it again.
    await deps.store.noticeAudited(part, change.id);
  }
  try {
    await deps.onRevoked(change);
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    await deps.audit.write({
      action: 'session.revoke_notify_failed',
      actor: 'system',
      target: sessionId,
      details: { user, change_id: change.id, error: message.slice(0, 500) },
      time,
    });
    throw new RiskstreamError(
      'INTERNAL',
      `session ${sessionId} revoked, but the session-revoked event could not be queued`,
      { session: sessionId },
      { cause: err },
    );
  }
}

/** How long a notice's teller may take before a drain tells it instead (ms). */
export const NOTICE_STALE_MS = 30_000;

/**
 * Tells the revocations whose revoker stopped before telling them (a crash, a kill between the
 * deletion and its audit entry or SETs), in partitions `parts`: each claimed (one drain at a time;
 * the revoker's own claim counts), audited, queued, removed. Returns how many were told; a failing
 * one stays, for the next drain.
 */
export async function drainRevocationNotices(deps: RevokeDeps, parts: readonly number[], staleMs = NOTICE_STALE_MS): Promise<number> {
  let told = 0;
  for (const p of parts) {
    for (const { notice, audited } of await deps.store.claimNotices(p, staleMs)) {
      const { claimed_at: _, ...change } = notice;
      try {
        await tell(deps, change, p, audited);
      } catch {
        continue; // audited as session.revoke_notify_failed; the notice stays for the next drain
      }
      await deps.store.noticeTold(p, notice.id);
      told++;
    }
  }
  return told;
}
