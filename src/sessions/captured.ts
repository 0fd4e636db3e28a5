/**
 * The I/O edge of session_hijack: attaches to every event that uses a session (carries
 * `session.id` and is not a successful login that starts one: a refresh is a use) the baseline its
 * session's record gives (src/sessions/baseline.ts: the login that started the session, while the
 * use lies in the session's window), for the pure detector (src/detect/session-hijack.ts) to
 * compare. The record is the stored identity (src/sessions/store.ts), else one a login routed
 * lately left, folded with the batch's own session logins in stream order (stored beside scoring,
 * so not yet readable). A session riskstream never saw gets nothing, so it is never flagged. The
 * partition owner, which holds the whole record, has the last word (src/engine/pending-sessions.ts).
 */
import { attachCaptured, markRevoked } from '../detect/captured-session.js';
import type { CanonicalEvent, StreamEvent } from '../types.js';
import { baselineAt, DEFAULT_SESSION_LIFETIME, recordAfter } from './baseline.js';
import { attachStored, isSessionLogin, storedSessionId, type SessionIdentity } from './identity.js';
import { isSessionSignOut, signedOut } from './sign-out.js';
import { sessionPairKey } from './pair-key.js';
import type { SessionStore } from './store.js';
import { LRUCache } from 'lru-cache';

/**
 * The stored id of the session `e` carries: every event with a session id uses it — a login too,
 * when its user logged in with that id earlier (the detector and the identity builder tell).
 */
export function usesSession(e: CanonicalEvent): string | undefined {
  const id = e.session?.id as unknown;
  return (typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id)) ? storedSessionId(String(id)) : undefined;
}

/** The key of a user's session: user and stored session id (the router's memory, the partition owner's). */
export { sessionPairKey };

/**
 * The session records (src/sessions/baseline.ts) this router's session logins left lately, by user
 * and stored session id, for session uses routed after their login but before its identity is
 * committed (the owner commits beside routing, possibly in another thread). Bounded: the oldest
 * entries go first.
 */
export class RecentLogins {
  private readonly records: LRUCache<string, { r: SessionIdentity; at: number }>;
  /**
   * `freshMs`: how long after routing a record stands in for the stored identity while the store
   * has none — by then its commit has landed and the store is the word (a session trimmed since is
   * no baseline); an owner still behind attaches the record it holds itself (src/engine/pending-sessions.ts).
   */
  constructor(
    max = 50_000,
    private readonly freshMs = 30_000,
  ) {
    this.records = new LRUCache({ max });
  }
  /** Remembers the records a batch's session logins left, by `user\u0000sid`. */
  remember(records: ReadonlyMap<string, SessionIdentity>, now = Date.now()): void {
    for (const [k, r] of records) this.records.set(k, { r, at: now });
  }
  /** The record of session `user`/`sid` routed lately, unless no longer fresh. */
  get(user: string, sid: string, now = Date.now()): SessionIdentity | undefined {
    const x = this.records.get(sessionPairKey(user, sid));
    return x && now - x.at <= this.freshMs ? x.r : undefined;
  }
}

/**
 * Looks up the sessions a batch's events use (one concurrent GET per distinct session and user, in
 * the user's partition, where the user's logins stored it) and attaches to each use the baseline
 * its session's record gives as the use is reached in stream order (src/sessions/baseline.ts: none
 * outside the record's window): the stored identity, else the record of a login routed in an
 * earlier batch whose commit has not landed (`recent`), folded with the batch's session logins
 * before the use. A session login also gets the stored identity it extends. `lifetime`:
 * `sessions.default_lifetime`.
 */
export async function attachCapturedSessions(
  store: Pick<SessionStore, 'lookupMany'>,
  events: readonly StreamEvent[],
  recent?: RecentLogins,
  lifetime = DEFAULT_SESSION_LIFETIME,
): Promise<void> {
  const uses = new Map<StreamEvent, string>();
  const pairs = new Map<string, { sid: string; user: string }>();
  for (const se of events) {
    attachCaptured(se.event, undefined);
    attachStored(se.event, undefined);
    markRevoked(se.event, false);
    const sid = usesSession(se.event);
    if (sid === undefined) continue;
    const k = sessionPairKey(se.event.user, sid);
    uses.set(se, k);
    pairs.set(k, { sid, user: se.event.user });
  }
  if (uses.size === 0) return;
  const list = [...pairs];
  const stored = await store.lookupMany(list.map(([, p]) => p));
  const records = new Map<string, SessionIdentity | undefined>();
  const identities = new Map<string, SessionIdentity>();
  const revoked = new Set<string>();
  list.forEach(([k, p], i) => {
    // A revoked session has no baseline: neither its stored login (gone) nor one routed before.
    if (stored[i]!.revoked) return void revoked.add(k);
    const s = stored[i]!.s ?? undefined;
    if (s) identities.set(k, s);
    records.set(k, s ?? recent?.get(p.user, p.sid));
  });
  const changed = new Map<string, SessionIdentity>();
  for (const [se, k] of uses) {
    const e = se.event;
    if (revoked.has(k)) {
      markRevoked(e, true);
      continue;
    }
    const record = records.get(k);
    attachCaptured(e, baselineAt(record, e));
    if (isSessionSignOut(e)) {
      // Ends the record for the uses after it (./sign-out.ts); the owner ends the stored session.
      const ended = signedOut(record, e);
      if (ended) records.set(k, ended);
      if (ended) changed.set(k, ended);
      continue;
    }
    if (!isSessionLogin(e)) continue;
    // A refresh, or a later login with the id, extends the stored session (src/sessions/extend-identity.ts): the owner gets its identity.
    attachStored(e, identities.get(k));
    if (!Number.isFinite(e.time)) continue;
    const next = recordAfter(record, e, lifetime);
    records.set(k, next);
    changed.set(k, next);
  }
  recent?.remember(changed);
}

/**
 * The router's session-use enrichment: {@link attachCapturedSessions} with this router's own
 * {@link RecentLogins}, while session audit is on, for a batch when a `session_hijack` behavior
 * is enabled or the batch holds a session login (a refresh, or a later login with a known id,
 * extends the stored session); otherwise no lookups at all. Settings are read per batch, so a
 * reload applies from the next one.
 */
export function sessionUseEnricher(
  store: Pick<SessionStore, 'lookupMany'>,
  settings: () => { sessionsEnabled: boolean; behaviors: ReadonlyArray<{ enabled: boolean; kind: string }>; lifetime?: number },
): (events: readonly StreamEvent[]) => Promise<void> {
  // Logins routed here whose identities are not committed yet (session_hijack's baseline meanwhile).
  const recent = new RecentLogins();
  return async (events) => {
    const s = settings();
    if (!s.sessionsEnabled) return;
    // Uses are looked up for session_hijack; session logins always (they may extend a stored session).
    if (s.behaviors.some((b) => b.enabled && b.kind === 'session_hijack') || events.some((e) => isSessionLogin(e.event)))
      await attachCapturedSessions(store, events, recent, s.lifetime);
  };
}
