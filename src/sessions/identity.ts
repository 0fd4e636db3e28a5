import { attach, attachedValue } from '../attachment.js';
import type { CanonicalEvent } from '../types.js';
import type { RiskstreamFileConfig } from '../config/schema.js';
import { looksLikeJwt, REDACTED, redactOptions, redactScrubOptions, sha256Hex, type RedactOptions } from './redact.js';
import { scrubShared, scrubValue, type ScrubOptions } from '../secrets/scrub.js';
import { isRefresh, isSuccessfulLogin } from '../login.js';
import { isoMs } from '../ingest/iso-time.js';

/** The `sessions` section of the configuration (redact_claims, default_lifetime ms, max_per_user). */
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

/**
 * When a refresh (or later login) last reported the session's own device, for identities extended
 * in memory: the device registry's `last_seen` ({@link deviceIdentity}). Never stored: the registry
 * already holds that time when an identity is read back from Redis (its login's time is older).
 */
const deviceSeen = new WeakMap<SessionIdentity, number>();

/**
 * A refresh of a stored session of the same user — or a later login of the user with the same
 * session id, which is a use of that session too — extends it: the first login's context stays
 * (device, network, IP, location and `login_at`: the baseline session_hijack compares with, which
 * a later login cannot replace), the IdP's fresh word is taken (claims and idp when the event
 * carries them, session attributes merged, the posture of the same device), `expires_at` moves to
 * the later of the two and `refreshed_at` is the event's time. A session that ended (in event time:
 * its `expires_at`) at or before the event is not extended: the event starts the id's session
 * again. Anything else: the event's own identity (`fresh`, marked `from_refresh` for a refresh).
 */
export function extendedIdentity(fresh: SessionIdentity, stored: SessionIdentity | undefined, refresh: boolean): SessionIdentity {
  const own = refresh ? { ...fresh, from_refresh: true as const } : fresh;
  if (!stored || stored.user !== fresh.user || stored.session_id !== fresh.session_id || stored.expires_at <= fresh.login_at) return own;
  // Stored from a later refresh, with no login seen: this event, earlier, is the session's start (as
  // in event-time order), and what the refresh brought extends it.
  if (stored.from_refresh && fresh.login_at < stored.login_at) return precededBy(stored, own);
  // The same login again (a shipper's retry, a replayed file) is itself, with what refreshes added since kept.
  if (!refresh && stored.login_at === fresh.login_at && stored.refreshed_at !== undefined && !stored.from_refresh) return precededBy(stored, own);
  // A login extends only a strictly earlier one.
  if (refresh ? stored.login_at > fresh.login_at : stored.login_at >= fresh.login_at) return own;
  const out: SessionIdentity = {
    ...stored,
    expires_at: Math.max(stored.expires_at, fresh.expires_at),
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
  if (fresh.device && stored.device && fresh.device.id !== undefined && fresh.device.id === stored.device.id) {
    out.device = sameDevice(stored.device, fresh.device);
    deviceSeen.set(out, fresh.login_at);
  }
  return out;
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
  if (later.device && first.device && later.device.id !== undefined && later.device.id === first.device.id) out.device = sameDevice(first.device, later.device);
  return out;
}

/** A user's device as last seen in a session login (the per-user device registry). */
export interface DeviceIdentity {
  id: string;
  posture?: Record<string, unknown>;
  last_seen: number;
  ip?: string;
  session_id: string;
}

const SESSION_KNOWN = new Set(['id', 'expires_at', 'idp', 'claims']);
const MAX_ID_LENGTH = 512;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** True for a successful login (src/login.ts: a session refresh is one too) that carries a session id. */
export function isSessionLogin(e: CanonicalEvent): boolean {
  const id = e.session?.id as unknown;
  return isSuccessfulLogin(e) && ((typeof id === 'string' && id.length > 0) || (typeof id === 'number' && Number.isFinite(id)));
}

/**
 * The id a session is stored under. A session id that is itself a token is never stored:
 * it becomes `jwt-sha256:<hex>` (so admins can still look it up by pasting the token).
 */
export function storedSessionId(raw: string): string {
  if (looksLikeJwt(raw)) return `jwt-sha256:${sha256Hex(raw)}`;
  return storedDeviceId(raw);
}

/**
 * The id a device is registered under (a field of the user's device registry): a device id
 * longer than 512 characters becomes `sha256:<hex>`, as a long session id does; the identity
 * itself keeps the device as the event gave it.
 */
export function storedDeviceId(raw: string): string {
  return raw.length > MAX_ID_LENGTH ? `sha256:${sha256Hex(raw)}` : raw;
}

/** A session time as events give it (epoch ms, or ISO-8601 as ingest reads it), or undefined. */
export function epochMs(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim()) {
    const t = isoMs(v.trim()); // an offset-less time is UTC, as ingest reads it
    return Number.isFinite(t) ? t : undefined;
  }
  return undefined;
}

