/**
 * Response policies (`responses:` in behaviors.yaml): when a user reaches a level, or hits a
 * behavior, revoke every active session of the user — audited with actor `policy`, one CAEP
 * session-revoked SET per session per receiver (src/sessions/revoke.ts).
 *
 * Driven from the outbox relay (src/risk/outbox-relay.ts), which hands over committed level
 * changes and hits before deleting them from the user's outbox. Each trigger has a deterministic
 * marker (the change id; a digest of the hit), written once its revocation is done: a crash
 * before the marker repeats the revocation, which then finds only sessions still active (the
 * revoked ones are gone, and their SETs' job ids are deterministic), and a repeat after the marker
 * does nothing. So every trigger revokes exactly once, also after a crash.
 *
 * A session login that arrives after its trigger though, in event time, no later than the trigger
 * arrived (shipper lag) is handed over too, as a late login (src/sessions/policy-mark.ts: the owner
 * decides it in the login's commit): that one session is revoked, the same way, exactly once
 * (marker `late:<digest>`). The same for a login late against an admin's revoke-all of the user's
 * sessions (src/sessions/policy-mark.ts `markByAdmin`): its revocation's actor is that admin, and its
 * reason says it follows the admin's revoke-all.
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';
import type { ResponseRule } from '../config/responses.js';
import type { Keys } from '../keys.js';
import type { UserHit, UserLateLogin } from '../risk/outbox-entries.js';
import type { LevelChange } from '../types.js';
import { cutChars } from '../text.js';
import { isoTime } from '../detect/format.js';
import type { RevokedSession } from './revoke.js';
import type { SessionService } from './service.js';
import { changeFires, hitFires } from './policy-mark.js';

/** The audit actor of a policy's revocations. */
export const POLICY_ACTOR = 'policy';

/** One rule firing for one user. */
export interface PolicyTrigger {
  user: string;
  /** Deterministic per trigger (`level:<change id>` / `hit:<digest>` / `late:<digest>`). */
  marker: string;
  /** The revocation reason (`policy: level high (change …)`, `policy: behavior session_hijack`). */
  reason: string;
  /** A late login's: only this stored session id is revoked; absent: every session of the user. */
  session?: string;
  /** With `session`: only a stored session whose login is before this (the late login's session end). */
  before?: number;
  /** The audit actor: the admin whose revoke-all a late login follows; absent: {@link POLICY_ACTOR}. */
  actor?: string;
}

const digest = (parts: ReadonlyArray<string | number>): string => createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32);

const hitMarker = (h: UserHit): string => `hit:${digest([h.user, h.hit.behavior, h.hit.time, ...h.hit.eventIds])}`;

/**
 * The triggers a relay's changes and hits fire (pure): a change that raises a user to the rule's
 * level or above (riskstream's own, not an admin's), a hit of the rule's behavior that counted
 * (not expired on arrival). Rules without `revoke_sessions` fire nothing. Each late login is a
 * trigger of its own, for its one session. One trigger per marker.
 */
export function policyTriggers(
  rules: readonly ResponseRule[],
  changes: readonly LevelChange[],
  hits: readonly UserHit[],
  late: readonly UserLateLogin[] = [],
): PolicyTrigger[] {
  const out = new Map<string, PolicyTrigger>();
  for (const rule of rules) {
    if (!rule.revoke_sessions) continue;
    for (const c of changes) {
      if (!changeFires(rule, c)) continue;
      const marker = `level:${c.id}`;
      out.set(`${c.user}\u0000${marker}`, { user: c.user, marker, reason: cutChars(`policy: level ${c.current} (${c.reason})`, 500) });
    }
    for (const h of hits) {
      if (!hitFires(rule, h.hit)) continue;
      const marker = hitMarker(h);
      out.set(`${h.user}\u0000${marker}`, { user: h.user, marker, reason: cutChars(`policy: behavior ${h.hit.behavior} (${h.hit.summary})`, 500) });
    }
  }
  // Decided by the owner under the rules of its apply: revoked whatever the rules are now.
  for (const { user, late: l } of late) {
    const marker = `late:${digest([user, l.session, l.login_at, l.trigger])}`;
    const before = typeof l.expires_at === 'number' ? { before: l.expires_at } : {};
    const login = `session login at ${iso(l.login_at)}`;
    const [reason, actor] =
      typeof l.by === 'string'
        ? [cutChars(`revoke-all by ${l.by}: ${login}, not after the revoke-all of the user's sessions at ${iso(l.trigger)}`, 500), { actor: l.by }]
        : [`policy: ${login}, not after the revocation trigger arrived at ${iso(l.trigger)}`, {}];
    out.set(`${user}\u0000${marker}`, { user, marker, reason, session: l.session, ...before, ...actor });
  }
  return [...out.values()];
}

const iso = (ms: number): string => isoTime(ms) ?? String(ms);

/** What {@link responsePolicy} needs. */
export interface ResponsePolicyDeps {
  redis: RedisClient;
  keys: Keys;
  /** The rules in force (read per call: a reload applies from the next relay). */
  rules: () => readonly ResponseRule[];
  /** Revokes a trigger's sessions: all of a user's (`revokeUser`), or a late login's one (`revokeUserSession`). */
  sessions: Pick<SessionService, 'revokeUser' | 'revokeUserSession'>;
  /** How long a trigger's marker is kept (default 7 days: far longer than any outbox retry). */
  markerTtlMs?: number;
  /** Told what each trigger revoked. */
  onRevoked?: (t: PolicyTrigger, revoked: RevokedSession[]) => void;
}

/** A relay hook running the response policies for relayed changes, hits and late logins (idempotent per trigger). */
export function responsePolicy(deps: ResponsePolicyDeps): (changes: LevelChange[], hits: UserHit[], late?: UserLateLogin[]) => Promise<void> {
  const ttl = deps.markerTtlMs ?? 7 * 86_400_000;
  return async (changes, hits, late = []) => {
    const rules = deps.rules();
    if (rules.length === 0 && late.length === 0) return;
    for (const t of policyTriggers(rules, changes, hits, late)) {
      const key = deps.keys.userPolicyDone(t.user, t.marker);
      if ((await deps.redis.exists(key)) === 1) continue; // done before a crash or a repeat
      const opts = { actor: t.actor ?? POLICY_ACTOR, reason: t.reason };
      const revoked = await (t.session === undefined
        ? deps.sessions.revokeUser(t.user, opts)
        : deps.sessions.revokeUserSession(t.user, t.session, opts, t.before));
      await deps.redis.set(key, String(revoked.length), 'PX', ttl);
      deps.onRevoked?.(t, revoked);
    }
  };
}
