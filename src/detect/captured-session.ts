/**
 * What the I/O edge attaches to an event for session_hijack (src/detect/session-hijack.ts): the
 * captured identity of the event's session, a revoked-session mark, the end of the session window
 * a login starts; and the comparable properties of an event or a stored login. Symbol-keyed
 * (src/attachment.ts): input JSON can never carry them, so a shipper cannot forge a baseline.
 */
import { attach, attachedValue } from '../attachment.js';
import { scrubId } from '../secrets/secret-values.js';
import type { CanonicalEvent } from '../types.js';

/** The properties session_hijack's `compare` may name. */
export const HIJACK_PROPERTIES = ['device', 'asn', 'country'] as const;
/** One comparable property of a session use. */
export type HijackProperty = (typeof HIJACK_PROPERTIES)[number];

/** What a session's login captured, as the detector compares it. */
export interface CapturedSession {
  /** The session's stored id (a token-shaped id is a fingerprint: never the raw token). */
  session_id: string;
  /** The user the session is bound to. */
  user: string;
  /** Event time of the session's login (epoch ms). */
  login_at: number;
  device?: string;
  asn?: number;
  country?: string;
}

/** Symbol under which the I/O edge attaches a session's {@link CapturedSession} to an event. */
export const CAPTURED_SESSION: unique symbol = Symbol('riskstream.capturedSession');

/** The captured identity attached to `event`, if any. */
export function capturedOf(event: CanonicalEvent): CapturedSession | undefined {
  return attachedValue<CapturedSession>(event, CAPTURED_SESSION);
}

/** Attaches (or, with undefined, removes) the captured identity of the event's session. */
export function attachCaptured(event: CanonicalEvent, captured: CapturedSession | undefined): void {
  attach(event, CAPTURED_SESSION, captured);
}

/**
 * Symbol under which the I/O edge marks an event whose session was revoked (its tombstone found
 * when the event was routed): such a use has no baseline, none from the owner's memory either.
 */
export const SESSION_REVOKED: unique symbol = Symbol('riskstream.sessionRevoked');

/** True when the event's session was found revoked as it was routed. */
export function revokedUse(event: CanonicalEvent): boolean {
  return attachedValue<boolean>(event, SESSION_REVOKED) === true;
}

/** Marks (or unmarks) the event's session as revoked. */
export function markRevoked(event: CanonicalEvent, revoked: boolean): void {
  attach(event, SESSION_REVOKED, revoked ? true : undefined);
}

/**
 * Symbol under which the partition owner attaches to a session login the end of the session window
 * it starts (src/sessions/baseline.ts): the uses kept for a late login are compared with it only
 * within `[login time, end)`. A login that starts nothing (it extends the session, or is refused)
 * gets its own time: an empty window.
 */
export const SESSION_END: unique symbol = Symbol('riskstream.sessionEnd');

/** Attaches (or, with undefined, removes) the end of the session window the login `event` starts. */
export function attachSessionEnd(event: CanonicalEvent, end: number | undefined): void {
  attach(event, SESSION_END, end);
}

/** The comparable properties of an event or a stored login (device id, ASN, upper-case country). */
export function sessionProperties(e: { device?: unknown; network?: unknown; geo?: unknown }): Omit<CapturedSession, 'session_id' | 'user' | 'login_at'> {
  return addSessionProperties({}, e);
}

/** Adds `e`'s {@link sessionProperties} to `out` (in that order: device, asn, country) and returns it. */
export function addSessionProperties<T extends Partial<Pick<CapturedSession, HijackProperty>>>(
  out: T,
  e: { device?: unknown; network?: unknown; geo?: unknown },
): T {
  const dev = deviceKey(field(e.device, 'id'));
  const asn = field(e.network, 'asn');
  const country = field(e.geo, 'country');
  if (dev !== undefined) out.device = dev;
  const asnNum = typeof asn === 'number' ? asn : typeof asn === 'string' && /^\s*(AS)?\d+\s*$/i.test(asn) ? Number(asn.replace(/\D/g, '')) : undefined;
  // AS0 is no network's (RFC 7607): shippers write it for "unknown", so it is missing, not compared.
  if (asnNum !== undefined && Number.isFinite(asnNum) && asnNum !== 0) out.asn = asnNum;
  if (typeof country === 'string') {
    const c = country.trim();
    if (c) out.country = c.toUpperCase();
  }
  return out;
}

/**
 * A device id in one form, whether an event's (raw) or a stored login's (its tokens fingerprinted,
 * a JWT as `{redacted: "jwt", sha256}`): a token-shaped id is its fingerprint
 * (`[redacted jwt|token sha256:<hex>]`), so a session's own device is never "another device", and
 * no token is kept in the detector's state. Undefined when there is no id.
 */
function deviceKey(dev: unknown): string | undefined {
  if (typeof dev === 'number') return String(dev);
  if (typeof dev === 'string') return dev === '' ? undefined : scrubId(dev);
  const sha = field(dev, 'sha256');
  return field(dev, 'redacted') === 'jwt' && typeof sha === 'string' ? `[redacted jwt sha256:${sha}]` : undefined;
}

/** `v[key]` when `v` is an object (arrays included), else undefined. */
function field(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
}
