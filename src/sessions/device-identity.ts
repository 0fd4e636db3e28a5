import { storedDeviceId, type SessionIdentity } from './identity.js';

/** A user's device as last seen in a session login (the per-user device registry). */
export interface DeviceIdentity {
  id: string;
  posture?: Record<string, unknown>;
  last_seen: number;
  ip?: string;
  session_id: string;
}

/**
 * When a refresh (or later login) last reported the session's own device, for identities extended
 * in memory: the device registry's `last_seen` ({@link deviceIdentity}). Never stored: the registry
 * already holds that time when an identity is read back from Redis (its login's time is older).
 */
export const deviceSeen = new WeakMap<SessionIdentity, number>();

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * The id a stored identity's device is registered under: as given (a long one as its hash), a JWT
 * — stored fingerprinted, `{redacted: "jwt", sha256}` — as `jwt-sha256:<hex>`, as a session id would
 * be; undefined without one. Two identities name one device when these are equal.
 */
export function registryDeviceId(devId: unknown): string | undefined {
  if (typeof devId === 'number' || (typeof devId === 'string' && devId)) return storedDeviceId(String(devId));
  return isObject(devId) && devId.redacted === 'jwt' && typeof devId.sha256 === 'string' ? `jwt-sha256:${devId.sha256}` : undefined;
}

/** The device-registry entry a stored identity contributes (seen at its login, or at the refresh that last reported that device), or null without a device id. */
export function deviceIdentity(s: SessionIdentity): DeviceIdentity | null {
  const id = registryDeviceId(s.device?.id);
  if (id === undefined) return null;
  const posture = s.device?.posture;
  const { ip, session_id } = s;
  const last_seen = deviceSeen.get(s) ?? s.login_at;
  // Fields in this order (the stored JSON's), without spreads' throwaway objects.
  if (isObject(posture)) return ip ? { id, posture, last_seen, ip, session_id } : { id, posture, last_seen, session_id };
  return ip ? { id, last_seen, ip, session_id } : { id, last_seen, session_id };
}