/** Prepared privacy options for {@link buildIdentity} (build once per settings). */
export interface IdentityFilters {
  claims: RedactOptions;
  other: RedactOptions;
}

/** Filters for the given settings: `redact_claims` apply under `claims`, secret field names everywhere. */
export function identityFilters(settings: Pick<SessionSettings, 'redact_claims'>): IdentityFilters {
  return { claims: redactOptions(settings.redact_claims), other: redactOptions() };
}

function clean(v: unknown, opts: ScrubOptions): Record<string, unknown> | undefined {
  if (!isObject(v)) return undefined;
  return scrubShared(v, opts) as Record<string, unknown>;
}

/** A string field redacted: a string, or undefined when it became a fingerprint object. */
function cleanString(v: string, opts: ScrubOptions): string | undefined {
  const r = scrubValue(v, opts);
  return typeof r === 'string' ? r : undefined;
}

/**
 * The session's other fields, redacted as one object would be (its values one level down), or
 * undefined when none is left. `__proto__` never was one (an assignment does not make it a field).
 */
function sessionAttributes(s: Record<string, unknown>, opts: ScrubOptions): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const k in s) {
    if (!Object.prototype.hasOwnProperty.call(s, k) || SESSION_KNOWN.has(k) || k === '__proto__') continue;
    const v = s[k];
    if (v === undefined) continue;
    const r = opts.secretName!(k) ? REDACTED : scrubShared(v, opts, 1);
    if (r !== undefined) (out ??= {})[k] = r;
  }
  return out;
}

/**
 * Builds the stored identity from a successful login carrying `session` (pure; see
 * {@link isSessionLogin}). Returns null for any other event. Values the privacy filters leave as
 * they are (claims, device, network, geo …) are the event's own objects, not copies: neither is
 * mutated afterwards.
 */
export function buildIdentity(
  e: CanonicalEvent,
  settings: Pick<SessionSettings, 'redact_claims' | 'default_lifetime'>,
  filters: IdentityFilters = identityFilters(settings),
): SessionIdentity | null {
  if (!isSessionLogin(e) || !Number.isFinite(e.time)) return null;
  const s = e.session!;
  const other = redactScrubOptions(filters.other);
  const loginAt = Math.round(e.time);
  const expiresAt = Math.round(epochMs(s.expires_at) ?? loginAt + settings.default_lifetime);
  const id: SessionIdentity = {
    session_id: storedSessionId(String(s.id)),
    user: e.user,
    claims: clean(s.claims, redactScrubOptions(filters.claims)) ?? {},
    login_at: loginAt,
    expires_at: expiresAt,
  };
  const idp = typeof s.idp === 'string' ? cleanString(s.idp, other) : undefined;
  if (idp !== undefined) id.idp = idp;
  const device = clean(e.device, other);
  if (device) id.device = device;
  const network = clean(e.network, other);
  if (network) id.network = network;
  if (typeof e.ip === 'string') id.ip = e.ip;
  const geo = clean(e.geo, other);
  if (geo) id.geo = geo;
  if (typeof e.id === 'string' && e.id) {
    const evId = cleanString(e.id, other);
    if (evId !== undefined) id.event_id = evId;
  }
  const attrs = sessionAttributes(s, other);
  if (attrs) id.attributes = attrs;
  return extendedIdentity(id, storedOf(e), isRefresh(e));
}

/** The device-registry entry a stored identity contributes (seen at its login, or at the refresh that last reported that device), or null without a device id. */
export function deviceIdentity(s: SessionIdentity): DeviceIdentity | null {
  const devId = s.device?.id;
  if ((typeof devId !== 'string' || !devId) && typeof devId !== 'number') return null;
  const posture = s.device?.posture;
  const id = storedDeviceId(String(devId));
  const { ip, session_id } = s;
  const last_seen = deviceSeen.get(s) ?? s.login_at;
  // Fields in this order (the stored JSON's), without spreads' throwaway objects.
  if (isObject(posture)) return ip ? { id, posture, last_seen, ip, session_id } : { id, posture, last_seen, session_id };
  return ip ? { id, last_seen, ip, session_id } : { id, last_seen, session_id };
}
