import type { CanonicalEvent } from '../types.js';
import type { RiskstreamFileConfig } from '../config/schema.js';
import { looksLikeJwt, redactOptions, redactValue, sha256Hex, type RedactOptions } from './redact.js';
import { isSuccessfulLogin } from '../login.js';

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
  return raw.length > MAX_ID_LENGTH ? `sha256:${sha256Hex(raw)}` : raw;
}

function epochMs(v: unknown): number | undefined {
  if (typeof v === 'number' && Number.isFinite(v)) return v;
  if (typeof v === 'string' && v.trim()) {
    const t = Date.parse(v);
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

function clean(v: unknown, opts: RedactOptions): Record<string, unknown> | undefined {
  if (!isObject(v)) return undefined;
  return redactValue(v, opts) as Record<string, unknown>;
}

/**
 * Builds the stored identity from a successful login carrying `session` (pure; see
 * {@link isSessionLogin}). Returns null for any other event.
 */
export function buildIdentity(
  e: CanonicalEvent,
  settings: Pick<SessionSettings, 'redact_claims' | 'default_lifetime'>,
  filters: IdentityFilters = identityFilters(settings),
): SessionIdentity | null {
  if (!isSessionLogin(e) || !Number.isFinite(e.time)) return null;
  const s = e.session!;
  const loginAt = Math.round(e.time);
  const expiresAt = Math.round(epochMs(s.expires_at) ?? loginAt + settings.default_lifetime);
  const attributes: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(s)) if (!SESSION_KNOWN.has(k) && v !== undefined) attributes[k] = v;

  const id: SessionIdentity = {
    session_id: storedSessionId(String(s.id)),
    user: e.user,
    claims: clean(s.claims, filters.claims) ?? {},
    login_at: loginAt,
    expires_at: expiresAt,
  };
  const idp = typeof s.idp === 'string' ? redactValue(s.idp, filters.other) : undefined;
  if (typeof idp === 'string') id.idp = idp;
  const device = clean(e.device, filters.other);
  if (device) id.device = device;
  const network = clean(e.network, filters.other);
  if (network) id.network = network;
  if (typeof e.ip === 'string') id.ip = e.ip;
  const geo = clean(e.geo, filters.other);
  if (geo) id.geo = geo;
  if (typeof e.id === 'string' && e.id) {
    const evId = redactValue(e.id, filters.other);
    if (typeof evId === 'string') id.event_id = evId;
  }
  const attrs = clean(attributes, filters.other);
  if (attrs && Object.keys(attrs).length) id.attributes = attrs;
  return id;
}

/** The device-registry entry a stored identity contributes, or null without a device id. */
export function deviceIdentity(s: SessionIdentity): DeviceIdentity | null {
  const devId = s.device?.id;
  if ((typeof devId !== 'string' || !devId) && typeof devId !== 'number') return null;
  const posture = s.device?.posture;
  return {
    id: String(devId),
    ...(isObject(posture) ? { posture } : {}),
    last_seen: s.login_at,
    ...(s.ip ? { ip: s.ip } : {}),
    session_id: s.session_id,
  };
}
