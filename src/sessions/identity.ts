import { attach, attachedValue } from '../attachment.js';
import type { CanonicalEvent } from '../types.js';
import type { RiskstreamFileConfig } from '../config/schema.js';
import { isSuccessfulLogin } from '../login.js';

/** The `sessions` section of the configuration (redact_claims, default_lifetime ms, max_per_user, max_identity_bytes). */
export type SessionSettings = RiskstreamFileConfig['sessions'];

/**
 * What an admin sees for one session: the identity it was granted at login. Times are epoch ms.
 * Every value has passed the privacy filters in `redact.ts`.
 */
export interface SessionIdentity {
  session_id: string;
  user: string;
  idp?: string;
  /** IdP claims; configured names are "[redacted]", tokens are fingerprints. */
  claims: Record<string, unknown>;
  /** `{id, posture, …}` as reported by the login. */
  device?: Record<string, unknown>;
  /** `{asn, colo, via, …}`. */
  network?: Record<string, unknown>;
  ip?: string;
  geo?: Record<string, unknown>;
  /** Event time of the login. */
  login_at: number;
  /** Session expiry: `session.expires_at`, else login time + `sessions.default_lifetime`. */
  expires_at: number;
  /** Id of the login event, when it had one. */
  event_id?: string;
  /** Any other fields of the event's `session` object. */
  attributes?: Record<string, unknown>;
  /** Event time of the last `session_refresh` that extended it (the login's baseline is kept). */
  refreshed_at?: number;
  /**
   * The session's start (`login_at`, the baseline) is a refresh's: no login at or before it was
   * seen. The session's login, arriving later though earlier in event time, replaces that start
   * (what the refresh brought is kept); a later login is a use of the session and leaves it.
   */
  from_refresh?: true;
  /**
   * Event time of the sign-out that ended the session (src/sessions/sign-out.ts): `expires_at` is
   * then that time. Listed nowhere, never extended past it; kept as its uses' baseline.
   */
  signed_out_at?: number;
  /**
   * No login of the session was held when its sign-out came (`login_at` = `expires_at` = the
   * sign-out's time): kept for the login that arrives after it though earlier in event time, which
   * it then ends (src/sessions/sign-out.ts). No session: listed nowhere, no baseline, binds no id.
   */
  sign_out_only?: true;
  /**
   * What `sessions.max_identity_bytes` cut from this identity, in the order it was cut (largest
   * first): `claims.groups`, `device.posture`, a whole `claims` …, each now a marker
   * `{truncated: true, bytes, sha256, items?|keys?}` (src/sessions/identity-cap.ts).
   */
  truncated?: string[];
}

/**
 * Symbol under which the router attaches to a session refresh the session's stored identity (an
 * attachment, never read from input JSON): the refresh then extends that identity.
 */
export const STORED_SESSION: unique symbol = Symbol('riskstream.storedSession');

/** The stored identity attached to a refresh, if any. */
export function storedOf(event: CanonicalEvent): SessionIdentity | undefined {
  return attachedValue<SessionIdentity>(event, STORED_SESSION);
}

/** Attaches (or, with undefined, removes) the stored identity of the session a refresh or a later login extends. */
export function attachStored(event: CanonicalEvent, stored: SessionIdentity | undefined): void {
  attach(event, STORED_SESSION, stored);
}

/** True for a successful login (src/login.ts: a session refresh is one too) that carries a session id. */
export function isSessionLogin(e: CanonicalEvent): boolean {
  const id = e.session?.id as unknown;
  return isSuccessfulLogin(e) && ((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id)));
}

/** The ids sessions and devices are stored under (shared with the session_hijack detector). */
export { storedDeviceId, storedSessionId } from '../secrets/stored-ids.js';
