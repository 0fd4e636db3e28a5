/**
 * session_hijack: an event that carries `session.id` comes from a different device, ASN or
 * country than the session's login captured (`compare` chooses which; a property missing on
 * either side is not compared).
 *
 * The detector is pure: it compares the event with the captured identity attached to it under
 * `CAPTURED_SESSION` (src/detect/captured-session.ts) by the I/O edge (src/sessions/captured.ts
 * looks the session up in the session store, or among the batch's own logins). An event without
 * one — a session riskstream never saw, a session owned by another user, the login that captured
 * it — is never flagged.
 * The attachment is a symbol-keyed property: it cannot come from input JSON, so a shipper cannot
 * forge the baseline.
 *
 * A device id is compared without letter case (a GUID differing only in case is one device).
 * One hit per session and set of differing values: the window remembers which were reported
 * (bounded, pruned by age), so a hijacker's every click does not repeat the hit and a replay
 * reports nothing new. Which properties differ depends only on the event and the session, never
 * on arrival order.
 */
import { z } from 'zod';
import { attachedValue } from '../attachment.js';
import { HIJACK_PROPERTIES, SESSION_END, capturedOf, revokedUse, sessionProperties, type CapturedSession, type HijackProperty } from './captured-session.js';
import { isRefresh, isSuccessfulLogin } from '../login.js';
import type { CanonicalEvent } from '../types.js';
import type { Detector, DetectorHit, DetectorLimits } from './types.js';
import { expiresAfterOf } from './params.js';
import { keptRange } from './bounded-keep.js';
import { storedSessionId } from '../secrets/stored-ids.js';

/** session_hijack's parameters. */
export const sessionHijackParams = z.strictObject({
  compare: z
    .array(z.enum(HIJACK_PROPERTIES, { message: `must be one of ${HIJACK_PROPERTIES.join(', ')}` }))
    .min(1, { message: 'must name at least one of device, asn, country' })
    .default([...HIJACK_PROPERTIES]),
});
export type SessionHijackParams = z.output<typeof sessionHijackParams>;

/** The end of the session window a login starts: as attached, else its `session.expires_at` (epoch ms, as ingest gives it), else none. */
function windowEnd(event: CanonicalEvent): number {
  const exp = event.session?.expires_at;
  return attachedValue<number>(event, SESSION_END) ?? (typeof exp === 'number' && Number.isFinite(exp) ? exp : Infinity);
}

/** Reported (session id, differing values) keys with the event time of their hit. */
export type HijackWindow = Array<[string, number]> | HijackState;

/**
 * A use of a session no login was known of when it came (its login late: an IdP's log behind a
 * proxy's), kept for that login: the session's stored id (src/secrets/stored-ids.ts: a JWT's hash),
 * event time, event id and what it was used from.
 */
export interface PendingUse {
  s: string;
  t: number;
  i: string;
  p: Omit<CapturedSession, 'session_id' | 'user' | 'login_at'>;
}

/** The window: reported keys (`r`) and uses waiting for their login (`u`). A bare array: reported keys only (as stored before). */
export interface HijackState {
  r: Array<[string, number]>;
  u?: PendingUse[];
}

/** How many reported keys a user's window keeps (newest). */
const MAX_REPORTED = 32;
/** How many uses waiting for their login a user's window keeps (src/detect/bounded-keep.ts). */
const MAX_PENDING = 16;

const reportedOf = (w: HijackWindow | undefined): Array<[string, number]> => (Array.isArray(w) ? w : (w?.r ?? []));
const pendingOf = (w: HijackWindow | undefined): PendingUse[] => (Array.isArray(w) || !w ? [] : (w.u ?? []));
const windowOf = (r: Array<[string, number]>, u: PendingUse[]): HijackWindow => (u.length ? { r, u } : r);

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

/** The event's session id as given (a string or a finite number), or undefined. */
function rawSessionId(event: CanonicalEvent): string | undefined {
  const id = event.session?.id as unknown;
  return (typeof id === 'string' && id !== '') || (typeof id === 'number' && Number.isFinite(id)) ? String(id) : undefined;
}

/**
 * The reported keys with `key` reported at `time` — taken at most at `now`, where its hit's expiry
 * counts from (reducer's hitExpiry): a report stamped in the future silences repeats only while its
 * hit counts.
 */
function keep(window: Array<[string, number]>, key: string, time: number, now: number, limits: DetectorLimits): Array<[string, number]> {
  const next = [...window.filter(([k]) => k !== key), [key, Math.min(time, now)] as [string, number]].sort((a, b) => a[1] - b[1] || (a[0] < b[0] ? -1 : 1));
  const wm = Math.min(next[next.length - 1]![1], now);
  return next.filter(([, t]) => t >= wm - Math.max(0, limits.maxAge)).slice(-MAX_REPORTED);
}

/**
 * `uses` with `use` added, those more than `allowedLateness` older than the newest dropped (the
 * newest taken at most at `now`: a use stamped in the future, a skewed clock, drops no other), at
 * most {@link MAX_PENDING} kept by the shared bound rule (src/detect/bounded-keep.ts: those stamped
 * after `now` hold at most half of them).
 */
function keepPending(uses: readonly PendingUse[], use: PendingUse, now: number, limits: DetectorLimits): PendingUse[] {
  const next = [...uses.filter((u) => u.i !== use.i), use].sort((a, b) => a.t - b.t || (a.i < b.i ? -1 : 1));
  const newest = Math.min(next[next.length - 1]!.t, now);
  const kept = next.filter((u) => u.t >= newest - Math.max(0, limits.allowedLateness));
  if (kept.length <= MAX_PENDING) return kept;
  const [from, to] = keptRange(0, kept.length, MAX_PENDING, now, (i) => kept[i]!.t);
  return kept.slice(from, to);
}

