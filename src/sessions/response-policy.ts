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
 */
import { createHash } from 'node:crypto';
import type { RedisClient } from '../redis/client.js';
import type { ResponseRule } from '../config/responses.js';
import type { Keys } from '../keys.js';
import type { UserHit } from '../risk/outbox-relay.js';
import { levelRank, type LevelChange } from '../types.js';
import { cutChars } from '../text.js';
import type { RevokedSession, RevokeOptions } from './revoke.js';

/** The audit actor of a policy's revocations. */
export const POLICY_ACTOR = 'policy';

/** One rule firing for one user. */
export interface PolicyTrigger {
  user: string;
  /** Deterministic per trigger (`level:<change id>` / `hit:<digest>`). */
  marker: string;
  /** The revocation reason (`policy: level high (change …)`, `policy: behavior session_hijack`). */
  reason: string;
}

function hitMarker(h: UserHit): string {
  const key = [h.user, h.hit.behavior, h.hit.time, ...h.hit.eventIds].join('\u0000');
  return `hit:${createHash('sha256').update(key).digest('hex').slice(0, 32)}`;
}

/**
 * The triggers a relay's changes and hits fire (pure): a change that raises a user to the rule's
 * level or above (riskstream's own, not an admin's), a hit of the rule's behavior that counted
 * (not expired on arrival). Rules without `revoke_sessions` fire nothing. One trigger per marker.
 */
export function policyTriggers(rules: readonly ResponseRule[], changes: readonly LevelChange[], hits: readonly UserHit[]): PolicyTrigger[] {
  const out = new Map<string, PolicyTrigger>();
  for (const rule of rules) {
    if (!rule.revoke_sessions) continue;
    const when = rule.when;
    if ('level' in when) {
      const min = levelRank(when.level);
      for (const c of changes) {
        if (c.initiatingEntity === 'admin' || levelRank(c.current) < min || levelRank(c.previous) >= min) continue;
        const marker = `level:${c.id}`;
        out.set(`${c.user}\u0000${marker}`, { user: c.user, marker, reason: cutChars(`policy: level ${c.current} (${c.reason})`, 500) });
      }
    } else {
      for (const h of hits) {
        if (h.hit.behavior !== when.behavior || h.hit.expiredOnArrival) continue;
        const marker = hitMarker(h);
        out.set(`${h.user}\u0000${marker}`, { user: h.user, marker, reason: cutChars(`policy: behavior ${h.hit.behavior} (${h.hit.summary})`, 500) });
      }
    }
  }
  return [...out.values()];
}

/** What {@link responsePolicy} needs. */
export interface ResponsePolicyDeps {
  redis: RedisClient;
  keys: Keys;
  /** The rules in force (read per call: a reload applies from the next relay). */
  rules: () => readonly ResponseRule[];
  /** Revokes all of a user's sessions (the session service's `revokeUser`). */
  revokeUser: (user: string, opts: RevokeOptions) => Promise<RevokedSession[]>;
  /** How long a trigger's marker is kept (default 7 days: far longer than any outbox retry). */
  markerTtlMs?: number;
  /** Told what each trigger revoked. */
  onRevoked?: (t: PolicyTrigger, revoked: RevokedSession[]) => void;
}

/** A relay hook running the response policies for relayed changes and hits (idempotent per trigger). */
export function responsePolicy(deps: ResponsePolicyDeps): (changes: LevelChange[], hits: UserHit[]) => Promise<void> {
  const ttl = deps.markerTtlMs ?? 7 * 86_400_000;
  return async (changes, hits) => {
    const rules = deps.rules();
    if (rules.length === 0) return;
    for (const t of policyTriggers(rules, changes, hits)) {
      const key = deps.keys.userPolicyDone(t.user, t.marker);
      if ((await deps.redis.exists(key)) === 1) continue; // done before a crash or a repeat
      const revoked = await deps.revokeUser(t.user, { actor: POLICY_ACTOR, reason: t.reason });
      await deps.redis.set(key, String(revoked.length), 'PX', ttl);
      deps.onRevoked?.(t, revoked);
    }
  };
}
