/**
 * Reason texts in several languages for SETs (CAEP `reason_admin` / `reason_user` are objects of
 * language tag → text). English is always present: for admins it is riskstream's detailed reason
 * (places, distances, counts). Other languages a receiver asks for (`reason_languages`) get a
 * translated summary — the behaviors by name and the level change — from reason-catalogue.ts;
 * the end-user text never discloses what was detected.
 */
import { levelRank, type InitiatingEntity, type LangText, type RiskLevel } from '../types.js';
import { CATALOGUE, type Catalogue } from './reason-catalogue.js';

const EN_USER_RAISED = 'Unusual activity was detected on your account.';
const EN_USER_LOWERED = 'The risk level of your account was lowered.';
const EN_USER_REVOKED = 'Your session was ended by an administrator.';
const EN_USER_POLICY_REVOKED = 'Your session was ended by a security policy.';
type Reasons = { reason_admin: LangText; reason_user?: LangText };

/**
 * The reasons in English and each of `languages` with a catalogue: `en` gives the English admin
 * and user texts, `per` a language's. Without `languages`, the English admin text alone.
 */
function localized(languages: readonly string[] | undefined, en: [admin: string, user: string], per: (c: Catalogue) => [admin: string, user: string]): Reasons {
  if (!languages?.length) return { reason_admin: { en: en[0] } };
  const admin: LangText = { en: en[0] };
  const user: LangText = { en: en[1] };
  for (const l of new Set(languages)) {
    const c = (CATALOGUE as Record<string, Catalogue | undefined>)[l];
    if (c) [admin[l], user[l]] = per(c);
  }
  return { reason_admin: admin, reason_user: user };
}

/** `reason_admin` / `reason_user` of a level change: English always, plus `languages`. */
export function levelChangeReasons(
  change: { previous: RiskLevel; current: RiskLevel; behaviors: readonly string[]; reason: string },
  languages?: readonly string[],
): Reasons {
  const raised = levelRank(change.current) > levelRank(change.previous);
  return localized(languages, [change.reason, raised ? EN_USER_RAISED : EN_USER_LOWERED], (c) => {
    const [p, n] = [c.levels[change.previous], c.levels[change.current]];
    const names = change.behaviors.map((b) => c.behaviors[b] ?? b).join(', ');
    return [names ? c.change(names, p, n) : c.cleared(p, n), raised ? c.userRaised : c.userLowered];
  });
}

/**
 * `reason_admin` / `reason_user` of a session revocation: the revoker's words, plus `languages`.
 * One revoked by a `responses:` rule (`by: 'policy'`) is said to be a security policy's, not an
 * administrator's (its SET's `initiating_entity` is `policy`).
 */
export function revokedReasons(reason: string, languages?: readonly string[], by: InitiatingEntity = 'admin'): Reasons {
  if (by === 'policy') return localized(languages, [reason, EN_USER_POLICY_REVOKED], (c) => [c.policyRevoked(reason), c.userPolicyRevoked]);
  return localized(languages, [reason, EN_USER_REVOKED], (c) => [c.revoked(reason), c.userRevoked]);
}
