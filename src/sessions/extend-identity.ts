import type { SessionIdentity } from './identity.js';
import { deviceSeen, registryDeviceId } from './device-identity.js';
import { endedBySignOutOnly } from './sign-out.js';

/**
 * A refresh of a stored session of the same user — or a later login of the user with the same
 * session id, which is a use of that session too — extends it: the first login's context stays
 * (device, network, IP, location and `login_at`: the baseline session_hijack compares with, which
 * a later login cannot replace), the IdP's fresh word is taken (claims and idp when the event
 * carries them, session attributes merged, the posture of the same device), `expires_at` moves to
 * the later of the two and `refreshed_at` is the event's time. A session that ended (in event time:
 * its `expires_at`) at or before the event is not extended: the event starts the id's session
 * again. A session a sign-out ended (`signed_out_at`) keeps its end. Anything else: the event's own
 * identity (`fresh`, marked `from_refresh` for a refresh).
 */
export function extendedIdentity(fresh: SessionIdentity, stored: SessionIdentity | undefined, refresh: boolean): SessionIdentity {
  const own = refresh ? { ...fresh, from_refresh: true as const } : fresh;
  // A sign-out kept with no login (src/sessions/sign-out.ts): this event's session, ended by it if it reaches it.
  if (stored?.sign_out_only) return endedBySignOutOnly(own, stored);
  if (!stored || stored.user !== fresh.user || stored.session_id !== fresh.session_id || stored.expires_at <= fresh.login_at) return own;
  // Stored from a later refresh, with no login seen: this event, earlier, is the session's start (as
  // in event-time order), and what the refresh brought extends it — unless its session ended before
  // that refresh: in event-time order the refresh started the id's session again.
  if (stored.from_refresh && fresh.login_at < stored.login_at) return fresh.expires_at > stored.login_at ? precededBy(stored, own) : own;
  // The same login again (a shipper's retry, a replayed file) is itself, with what refreshes added since kept.
  if (!refresh && stored.login_at === fresh.login_at && !stored.from_refresh) {
    // A signed-out session's login again: it stays ended (src/sessions/sign-out.ts).
    if (stored.signed_out_at !== undefined) return stored;
    if (stored.refreshed_at !== undefined) return precededBy(stored, own);
  }
  // A login extends only a strictly earlier one.
  if (refresh ? stored.login_at > fresh.login_at : stored.login_at >= fresh.login_at) return own;
  const out: SessionIdentity = {
    ...stored,
    // A session a sign-out ended is never extended past it (the sign-out came later in event time).
    expires_at: stored.signed_out_at !== undefined ? stored.expires_at : Math.max(stored.expires_at, fresh.expires_at),
    refreshed_at: Math.max(stored.refreshed_at ?? 0, fresh.login_at),
  };
  const seen = deviceSeen.get(stored);
  if (seen !== undefined) deviceSeen.set(out, seen);
  // A refresh older than the one already applied (arriving late) extends, but its word is not the
  // freshest: what the later refresh brought stays (as in event-time order).
  if (fresh.login_at < (stored.refreshed_at ?? stored.login_at)) {
    if (fresh.attributes) out.attributes = { ...fresh.attributes, ...stored.attributes };
    return out;
  }
  if (Object.keys(fresh.claims).length) out.claims = fresh.claims;
  if (fresh.idp !== undefined) out.idp = fresh.idp;
  if (fresh.attributes) out.attributes = { ...stored.attributes, ...fresh.attributes };
  if (fresh.device && stored.device && sameDeviceId(fresh.device.id, stored.device.id)) {
    out.device = sameDevice(stored.device, fresh.device);
    deviceSeen.set(out, fresh.login_at);
  }
  return out;
}

/** True when two stored identities' device ids name one device (a JWT's fingerprints, not the objects, compared). */
function sameDeviceId(a: unknown, b: unknown): boolean {
  if (a === undefined) return false;
  if (a === b) return true;
  const id = registryDeviceId(a);
  return id !== undefined && id === registryDeviceId(b);
}

/** The same device seen again: its later report, keeping the posture a report without one left out. */
function sameDevice(earlier: Record<string, unknown>, later: Record<string, unknown>): Record<string, unknown> {
  return later.posture === undefined && earlier.posture !== undefined ? { ...later, posture: earlier.posture } : later;
}

/**
 * `later` (stored from a refresh, or extended by refreshes) preceded by `first`, no later in event time: `first`'s context
 * (device, network, IP, location, `login_at`) and the later refresh's fresh word (claims, idp,
 * attributes, the same device's posture), the later expiry, `refreshed_at` the refresh's time.
 */
function precededBy(later: SessionIdentity, first: SessionIdentity): SessionIdentity {
  const out: SessionIdentity = {
    ...first,
    expires_at: Math.max(first.expires_at, later.expires_at),
    refreshed_at: Math.max(first.refreshed_at ?? 0, later.refreshed_at ?? later.login_at),
  };
  if (Object.keys(later.claims).length) out.claims = later.claims;
  if (later.idp !== undefined) out.idp = later.idp;
  if (later.attributes) out.attributes = { ...first.attributes, ...later.attributes };
  if (later.device && first.device && sameDeviceId(later.device.id, first.device.id)) out.device = sameDevice(first.device, later.device);
  // What the size bound cut in either (src/sessions/identity-cap.ts keeps the paths that still hold a cut).
  if (later.truncated?.length) out.truncated = [...(first.truncated ?? []), ...later.truncated];
  // The sign-out that ended `later` ends the session `first` starts (it came after both in event time).
  if (later.signed_out_at !== undefined) {
    out.expires_at = later.expires_at;
    out.signed_out_at = later.signed_out_at;
  }
  return out;
}
