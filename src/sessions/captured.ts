/**
 * The I/O edge of session_hijack: attaches to every event that uses a session (carries
 * `session.id` and is not a successful login that starts one: a refresh is a use) what that session's login captured, for the pure
 * detector (src/detect/session-hijack.ts) to compare. The baseline is the stored identity
 * (src/sessions/store.ts); a session whose login is in the same batch (stored beside scoring,
 * so not yet readable) is taken from that login — the earliest one, as the store's first binding
 * wins. A session riskstream never saw gets nothing, so it is never flagged.
 */
import { addSessionProperties, attachCaptured, markRevoked, type CapturedSession } from '../detect/session-hijack.js';
import type { CanonicalEvent, StreamEvent } from '../types.js';
import { attachStored, epochMs, isSessionLogin, storedSessionId, type SessionIdentity } from './identity.js';
import type { SessionStore } from './store.js';
import { LRUCache } from 'lru-cache';

/** The baseline a stored identity gives. */
export function capturedFromIdentity(s: SessionIdentity): CapturedSession {
  return addSessionProperties({ session_id: s.session_id, user: s.user, login_at: s.login_at } as CapturedSession, s);
}

/**
 * The stored id of the session `e` carries: every event with a session id uses it — a login too,
 * when its user logged in with that id earlier (the detector and the identity builder tell).
 */
export function usesSession(e: CanonicalEvent): string | undefined {
  const id = e.session?.id as unknown;
  return (typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id)) ? storedSessionId(String(id)) : undefined;
}

/**
 * True when `c` may be the baseline `e` is compared with: any use's — but a session login's
 * (a refresh too) only when `c` is earlier: the login that captured it, or a refresh stored as
 * the session's start, is no baseline of its own (a refresh before its login is then kept for
 * that login by the detector, as in event-time order).
 */
export function baselineFor(e: CanonicalEvent, c: Pick<CapturedSession, 'login_at'>): boolean {
  return !isSessionLogin(e) || c.login_at < e.time;
}

/** The earliest session login per stored session id among `events` (pure). */
export function batchLogins(events: readonly StreamEvent[]): Map<string, CapturedSession> {
  const out = new Map<string, CapturedSession>();
  for (const { event: e } of events) {
    if (!isSessionLogin(e) || !Number.isFinite(e.time)) continue;
    const sid = storedSessionId(String(e.session!.id));
    const prev = out.get(sid);
    if (prev && prev.login_at <= e.time) continue;
    out.set(sid, addSessionProperties({ session_id: sid, user: e.user, login_at: e.time } as CapturedSession, e));
  }
  return out;
}

/**
 * The session logins this router routed lately, by stored session id (earliest login kept), for
 * session uses routed after their login but before its identity is committed (the owner commits
 * beside routing, possibly in another thread). Bounded: the oldest entries go first.
 */
export class RecentLogins {
  private readonly logins: LRUCache<string, { c: CapturedSession; exp: number | undefined; at: number }>;
  /**
   * `freshMs`: how long after routing a login stands in for its identity — by then its commit has
   * landed and the store is the word (a session expired or trimmed since is no baseline); an
   * owner still behind attaches the login it holds itself (src/engine/pending-sessions.ts).
   */
  constructor(
    max = 50_000,
    private readonly freshMs = 30_000,
  ) {
    this.logins = new LRUCache({ max });
  }
  /** Remembers a batch's session logins (after its uses were looked up), with their sessions' expiry when they give one. */
  remember(batch: ReadonlyMap<string, CapturedSession>, expiries?: ReadonlyMap<string, number>, now = Date.now()): void {
    for (const [sid, c] of batch) {
      const prev = this.logins.get(sid);
      if (!prev || c.login_at < prev.c.login_at) this.logins.set(sid, { c, exp: expiries?.get(sid), at: now });
    }
  }
  /** The login of session `sid` routed lately, unless its session expired before `time` or the login is no longer fresh. */
  get(sid: string, time = -Infinity, now = Date.now()): CapturedSession | undefined {
    const r = this.logins.get(sid);
    if (!r || now - r.at > this.freshMs || (r.exp !== undefined && r.exp <= time)) return undefined;
    return r.c;
  }
}

