import type { CanonicalEvent } from '../types.js';
import { REDACTED, redactOptions, redactScrubOptions, type RedactOptions } from './redact.js';
import { scrubShared, scrubValue, type ScrubOptions } from '../secrets/scrub.js';
import { fingerprintMark, looksLikeJwt, scrubId, scrubText } from '../secrets/secret-values.js';
import { isRefresh } from '../login.js';
import { isoMs } from '../ingest/iso-time.js';
import { isSessionLogin, storedOf, storedSessionId, type SessionIdentity, type SessionSettings } from './identity.js';
import { extendedIdentity } from './extend-identity.js';
import { cappedIdentity, DEFAULT_MAX_IDENTITY_BYTES } from './identity-cap.js';

const SESSION_KNOWN = new Set(['id', 'expires_at', 'idp', 'claims']);

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

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
 * The session's other fields, redacted as one object would be (names holding a token fingerprinted,
 * values one level down), or undefined when none is left. `__proto__` never was one (an assignment does not make it a field).
 */
function sessionAttributes(s: Record<string, unknown>, opts: ScrubOptions): Record<string, unknown> | undefined {
  let out: Record<string, unknown> | undefined;
  for (const k in s) {
    if (!Object.prototype.hasOwnProperty.call(s, k) || SESSION_KNOWN.has(k) || k === '__proto__') continue;
    const v = s[k];
    if (v === undefined) continue;
    const r = opts.secretName!(k) ? REDACTED : scrubShared(v, opts, 1);
    // A token may be a name too: fingerprinted as in any object scrubValue copies.
    if (r !== undefined) (out ??= {})[scrubText(k, fingerprintMark)] = r;
  }
  return out;
}

/**
 * The device, redacted: its id as an id is read everywhere ({@link scrubId}: a credential in it
 * fingerprinted, so two devices stay two in the registry and for session_hijack), a whole JWT as
 * its fingerprint object; the rest as any object.
 */
function deviceOf(v: unknown, opts: ScrubOptions): Record<string, unknown> | undefined {
  const device = clean(v, opts);
  const raw = isObject(v) ? v.id : undefined;
  if (!device || typeof raw !== 'string' || looksLikeJwt(raw)) return device;
  const idAsId = scrubId(raw);
  return device.id === idAsId ? device : { ...device, id: idAsId };
}

/** A session login's stored session id, login time and session end, as its identity stores them. */
export interface SessionSpan {
  session_id: string;
  login_at: number;
  expires_at: number;
}

/**
 * The {@link SessionSpan} of a successful login carrying `session` (pure; see
 * {@link isSessionLogin}), its end `lifetime` after its login when it gives none; null for any
 * other event.
 */
export function sessionSpan(e: CanonicalEvent, lifetime: number): SessionSpan | null {
  if (!isSessionLogin(e) || !Number.isFinite(e.time)) return null;
  const s = e.session!;
  const loginAt = Math.round(e.time);
  return { session_id: storedSessionId(String(s.id)), login_at: loginAt, expires_at: Math.round(epochMs(s.expires_at) ?? loginAt + lifetime) };
}

/**
 * Builds the stored identity from a successful login carrying `session` (pure; see
 * {@link isSessionLogin}). Returns null for any other event. Values the privacy filters leave as
 * they are (claims, device, network, geo …) are the event's own objects, not copies: neither is
 * mutated afterwards. The identity (extended, when it extends a stored one) is bounded to
 * `sessions.max_identity_bytes` of JSON (default 64 KiB; src/sessions/identity-cap.ts): its
 * largest redacted values cut first.
 */
export function buildIdentity(
  e: CanonicalEvent,
  settings: Pick<SessionSettings, 'redact_claims' | 'default_lifetime'> & Partial<Pick<SessionSettings, 'max_identity_bytes'>>,
  filters: IdentityFilters = identityFilters(settings),
): SessionIdentity | null {
  const span = sessionSpan(e, settings.default_lifetime);
  if (!span) return null;
  const s = e.session!;
  const other = redactScrubOptions(filters.other);
  const id: SessionIdentity = {
    session_id: span.session_id,
    user: e.user,
    claims: clean(s.claims, redactScrubOptions(filters.claims)) ?? {},
    login_at: span.login_at,
    expires_at: span.expires_at,
  };
  const idp = typeof s.idp === 'string' ? cleanString(s.idp, other) : undefined;
  if (idp !== undefined) id.idp = idp;
  const device = deviceOf(e.device, other);
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
  return cappedIdentity(extendedIdentity(id, storedOf(e), isRefresh(e)), settings.max_identity_bytes ?? DEFAULT_MAX_IDENTITY_BYTES);
}