const label: Record<HijackProperty, (v: string | number) => string> = {
  device: (v) => `device ${v}`,
  asn: (v) => `AS${v}`,
  country: (v) => String(v),
};

/**
 * A property's value as compared: a device id without letter case (one device's GUID is written
 * upper case by one source, lower case by another: Windows and Intune vs Entra), ASN and country
 * as stored (a number; an upper-case code).
 */
const asCompared: Record<HijackProperty, (v: string | number | undefined) => string | number | undefined> = {
  device: (v) => (typeof v === 'string' ? v.toLowerCase() : v),
  asn: (v) => v,
  country: (v) => v,
};

/** The hit of a use (`seen`, at `time`) of a session whose login captured `captured`, if any property differs and it was not reported. */
function compare(
  reported: Array<[string, number]>,
  captured: { session_id: string } & Omit<CapturedSession, 'session_id' | 'user'>,
  seen: Omit<CapturedSession, 'session_id' | 'user' | 'login_at'>,
  time: number,
  eventId: string,
  params: SessionHijackParams,
  now: number,
): { key: string; hit: DetectorHit } | undefined {
  const differs = params.compare.filter((p) => captured[p] !== undefined && seen[p] !== undefined && asCompared[p](captured[p]) !== asCompared[p](seen[p]));
  if (differs.length === 0) return undefined;
  const sessionId = captured.session_id;
  const key = `${sessionId}\u0000${differs.map((p) => `${p}=${asCompared[p](seen[p])}`).join('\u0000')}`;
  // Already reported (a repeat, a replay) — while that hit still counts: one that expired (or
  // arrived expired: a backfill) never silences the hijack still going on.
  const expiresAfter = expiresAfterOf(params);
  if (reported.some(([k, t]) => k === key && (expiresAfter === null || t + expiresAfter > now))) return undefined;
  const pick = (src: Partial<Record<HijackProperty, string | number>>) =>
    Object.fromEntries(params.compare.filter((p) => src[p] !== undefined).map((p) => [p, src[p]]));
  const summary = `session ${sessionId} used from ${differs.map((p) => `${label[p](seen[p]!)} (login: ${label[p](captured[p]!)})`).join(', ')}`;
  return {
    key,
    hit: {
      time,
      summary,
      evidence: { session_id: sessionId, login_at: new Date(captured.login_at).toISOString(), differs, login: pick(captured), event: pick(seen) },
      eventIds: [eventId],
    },
  };
}

/**
 * The session_hijack detector. Window: the reported keys and the uses waiting for a late login
 * ({@link HijackWindow}). A use of a session no login is known of yet is kept (within
 * `allowedLateness` of the newest such use): when the session's login arrives after it — earlier in
 * event time — the use is compared then, as it would have been in event-time order, if it lies in
 * the window that login starts (`[login time, end)`, {@link SESSION_END}).
 */
export const sessionHijack: Detector<SessionHijackParams, HijackWindow> = {
  kind: 'session_hijack',
  params: sessionHijackParams,
  accepts: (event) => rawSessionId(event) !== undefined && !revokedUse(event),
  detect(window, { event, eventId }, params, now, limits) {
    const unchanged = { window, hits: [] };
    const captured = capturedOf(event);
    const reported = reportedOf(window);
    const pending = pendingOf(window);
    const sid = rawSessionId(event);
    if (sid === undefined || revokedUse(event)) return unchanged;
    if (startsSession(event) && !comparable(event, captured)) {
      // The login that captures the session: uses of it that came before it are compared now, those
      // within the window it starts (a use after the session's end is not compared).
      const end = windowEnd(event);
      const stored = storedSessionId(sid);
      // Waiting uses name the session by its stored id (a raw one: kept before that was so).
      const mine = pending.filter((u) => (u.s === stored || u.s === sid) && u.t >= event.time && u.t < end);
      if (!mine.length) return unchanged;
      // Reported under the stored id, as a use compared with the stored login is: one key per
      // session and difference whichever way it came, and no token (a JWT session id) kept.
      const base = { session_id: stored, login_at: event.time, ...sessionProperties(event) };
      let r = reported;
      const hits: DetectorHit[] = [];
      for (const u of mine) {
        const c = compare(r, base, u.p, u.t, u.i, params, now);
        if (!c) continue;
        r = keep(r, c.key, u.t, now, limits);
        hits.push(c.hit);
      }
      return {
        window: windowOf(
          r,
          pending.filter((u) => !mine.includes(u)),
        ),
        hits,
      };
    }
    if (!captured || captured.user !== event.user) {
      // No login known of this session yet: kept for a login arriving late.
      if (startsSession(event)) return unchanged;
      const use = { s: storedSessionId(sid), t: event.time, i: eventId, p: sessionProperties(event) };
      return { window: windowOf(reported, keepPending(pending, use, now, limits)), hits: [] };
    }
    if (!comparable(event, captured) || event.time < captured.login_at) return unchanged;
    const c = compare(reported, captured, sessionProperties(event), event.time, eventId, params, now);
    if (!c) return unchanged;
    return { window: windowOf(keep(reported, c.key, event.time, now, limits), pending), hits: [c.hit] };
  },
};