/** The expiry the session logins among `events` give (`session.expires_at`), by stored session id. */
function batchExpiries(events: readonly StreamEvent[]): Map<string, number> {
  const out = new Map<string, number>();
  for (const { event: e } of events) {
    if (!isSessionLogin(e)) continue;
    const exp = epochMs(e.session!.expires_at);
    if (exp === undefined) continue;
    const sid = storedSessionId(String(e.session!.id));
    out.set(sid, Math.max(exp, out.get(sid) ?? -Infinity));
  }
  return out;
}

/**
 * Looks up the sessions a batch's events use (one concurrent GET per distinct session and user, in
 * the user's partition, where the user's logins stored it) and attaches each one's captured
 * identity to the events (see {@link attachCaptured}). Not stored yet: the earliest of the batch's
 * own login and, with `recent`, one routed in an earlier batch whose commit has not landed.
 */
export async function attachCapturedSessions(store: Pick<SessionStore, 'lookupMany'>, events: readonly StreamEvent[], recent?: RecentLogins): Promise<void> {
  const uses = new Map<StreamEvent, string>();
  const pairs = new Map<string, { sid: string; user: string }>();
  for (const se of events) {
    attachCaptured(se.event, undefined);
    attachStored(se.event, undefined);
    markRevoked(se.event, false);
    const sid = usesSession(se.event);
    if (sid === undefined) continue;
    const k = `${se.event.user}\u0000${sid}`;
    uses.set(se, k);
    pairs.set(k, { sid, user: se.event.user });
  }
  const inBatch = batchLogins(events);
  const expiries = batchExpiries(events);
  if (uses.size === 0) {
    recent?.remember(inBatch, expiries);
    return;
  }
  const list = [...pairs];
  const stored = await store.lookupMany(list.map(([, p]) => p));
  const found = new Map<string, CapturedSession>();
  const identities = new Map<string, SessionIdentity>();
  const revoked = new Set<string>();
  list.forEach(([k], i) => {
    // A revoked session has no baseline: neither its stored login (gone) nor one routed before.
    if (stored[i]!.revoked) return void revoked.add(k);
    const s = stored[i]!.s;
    if (!s) return;
    identities.set(k, s);
    found.set(k, capturedFromIdentity(s));
  });
  // Not stored (yet): the earlier of the batch's own login and one routed lately — neither of a session expired by the use.
  const unstoredBaseline = (sid: string, time: number): CapturedSession | undefined => {
    const exp = expiries.get(sid);
    const a = exp !== undefined && exp <= time ? undefined : inBatch.get(sid);
    const b = recent?.get(sid, time);
    return a && b ? (b.login_at <= a.login_at ? b : a) : (a ?? b);
  };
  for (const [se, k] of uses) {
    if (revoked.has(k)) {
      markRevoked(se.event, true);
      continue;
    }
    const c = found.get(k) ?? unstoredBaseline(usesSession(se.event)!, se.event.time);
    // A login gets a baseline only from an earlier login (it is a use then); the one that captured it gets none.
    attachCaptured(se.event, c && baselineFor(se.event, c) ? c : undefined);
    // A refresh, or a later login with the id, extends the stored session (src/sessions/identity.ts): the owner gets its identity.
    if (isSessionLogin(se.event)) attachStored(se.event, identities.get(k));
  }
  recent?.remember(inBatch, expiries);
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
  settings: () => { sessionsEnabled: boolean; behaviors: ReadonlyArray<{ enabled: boolean; kind: string }> },
): (events: readonly StreamEvent[]) => Promise<void> {
  // Logins routed here whose identities are not committed yet (session_hijack's baseline meanwhile).
  const recent = new RecentLogins();
  return async (events) => {
    const s = settings();
    if (!s.sessionsEnabled) return;
    // Uses are looked up for session_hijack; session logins always (they may extend a stored session).
    if (s.behaviors.some((b) => b.enabled && b.kind === 'session_hijack') || events.some((e) => isSessionLogin(e.event)))
      await attachCapturedSessions(store, events, recent);
  };
}
