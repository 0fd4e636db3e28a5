import { defined, getPath, isPlainObject, type Profile } from './path.js';

/** Okta System Log event types that are interactive sign-ins. */
export const OKTA_LOGIN_EVENTS: ReadonlySet<string> = new Set(['user.session.start', 'user.authentication.sso']);

/** True when `obj` is shaped like an Okta System Log LogEvent. */
export function looksLikeOkta(obj: Record<string, unknown>): boolean {
  return typeof obj.eventType === 'string' && isPlainObject(obj.actor) && ('published' in obj || 'uuid' in obj);
}

/**
 * Okta System Log (`/api/v1/logs` LogEvent) → canonical event. Sign-in events become `login`;
 * other event types keep their Okta name (`user.account.lock`, …) as `type`.
 * `client.geographicalContext.country` is Okta's country *name* (Okta gives no ISO code).
 */
export const okta: Profile = (o) => {
  if (!looksLikeOkta(o)) return null;
  const eventType = o.eventType as string;
  const login = OKTA_LOGIN_EVENTS.has(eventType);
  const geo = getPath(o, 'client.geographicalContext') as Record<string, unknown> | undefined;
  const lat = getPath(geo, 'geolocation.lat');
  const lon = getPath(geo, 'geolocation.lon');
  const sessionId = getPath(o, 'authenticationContext.externalSessionId');
  return defined({
    type: login ? 'login' : eventType,
    id: o.uuid,
    user: getPath(o, 'actor.alternateId') ?? getPath(o, 'actor.id'),
    time: o.published,
    outcome: getPath(o, 'outcome.result'),
    outcome_reason: getPath(o, 'outcome.reason'),
    ip: getPath(o, 'client.ipAddress'),
    geo: lat != null && lon != null ? { lat, lon, city: geo?.city, country: geo?.country } : undefined,
    session: typeof sessionId === 'string' && sessionId !== 'unknown' ? { id: sessionId, idp: 'okta' } : undefined,
    device: { type: getPath(o, 'client.device') },
    network: {
      asn: getPath(o, 'securityContext.asNumber'),
      as_org: getPath(o, 'securityContext.asOrg'),
      isp: getPath(o, 'securityContext.isp'),
      proxy: getPath(o, 'securityContext.isProxy'),
    },
    user_agent: getPath(o, 'client.userAgent.rawUserAgent'),
    display_message: o.displayMessage,
    vendor: 'okta',
    event_type: eventType,
  });
};
