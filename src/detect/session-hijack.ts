/**
 * session_hijack: an event that carries `session.id` comes from a different device, ASN or
 * country than the session's login captured (`compare` chooses which; a property missing on
 * either side is not compared).
 *
 * The detector is pure: it compares the event with the captured identity attached to it under
 * {@link CAPTURED_SESSION} by the I/O edge (src/sessions/captured.ts looks the session up in the
 * session store, or among the batch's own logins). An event without one — a session riskstream
 * never saw, a session owned by another user, the login that captured it — is never flagged.
 * The attachment is a symbol-keyed property: it cannot come from input JSON, so a shipper cannot
 * forge the baseline.
 *
 * One hit per session and set of differing values: the window remembers which were reported
 * (bounded, pruned by age), so a hijacker's every click does not repeat the hit and a replay
 * reports nothing new. Which properties differ depends only on the event and the session, never
 * on arrival order.
 */
import { z } from 'zod';
import { attach, attachedValue } from '../attachment.js';
import { isRefresh, isSuccessfulLogin } from '../login.js';
import type { CanonicalEvent } from '../types.js';
import type { Detector, DetectorLimits } from './types.js';

/** The properties `compare` may name. */
export const HIJACK_PROPERTIES = ['device', 'asn', 'country'] as const;
/** One comparable property of a session use. */
export type HijackProperty = (typeof HIJACK_PROPERTIES)[number];

/** session_hijack's parameters. */
export const sessionHijackParams = z.strictObject({
  compare: z
    .array(z.enum(HIJACK_PROPERTIES, { message: `must be one of ${HIJACK_PROPERTIES.join(', ')}` }))
    .min(1, { message: 'must name at least one of device, asn, country' })
    .default([...HIJACK_PROPERTIES]),
});
export type SessionHijackParams = z.output<typeof sessionHijackParams>;

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

/** The comparable properties of an event or a stored login (device id, ASN, upper-case country). */
export function sessionProperties(e: { device?: unknown; network?: unknown; geo?: unknown }): Omit<CapturedSession, 'session_id' | 'user' | 'login_at'> {
  return addSessionProperties({}, e);
}

/** Adds `e`'s {@link sessionProperties} to `out` (in that order: device, asn, country) and returns it. */
export function addSessionProperties<T extends Partial<Pick<CapturedSession, HijackProperty>>>(
  out: T,
  e: { device?: unknown; network?: unknown; geo?: unknown },
): T {
  const dev = field(e.device, 'id');
  const asn = field(e.network, 'asn');
  const country = field(e.geo, 'country');
  if ((typeof dev === 'string' && dev !== '') || typeof dev === 'number') out.device = String(dev);
  const asnNum = typeof asn === 'number' ? asn : typeof asn === 'string' && /^\s*(AS)?\d+\s*$/i.test(asn) ? Number(asn.replace(/\D/g, '')) : undefined;
  // AS0 is no network's (RFC 7607): shippers write it for "unknown", so it is missing, not compared.
  if (asnNum !== undefined && Number.isFinite(asnNum) && asnNum !== 0) out.asn = asnNum;
  if (typeof country === 'string') {
    const c = country.trim();
    if (c) out.country = c.toUpperCase();
  }
  return out;
}

/** `v[key]` when `v` is an object (arrays included), else undefined. */
function field(v: unknown, key: string): unknown {
  return typeof v === 'object' && v !== null ? (v as Record<string, unknown>)[key] : undefined;
}

/** Reported (session id, differing values) keys with the event time of their hit. */
export type HijackWindow = Array<[string, number]>;

/** How many reported keys a user's window keeps (newest). */
const MAX_REPORTED = 32;

/**
 * A successful login that is not a refresh: it captures the session's baseline, unless the session
 * had one already. A refresh uses the session (a stolen refresh token is used from the thief's
 * device), and is compared with it.
 */
function startsSession(event: CanonicalEvent): boolean {
  return isSuccessfulLogin(event) && !isRefresh(event);
}

/**
 * True when `event` is compared with what `captured` holds: any use of the session, and a login
 * with the id of a session its user logged in with earlier (a second login cannot replace the
 * baseline unseen); the login that captured it is not.
 */
function comparable(event: CanonicalEvent, captured: CapturedSession | undefined): captured is CapturedSession {
  return captured !== undefined && (!startsSession(event) || captured.login_at < event.time);
}

/** True when the event carries a session id. */
function usesSession(event: CanonicalEvent): boolean {
  const id = event.session?.id as unknown;
  return (typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id));
}

function keep(window: HijackWindow, key: string, time: number, now: number, limits: DetectorLimits): HijackWindow {
  const next = [...window.filter(([k]) => k !== key), [key, time] as [string, number]].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const wm = Math.min(next[next.length - 1]![1], now);
  return next.filter(([, t]) => t >= wm - Math.max(0, limits.maxAge)).slice(-MAX_REPORTED);
}

const label: Record<HijackProperty, (v: string | number) => string> = {
  device: (v) => `device ${v}`,
  asn: (v) => `AS${v}`,
  country: (v) => String(v),
};

/** The session_hijack detector. Window: the reported keys ({@link HijackWindow}). */
export const sessionHijack: Detector<SessionHijackParams, HijackWindow> = {
  kind: 'session_hijack',
  params: sessionHijackParams,
  accepts: (event) => usesSession(event) && comparable(event, capturedOf(event)),
  detect(window, { event, eventId }, params, now, limits) {
    const unchanged = { window, hits: [] };
    const captured = capturedOf(event);
    if (!captured || !usesSession(event) || !comparable(event, captured)) return unchanged;
    if (captured.user !== event.user || event.time < captured.login_at) return unchanged;
    const seen = sessionProperties(event);
    const differs = params.compare.filter((p) => captured[p] !== undefined && seen[p] !== undefined && captured[p] !== seen[p]);
    if (differs.length === 0) return unchanged;
    const sessionId = captured.session_id;
    const key = `${sessionId}\u0000${differs.map((p) => `${p}=${seen[p]}`).join('\u0000')}`;
    const reported = Array.isArray(window) ? window : [];
    if (reported.some(([k]) => k === key)) return unchanged; // already reported (a repeat, a replay)
    const pick = (src: Partial<Record<HijackProperty, string | number>>) =>
      Object.fromEntries(params.compare.filter((p) => src[p] !== undefined).map((p) => [p, src[p]]));
    const summary = `session ${sessionId} used from ${differs.map((p) => `${label[p](seen[p]!)} (login: ${label[p](captured[p]!)})`).join(', ')}`;
    return {
      window: keep(reported, key, event.time, now, limits),
      hits: [
        {
          time: event.time,
          summary,
          evidence: { session_id: sessionId, login_at: new Date(captured.login_at).toISOString(), differs, login: pick(captured), event: pick(seen) },
          eventIds: [eventId],
        },
      ],
    };
  },
};
