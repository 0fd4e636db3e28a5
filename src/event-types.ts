/**
 * The event-type URIs of the SETs riskstream emits (CAEP 1.0, SSF 1.0, Okta ITP), and which of
 * riskstream's event names (a receiver's `events`) each one is.
 */
export const CAEP_RISK_LEVEL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
export const OKTA_USER_RISK_CHANGE = 'https://schemas.okta.com/secevent/okta/event-type/user-risk-change';
export const CAEP_SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const SSF_VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
export const SSF_STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';

/** Event-type URI → riskstream's name of that event (Okta's user-risk-change is a level change, sent to `kind: okta`). */
export const EVENT_NAME_OF_URI: Readonly<Record<string, 'risk-level-change' | 'session-revoked' | 'verification'>> = {
  [CAEP_RISK_LEVEL_CHANGE]: 'risk-level-change',
  [OKTA_USER_RISK_CHANGE]: 'risk-level-change',
  [CAEP_SESSION_REVOKED]: 'session-revoked',
  [SSF_VERIFICATION]: 'verification',
};
