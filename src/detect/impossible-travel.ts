/**
 * impossible_travel: two successful logins of one user too far apart for the time between them.
 *
 * Every pair of a user's logins is judged once, by a rule that depends only on the two logins
 * (distance ≥ `min_distance_km` and speed > `max_speed_kmh`; with `ignore_same_ip`, different IPs), when the second of
 * them arrives — compared with every remembered login, earlier or later in event time. So the set
 * of flagged pairs never depends on arrival order, and a pair is never reported twice. (Comparing
 * only with the event-time neighbours would not be order-free: A, B then a late X between them
 * judges A–B, which arriving A, X, B never does.) Pairs further apart in time than the longest
 * trip at `max_speed_kmh` (~20 h at 1000 km/h) can never be impossible, which bounds the logins
 * worth remembering: `limits.maxLogins` (those stamped after `now` holding at most half of them, so a
 * skewed device cannot push real logins out: bounded-keep.ts), and no older than that horizon plus the allowed lateness
 * (and `limits.maxAge`) behind the newest one.
 *
 * One hit per incoming login at most: its evidence shows the impossible pair nearest in time
 * (`from`, `to`, `distance_km`, `speed_kmh`, `hours`) and lists every impossible pair it formed
 * (`pairs`, as [earlier id, later id]). The hit's time is the later login of the shown pair.
 */
import { z } from 'zod';
import type { LoginRecord } from '../types.js';
import { asnIn, ipInNetworks } from './allow-list.js';
import { canonicalIp } from '../net/address-class.js';
import { isSuccessfulLogin } from '../login.js';
import { cidr } from './params.js';
import {
  MAX_DISTANCE_KM,
  byPackedTime,
  byTime,
  isPackedLogin,
  measureTrip,
  packLogin,
  roughKm,
  toLoginRecord,
  tripEvidence,
  tripSummary,
  unpackLogin,
  type StoredLogin,
  type Trip,
} from './travel.js';
import { keptRange } from './bounded-keep.js';
import type { Detector, DetectorHit, DetectorLimits } from './types.js';

/** impossible_travel's parameters. */
export const impossibleTravelParams = z.strictObject({
  max_speed_kmh: z.number().positive().default(1000),
  min_distance_km: z.number().nonnegative().default(500),
  allow_networks: z.array(cidr).default([]),
  allow_asns: z.array(z.number().int().nonnegative()).default([]),
  /** Apply the accuracy radius of both logins (distance minus both radii). */
  use_accuracy_radius: z.boolean().default(true),
  /**
   * Never flag two logins from one IP address (their locations then differ only by the geo source:
   * an IdP's location for a VPN or proxy exit, a GeoIP update). Off by default: the events' own
   * locations are judged, whatever their IPs.
   */
  ignore_same_ip: z.boolean().default(false),
});
export type ImpossibleTravelParams = z.output<typeof impossibleTravelParams>;

/** Remembered logins, sorted by event time, in their stored form (see {@link travelLogins}). */
export type TravelWindow = StoredLogin[];

/** The remembered logins of a window as records (malformed entries dropped). */
export function travelLogins(window: unknown): LoginRecord[] {
  if (!Array.isArray(window)) return [];
  const out: LoginRecord[] = [];
  for (const v of window) {
    const r = unpackLogin(v);
    if (r) out.push(r);
  }
  return out;
}

interface Pair {
  a: LoginRecord;
  b: LoginRecord;
  other: LoginRecord;
  trip: Trip;
}

/** How far apart in time (ms) two logins can be and still be an impossible trip. */
function horizonMs(params: ImpossibleTravelParams): number {
  return (MAX_DISTANCE_KM / params.max_speed_kmh) * 3_600_000;
}

/** Windows made by {@link remember} (sorted, packed, never modified): read without a check. */
const built = new WeakSet<readonly StoredLogin[]>();

/**
 * The remembered logins in their stored form, sorted by {@link byTime}: the window itself when it
 * is so already (as written by {@link remember}), else its well-formed logins packed and sorted.
 */
function packedLogins(window: unknown): readonly StoredLogin[] {
  if (!Array.isArray(window)) return [];
  if (built.has(window)) return window as StoredLogin[];
  let sorted = true;
  for (let i = 0; i < window.length && sorted; i++) {
    const v: unknown = window[i];
    sorted = isPackedLogin(v) && (i === 0 || byPackedTime(window[i - 1] as StoredLogin, v) <= 0);
  }
  return sorted ? (window as StoredLogin[]) : travelLogins(window).map(packLogin).sort(byPackedTime);
}

/**
 * The remembered logins but those from an allowed network or ASN: remembered before the admin
 * allow-listed it (a reload), such a login is forgotten rather than paired. The logins themselves
 * when none is (always without an allow-list).
 */
function notAllowed(logins: readonly StoredLogin[], params: ImpossibleTravelParams): readonly StoredLogin[] {
  if (params.allow_networks.length === 0 && params.allow_asns.length === 0) return logins;
  const kept = logins.filter((o) => !ipInNetworks(o[5], params.allow_networks) && !asnIn(o[8], params.allow_asns));
  return kept.length === logins.length ? logins : kept;
}

