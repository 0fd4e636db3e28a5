import { defined, getPath, isPlainObject, type Profile } from './path.js';

const SIGNIN_CATEGORIES = new Set(['SignInLogs', 'NonInteractiveUserSignInLogs', 'ServicePrincipalSignInLogs', 'ManagedIdentitySignInLogs']);

/**
 * The signIn record itself: a Microsoft Graph `signIn` resource, or the `properties` of an
 * Azure Monitor diagnostic record (`category: SignInLogs`, e.g. from an Event Hub).
 */
function signIn(obj: Record<string, unknown>): Record<string, unknown> | null {
  if (typeof obj.userPrincipalName === 'string' && 'createdDateTime' in obj) return obj;
  if (typeof obj.category === 'string' && SIGNIN_CATEGORIES.has(obj.category) && isPlainObject(obj.properties)) {
    const p = obj.properties;
    return typeof p.userPrincipalName === 'string' ? { createdDateTime: obj.time, ...p } : null;
  }
  return null;
}

/** True when `obj` is shaped like a Microsoft Entra sign-in log record. */
export function looksLikeEntra(obj: Record<string, unknown>): boolean {
  return signIn(obj) !== null;
}

/**
 * Microsoft Entra ID sign-in log (Graph `auditLogs/signIns`, or the diagnostic-settings export)
 * → canonical `login`. `status.errorCode` 0 is success, anything else failure.
 */
export const entra: Profile = (obj) => {
  const s = signIn(obj);
  if (!s) return null;
  const code = getPath(s, 'status.errorCode');
  const lat = getPath(s, 'location.geoCoordinates.latitude');
  const lon = getPath(s, 'location.geoCoordinates.longitude');
  const sessionId = s.sessionId ?? s.correlationId;
  const d = isPlainObject(s.deviceDetail) ? s.deviceDetail : {};
  return defined({
    type: 'login',
    id: s.id,
    user: s.userPrincipalName,
    time: s.createdDateTime,
    outcome: code === undefined || code === null ? undefined : Number(code) === 0 ? 'success' : 'failure',
    error_code: code,
    failure_reason: Number(code) === 0 ? undefined : getPath(s, 'status.failureReason'),
    ip: s.ipAddress,
    geo: lat != null && lon != null ? { lat, lon, city: getPath(s, 'location.city'), country: getPath(s, 'location.countryOrRegion') } : undefined,
    session: typeof sessionId === 'string' && sessionId ? { id: sessionId, idp: 'entra' } : undefined,
    device: {
      id: d.deviceId,
      name: d.displayName,
      posture: { os: d.operatingSystem, browser: d.browser, compliant: d.isCompliant, managed: d.isManaged, trust_type: d.trustType },
    },
    app: s.appDisplayName,
    client_app: s.clientAppUsed,
    risk_level: s.riskLevelDuringSignIn,
    conditional_access: s.conditionalAccessStatus,
    interactive: s.isInteractive,
    vendor: 'entra',
  });
};
