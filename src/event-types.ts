/**
 * The event-type URIs of the SETs riskstream emits (CAEP 1.0, SSF 1.0, Okta ITP), and which of
 * riskstream's event names (a receiver's `events`) each one is.
 */
export const CAEP_RISK_LEVEL_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
export const OKTA_USER_RISK_CHANGE = 'https://schemas.okta.com/secevent/okta/event-type/user-risk-change';
export const CAEP_SESSION_REVOKED = 'https://schemas.openid.net/secevent/caep/event-type/session-revoked';
export const SSF_VERIFICATION = 'https://schemas.openid.net/secevent/ssf/event-type/verification';
export const SSF_STREAM_UPDATED = 'https://schemas.openid.net/secevent/ssf/event-type/stream-updated';

/** riskstream's name of an event it emits (a receiver's `events`). */
type EventName = 'risk-level-change' | 'session-revoked' | 'verification';

/**
 * Event types an SSF stream can request, and riskstream's name for each: what `events_supported`
 * lists, and so what `events_delivered` can hold (a stream is pushed CAEP events: Okta's
 * user-risk-change URI, which a configured `kind: okta` receiver gets, is not one of them).
 */
export const STREAM_EVENTS: Readonly<Record<string, EventName>> = {
  [CAEP_RISK_LEVEL_CHANGE]: 'risk-level-change',
  [CAEP_SESSION_REVOKED]: 'session-revoked',
  [SSF_VERIFICATION]: 'verification',
};

/** Event-type URI → riskstream's name of that event: {@link STREAM_EVENTS}, and Okta's user-risk-change as a level change (sent to `kind: okta`). */
export const EVENT_NAME_OF_URI: Readonly<Record<string, EventName>> = { ...STREAM_EVENTS, [OKTA_USER_RISK_CHANGE]: 'risk-level-change' };
