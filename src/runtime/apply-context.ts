import type { Config } from '../config/load.js';
import type { ApplyContext } from '../engine/apply.js';
import { knownSecretsOf } from '../secrets/known-secrets.js';
import type { BehaviorEpochs } from '../risk/behavior-epochs.js';
import type { Followed } from '../redis/followed.js';
import { revokeRulesOf } from '../sessions/policy-mark.js';
import { effectiveEventRetention, effectiveIdleTtl, learnerIds, type Retention } from '../risk/retention.js';
import type { DetectorLimits } from '../detect/types.js';

/**
 * The owner's apply context from config: behaviors, detector limits (`state.*`), processing time
 * `now`, the worker's own secrets (kept out of what hits quote from events) and the behaviors'
 * on-epochs it knows (src/engine/behavior-epochs.ts), the response rules that revoke sessions
 * (none: no policy work per event) and the idle users' retention (`state.idle_user_ttl`; 0: none).
 */
export function applyContextOf(config: Config, now: number, epochs?: BehaviorEpochs): ApplyContext {
  const secrets = knownSecretsOf(config);
  const revoke = revokeRulesOf(config.responses);
  const limits = limitsOf(config);
  const retention = retentionOf(config);
  return {
    behaviors: config.behaviors,
    limits,
    now,
    secrets,
    ...(epochs ? { epochs } : {}),
    sessionLifetime: config.raw.sessions.default_lifetime, // a late login's (a policy's mark or an admin's revoke-all)
    ...(revoke ? { revoke } : {}),
    ...(retention ? { retention } : {}),
  };
}

/** The detector limits of `state.*`. */
function limitsOf(config: Config): DetectorLimits {
  const s = config.raw.state;
  return { maxLogins: s.max_logins, maxAge: s.login_max_age, allowedLateness: s.allowed_lateness };
}

/** The idle users' retention in force (`state.idle_user_ttl`, `state.risk_event_retention`, src/risk/retention.ts); undefined when off. */
export function retentionOf(config: Config): Retention | undefined {
  const ttl = effectiveIdleTtl(config.raw.state.idle_user_ttl, config.behaviors, limitsOf(config));
  if (ttl === null) return undefined;
  const events = effectiveEventRetention(config.raw.state.risk_event_retention, ttl);
  return { ttl, learners: learnerIds(config.behaviors), ...(events === undefined ? {} : { events }) };
}

/**
 * An owner step's apply context under the running configuration (`running()`, swapped by a reload):
 * the epochs are read for the configuration taken when the step begins, and the context is built
 * from that same configuration.
 */
export function ownerContext(running: () => Config, epochs: Followed<BehaviorEpochs>): () => Promise<ApplyContext> {
  return () => {
    // Taken once: a reload applied while the epochs are read is for the next step (its epochs read for it).
    const config = running();
    return epochs.current(config.behaviors).then((e) => applyContextOf(config, Date.now(), e));
  };
}
