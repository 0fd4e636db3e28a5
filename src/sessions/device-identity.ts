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

/** The device-registry entry a stored identity contributes (seen at its login, or at the refresh that last reported that device), or null without a device id. */
export function deviceIdentity(s: SessionIdentity): DeviceIdentity | null {
  const devId = s.device?.id;
  // A JWT id is stored fingerprinted ({redacted: "jwt", sha256}): registered as a session id would be.
  const jwtSha = isObject(devId) && devId.redacted === 'jwt' && typeof devId.sha256 === 'string' ? devId.sha256 : undefined;
  if ((typeof devId !== 'string' || !devId) && typeof devId !== 'number' && jwtSha === undefined) return null;
  const posture = s.device?.posture;
  const id = jwtSha !== undefined ? `jwt-sha256:${jwtSha}` : storedDeviceId(String(devId));
  const { ip, session_id } = s;
  const last_seen = deviceSeen.get(s) ?? s.login_at;
  // Fields in this order (the stored JSON's), without spreads' throwaway objects.
  if (isObject(posture)) return ip ? { id, posture, last_seen, ip, session_id } : { id, posture, last_seen, session_id };
  return ip ? { id, last_seen, ip, session_id } : { id, last_seen, session_id };
}