/** The impossible pairs `rec` forms with the remembered logins. */
function impossiblePairs(rec: LoginRecord, logins: readonly StoredLogin[], params: ImpossibleTravelParams): Pair[] {
  const horizon = horizonMs(params);
  // One address however it is spelled (2001:DB8::9 and 2001:db8::9, ::ffff:198.51.100.9 and 198.51.100.9).
  const ip = params.ignore_same_ip && rec.ip !== undefined ? canonicalIp(rec.ip) : undefined;
  const out: Pair[] = [];
  for (const o of logins) {
    if (Math.abs(o[0] - rec.time) > horizon) continue;
    if (ip !== undefined && typeof o[5] === 'string' && (o[5] === rec.ip || canonicalIp(o[5]) === ip)) continue;
    // Most of a user's logins are near each other: skip pairs surely under the minimum distance
    // (with a margin far above the estimate's error) without geolib's input parsing.
    const radii = params.use_accuracy_radius ? (rec.acc ?? 0) + (o[4] ?? 0) : 0;
    if (roughKm(rec.lat, rec.lon, o[1], o[2]) - radii < params.min_distance_km * 0.99 - 1) continue;
    const other = unpackLogin(o)!;
    const [a, b] = byTime(other, rec) <= 0 ? [other, rec] : [rec, other];
    const trip = measureTrip(a, b, params.use_accuracy_radius);
    if (trip.effectiveKm >= params.min_distance_km && trip.speedKmh > params.max_speed_kmh) out.push({ a, b, other, trip });
  }
  return out;
}

/** Nearest in time first, then fastest, then by the partner's time and id. */
function closest(rec: LoginRecord) {
  return (x: Pair, y: Pair): number =>
    Math.abs(x.other.time - rec.time) - Math.abs(y.other.time - rec.time) ||
    (y.trip.speedKmh === x.trip.speedKmh ? 0 : y.trip.speedKmh > x.trip.speedKmh ? 1 : -1) ||
    byTime(x.other, y.other);
}

function toHit(rec: LoginRecord, pairs: Pair[]): DetectorHit {
  const sorted = [...pairs].sort(closest(rec));
  const { a, b, trip } = sorted[0]!;
  const more = sorted.length - 1;
  const ids = [rec.id ?? '', ...sorted.map((p) => p.other.id ?? '')].filter((x) => x !== '');
  return {
    time: b.time,
    summary: tripSummary(a, b, trip) + (more > 0 ? ` (and ${more} more impossible pair${more > 1 ? 's' : ''})` : ''),
    evidence: { ...tripEvidence(a, b, trip), pairs: sorted.map((p) => [p.a.id ?? null, p.b.id ?? null]) },
    eventIds: [...new Set(ids)],
  };
}

/**
 * One hit per later login of the pairs: `rec`'s own (pairs with earlier logins), and — `rec` arriving
 * late — one for each later login it forms a pair with, at that login's time, as that login would have
 * reported it had `rec` arrived in event-time order (so the behavior expires as it would then).
 */
function hitsOf(rec: LoginRecord, pairs: Pair[]): DetectorHit[] {
  const byLater = new Map<LoginRecord, Pair[]>();
  for (const p of pairs) {
    const later = p.b === rec ? rec : p.b;
    const list = byLater.get(later);
    if (list) list.push({ ...p, other: p.a === rec ? rec : p.a });
    else byLater.set(later, [later === rec ? p : { ...p, other: p.a === rec ? rec : p.a }]);
  }
  return [...byLater].map(([later, ps]) => toHit(later, ps)).sort((x, y) => x.time - y.time);
}

/**
 * Adds `rec` to the sorted logins, then keeps `maxLogins` of the logins within the useful horizon:
 * the newest, those stamped after `now` holding at most half (bounded-keep.ts). The remembered logins are kept as they are (packed, never modified).
 */
function remember(logins: readonly StoredLogin[], rec: LoginRecord, params: ImpossibleTravelParams, now: number, limits: DetectorLimits): TravelWindow {
  const packed = packLogin(rec);
  let at = logins.length;
  while (at > 0 && byPackedTime(logins[at - 1]!, packed) > 0) at--;
  // The logins with `packed` inserted at `at`, read in place.
  const n = logins.length + 1;
  const nth = (i: number): StoredLogin => (i < at ? logins[i]! : i === at ? packed : logins[i - 1]!);
  const wm = Math.min(nth(n - 1)[0], now);
  const keep = Math.min(Math.max(0, limits.maxAge), horizonMs(params) + Math.max(0, limits.allowedLateness));
  // Sorted by time: the logins within the horizon are a suffix; of those, `maxLogins` by the bound
  // policy (the newest, those stamped after `now` holding at most half: bounded-keep.ts).
  let from = 0;
  while (from < n && !(nth(from)[0] >= wm - keep)) from++;
  const cap = Math.max(1, limits.maxLogins);
  let lo = from;
  let hi = n;
  if (n - from > cap) [lo, hi] = keptRange(from, n, cap, now, (i) => nth(i)[0]);
  const out: TravelWindow = [];
  for (let i = lo; i < hi; i++) out.push(nth(i));
  built.add(out);
  return out;
}

/** The impossible_travel detector. Window: the user's recent logins ({@link TravelWindow}). */
export const impossibleTravel: Detector<ImpossibleTravelParams, TravelWindow> = {
  kind: 'impossible_travel',
  params: impossibleTravelParams,
  accepts: (event) => isSuccessfulLogin(event),
  detect(window, { event, eventId }, params, now, limits) {
    const unchanged = { window, hits: [] };
    if (!isSuccessfulLogin(event)) return unchanged;
    if (ipInNetworks(event.ip, params.allow_networks) || asnIn(event.network?.asn, params.allow_asns)) return unchanged;
    const rec = toLoginRecord(event, eventId);
    if (!rec) return unchanged;
    const logins = notAllowed(packedLogins(window), params);
    for (const l of logins) if (l[3] === rec.id) return unchanged; // the same login again (replay)
    const pairs = impossiblePairs(rec, logins, params);
    return { window: remember(logins, rec, params, now, limits), hits: pairs.length ? hitsOf(rec, pairs) : [] };
  },
};
