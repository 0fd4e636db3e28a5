/**
 * new_country: a successful login from a country the user has not logged in from within
 * `baseline` (event time), once the user has at least `learning` of history — counted from their
 * first login riskstream saw, whatever its outcome (CONTRACT §3). Only successful logins that name a
 * country make it known; countries seen while learning count as seen; no alert is raised while
 * learning, nor for the user's first successful login that names a country (nothing known to compare
 * it with: failed attempts, perhaps not the user's, teach no country, nor do logins not located — so
 * GeoIP turned on for a running deployment does not flag every user's next login).
 *
 * Per-user state is compact and bounded: the first login time, the newest login time, and per
 * country the last time seen, for at most {@link MAX_COUNTRIES} countries (the most
 * recently seen), pruned once older than `baseline` + allowed lateness. (It deliberately outlives
 * `state.login_max_age`: a month of countries is a few hundred bytes.)
 *
 * Order: a country counts as known for a login at `t` when it was seen at any time from
 * `t - baseline` on — including just after `t`, for a login arriving late. So of two logins from a
 * new country exactly one is flagged whatever their arrival order (the first to arrive), and a
 * replayed login is never flagged twice. Logins later than the allowed lateness are ignored.
 */
import { z } from 'zod';
import { durationMs, formatDuration, positiveMs } from '../duration.js';
import { isLogin, isSuccessfulLogin } from '../login.js';
import type { CanonicalEvent } from '../types.js';
import { isoTime } from './format.js';
import type { Detector, DetectorHit } from './types.js';

/** new_country's parameters. */
export const newCountryParams = z.strictObject({
  /** How far back a country counts as known (0s would know none: every login flagged). */
  baseline: positiveMs.prefault('30d'),
  /** History needed (from the first login) before anything is flagged. */
  learning: durationMs.prefault('7d'),
});
export type NewCountryParams = z.output<typeof newCountryParams>;

/** Window: `f` first and `l` newest login time; `c` country → last seen (event time); `s: 0` while no successful login named a country yet. */
export interface NewCountryWindow {
  f: number;
  l: number;
  c: Record<string, number>;
  s?: 0;
}

/** Most countries remembered per user (the most recently seen). */
export const MAX_COUNTRIES = 64;
/** Most known countries the evidence lists. */
const MAX_LISTED = 10;

/** The event's country code, upper case, or undefined. */
export function countryOf(event: CanonicalEvent): string | undefined {
  const c = event.geo?.country;
  if (typeof c !== 'string') return undefined;
  const v = c.trim().toUpperCase();
  return v && v.length <= 64 ? v : undefined;
}

function readWindow(w: unknown): NewCountryWindow | undefined {
  if (!w || typeof w !== 'object') return undefined;
  const { f, l, c, s } = w as Partial<NewCountryWindow>;
  if (typeof f !== 'number' || !Number.isFinite(f) || typeof l !== 'number' || !Number.isFinite(l)) return undefined;
  return { f, l, c: c && typeof c === 'object' ? lastSeen(c) : {}, ...(s === 0 ? { s } : {}) };
}

/** A new object of the countries with a finite last-seen time (in the same order). */
function lastSeen(c: Record<string, unknown>): Record<string, number> {
  const out: Record<string, number> = {};
  for (const k of Object.keys(c)) {
    const v = c[k];
    if (k === '__proto__')
      return Object.fromEntries(Object.entries(c).filter(([, x]) => typeof x === 'number' && Number.isFinite(x))) as Record<string, number>;
    if (typeof v === 'number' && Number.isFinite(v)) out[k] = v;
  }
  return out;
}

/** Countries seen within the baseline before (or just after) `t`, most recent first. */
function knownAt(w: NewCountryWindow, t: number, baseline: number): string[] {
  return Object.entries(w.c)
    .filter(([, last]) => last >= t - baseline)
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .map(([k]) => k);
}

function prune(w: NewCountryWindow, params: NewCountryParams, now: number, lateness: number): NewCountryWindow {
  const wm = Math.min(w.l, now);
  // Usually every country is live: `w` is the detector's own new window, kept as it is.
  let keys = 0;
  let allLive = true;
  for (const k in w.c) {
    keys++;
    if (!(w.c[k]! >= wm - params.baseline - lateness)) allLive = false;
  }
  if (allLive && keys <= MAX_COUNTRIES && !Object.hasOwn(w.c, '__proto__')) return w;
  let live = Object.entries(w.c).filter(([, last]) => last >= wm - params.baseline - lateness);
  if (live.length > MAX_COUNTRIES) live = live.sort((a, b) => b[1] - a[1]).slice(0, MAX_COUNTRIES);
  return { f: w.f, l: w.l, c: Object.fromEntries(live), ...(w.s === 0 ? { s: 0 as const } : {}) };
}

function toHit(event: CanonicalEvent, eventId: string, country: string, known: string[], w: NewCountryWindow, params: NewCountryParams): DetectorHit {
  const city = typeof event.geo?.city === 'string' ? event.geo.city : undefined;
  const listed = known.slice(0, MAX_LISTED);
  const knownText = listed.length ? `; known: ${listed.join(', ')}${known.length > listed.length ? ', …' : ''}` : '';
  return {
    time: event.time,
    summary: `Login from ${city ? `${city}, ` : ''}${country}, a country not seen in ${formatDuration(params.baseline)}${knownText}`,
    evidence: {
      country,
      city: city ?? null,
      ip: typeof event.ip === 'string' ? event.ip : null,
      known_countries: listed,
      baseline: formatDuration(params.baseline),
      learning: formatDuration(params.learning),
      history_since: isoTime(w.f),
    },
    eventIds: [eventId],
  };
}

/** The new_country detector. Window: {@link NewCountryWindow}. */
export const newCountry: Detector<NewCountryParams, NewCountryWindow> = {
  kind: 'new_country',
  params: newCountryParams,
  accepts: (event) => Number.isFinite(event.time) && isLogin(event),
  detect(window, { event, eventId }, params, now, limits) {
    if (!Number.isFinite(event.time) || !isLogin(event)) return { window, hits: [] };
    const lateness = Math.max(0, limits.allowedLateness);
    const t = event.time;
    const prev = readWindow(window);
    if (prev && t < Math.min(prev.l, now) - lateness) return { window, hits: [] }; // too late
    // prev.c: a new object. `s: 0` until a successful login names a country (then dropped).
    const w: NewCountryWindow = prev ? { f: Math.min(prev.f, t), l: Math.max(prev.l, t), c: prev.c } : { f: t, l: t, c: {} };
    const country = isSuccessfulLogin(event) ? countryOf(event) : undefined;
    if (!country) {
      // History starts (or goes on); no country learned: a failed attempt, or a login not located.
      if (!prev || prev.s === 0) w.s = 0;
      return { window: prune(w, params, now, lateness), hits: [] };
    }
    const learned = prev !== undefined && prev.s !== 0 && t - w.f >= params.learning;
    const known = (w.c[country] ?? -Infinity) >= t - params.baseline;
    const hits = learned && !known ? [toHit(event, eventId, country, knownAt(w, t, params.baseline), w, params)] : [];
    w.c[country] = Math.max(w.c[country] ?? t, t);
    return { window: prune(w, params, now, lateness), hits };
  },
};
