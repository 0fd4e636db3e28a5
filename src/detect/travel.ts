/** Logins as places in time, and the speed needed to travel between two of them. */
import { getDistance } from 'geolib';
import type { CanonicalEvent, Geo, LoginRecord } from '../types.js';
import { groupDigits, isoTime, round } from './format.js';

/** Longest great-circle distance on geolib's sphere (half its circumference), in km. */
export const MAX_DISTANCE_KM = 20_038;

const finite = (v: unknown): v is number => typeof v === 'number' && Number.isFinite(v);

/**
 * True when `geo` has a usable position: finite numeric lat in [-90, 90] and lon in
 * [-180, 180], and not exactly (0, 0) — the "null island" that geolocation returns for unknown.
 * Country-only geo (no coordinates) is not usable: distance checks skip it.
 */
export function isUsableGeo(geo: unknown): geo is Geo & { lat: number; lon: number } {
  if (!geo || typeof geo !== 'object') return false;
  const { lat, lon } = geo as Record<string, unknown>;
  return finite(lat) && finite(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !(lat === 0 && lon === 0);
}

const r4 = (n: number): number => Math.round(n * 1e4) / 1e4;

/** The compact record of a login to remember, or undefined when it has no usable time or geo. */
export function toLoginRecord(event: CanonicalEvent, id: string): LoginRecord | undefined {
  const geo = event.geo;
  if (!finite(event.time) || !isUsableGeo(geo)) return undefined;
  const rec: LoginRecord = { time: event.time, lat: r4(geo.lat), lon: r4(geo.lon), id };
  if (finite(geo.accuracy_km) && geo.accuracy_km > 0) rec.acc = geo.accuracy_km;
  if (typeof event.ip === 'string' && event.ip) rec.ip = event.ip;
  if (typeof geo.city === 'string' && geo.city) rec.city = geo.city;
  if (typeof geo.country === 'string' && geo.country) rec.country = geo.country;
  const asn = event.network?.asn;
  if (finite(asn) && asn > 0) rec.asn = asn;
  return rec;
}

/** True when `r` is a well-formed remembered login (windows come back from Redis). */
export function isLoginRecord(r: unknown): r is LoginRecord {
  if (!r || typeof r !== 'object') return false;
  const x = r as Record<string, unknown>;
  return finite(x.time) && isUsableGeo(x);
}

/**
 * A remembered login as stored: `[time, lat, lon, id, acc, ip, city, country, asn]`, absent values
 * null and trailing ones dropped. A third smaller than the object form, in Redis and in the
 * JSON written at every commit.
 */
export type StoredLogin = [number, number, number, (string | null)?, (number | null)?, (string | null)?, (string | null)?, (string | null)?, (number | null)?];

/** Positions of a {@link StoredLogin} that hold numbers (accuracy, ASN); the others from 3 on hold strings. */
const NUMERIC_AT = (i: number): boolean => i === 4 || i === 8;

/** The stored form of a login. */
export function packLogin(r: LoginRecord): StoredLogin {
  const t: StoredLogin = [r.time, r.lat, r.lon, r.id ?? null, r.acc ?? null, r.ip ?? null, r.city ?? null, r.country ?? null, r.asn ?? null];
  while (t.length > 3 && t[t.length - 1] === null) t.pop();
  return t;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v ? v : undefined);

/** A stored login back as a record; also accepts the object form. Undefined when malformed. */
export function unpackLogin(v: unknown): LoginRecord | undefined {
  if (!Array.isArray(v)) return isLoginRecord(v) ? v : undefined;
  const time: unknown = v[0];
  const lat: unknown = v[1];
  const lon: unknown = v[2];
  if (!finite(time) || !usableLatLon(lat, lon)) return undefined;
  const r: LoginRecord = { time, lat, lon: lon as number };
  const id: unknown = v[3];
  const acc: unknown = v[4];
  if (str(id)) r.id = id as string;
  if (finite(acc) && acc > 0) r.acc = acc;
  if (str(v[5])) r.ip = v[5] as string;
  if (str(v[6])) r.city = v[6] as string;
  if (str(v[7])) r.country = v[7] as string;
  const asn: unknown = v[8];
  if (finite(asn) && asn > 0) r.asn = asn;
  return r;
}

const usableLatLon = (lat: unknown, lon: unknown): lat is number =>
  finite(lat) && finite(lon) && lat >= -90 && lat <= 90 && lon >= -180 && lon <= 180 && !(lat === 0 && lon === 0);

/**
 * True when `v` is a login exactly as {@link packLogin} writes it: unpacking and packing it again
 * gives an equal array, so a window of such logins can be kept as it is.
 */
export function isPackedLogin(v: unknown): v is StoredLogin {
  if (!Array.isArray(v) || v.length < 3 || v.length > 9) return false;
  if (!finite(v[0]) || !usableLatLon(v[1], v[2])) return false;
  for (let i = 3; i < v.length; i++) {
    const x: unknown = v[i];
    if (x === null ? i === v.length - 1 : NUMERIC_AT(i) ? !(finite(x) && x > 0) : !(typeof x === 'string' && x !== '')) return false;
  }
  return true;
}

/** {@link byTime} of two packed logins. */
export function byPackedTime(a: StoredLogin, b: StoredLogin): number {
  const ia = a[3] ?? '';
  const ib = b[3] ?? '';
  return a[0] - b[0] || (ia < ib ? -1 : ia > ib ? 1 : 0);
}

/** Orders logins by event time, then id, so "from" and "to" never depend on arrival order. */
export function byTime(a: LoginRecord, b: LoginRecord): number {
  const ia = a.id ?? '';
  const ib = b.id ?? '';
  return a.time - b.time || (ia < ib ? -1 : ia > ib ? 1 : 0);
}

/** Distance and speed between two logins (`a` not after `b`). */
export interface Trip {
  /** Great-circle distance, km. */
  distanceKm: number;
  /** Distance minus both accuracy radii when applied (≥ 0), km: the one speed is based on. */
  effectiveKm: number;
  hours: number;
  /** km/h; Infinity for a distance covered in no time. */
  speedKmh: number;
}

const RAD = Math.PI / 180;
/** geolib's earth radius (m). */
const EARTH_RADIUS_KM = 6_378.137;

/**
 * A quick haversine estimate (km, no input parsing) used only to skip pairs certainly closer
 * than a threshold before geolib measures them; agrees with geolib to a few metres.
 */
export function roughDistanceKm(a: LoginRecord, b: LoginRecord): number {
  return roughKm(a.lat, a.lon, b.lat, b.lon);
}

/** {@link roughDistanceKm} of two positions. */
export function roughKm(aLat: number, aLon: number, bLat: number, bLon: number): number {
  const dLat = (bLat - aLat) * RAD;
  const dLon = (bLon - aLon) * RAD;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(aLat * RAD) * Math.cos(bLat * RAD) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_KM * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Measures the trip `a` → `b`, subtracting both accuracy radii when `useAccuracy`. */
export function measureTrip(a: LoginRecord, b: LoginRecord, useAccuracy: boolean): Trip {
  const distanceKm = getDistance({ latitude: a.lat, longitude: a.lon }, { latitude: b.lat, longitude: b.lon }) / 1000;
  const radii = useAccuracy ? (a.acc ?? 0) + (b.acc ?? 0) : 0;
  const effectiveKm = Math.max(0, distanceKm - radii);
  const hours = Math.abs(b.time - a.time) / 3_600_000;
  const speedKmh = hours > 0 ? effectiveKm / hours : effectiveKm > 0 ? Infinity : 0;
  return { distanceKm, effectiveKm, hours, speedKmh };
}

/** Where a login was, in words: its city, else its country, else its coordinates. */
export function placeName(r: LoginRecord): string {
  return r.city ?? r.country ?? `${r.lat.toFixed(2)},${r.lon.toFixed(2)}`;
}

/** A login as evidence: time ISO, ip, city, country, lat, lon (JSON-safe). */
export function loginEvidence(r: LoginRecord): Record<string, unknown> {
  return { id: r.id ?? null, time: isoTime(r.time), ip: r.ip ?? null, city: r.city ?? null, country: r.country ?? null, lat: r.lat, lon: r.lon };
}

function duration(hours: number): string {
  if (hours === 0) return 'at the same time';
  if (hours < 1) return `in ${Math.max(1, Math.round(hours * 60))} min`;
  return `in ${hours.toFixed(1)} h`;
}

/** "London → Sydney: 16 994 km in 2.0 h = 8 497 km/h". */
export function tripSummary(a: LoginRecord, b: LoginRecord, t: Trip): string {
  const speed = Number.isFinite(t.speedKmh) ? ` = ${groupDigits(t.speedKmh)} km/h` : '';
  const trimmed = t.effectiveKm < t.distanceKm ? ` (${groupDigits(t.effectiveKm)} km beyond accuracy radii)` : '';
  return `${placeName(a)} → ${placeName(b)}: ${groupDigits(t.distanceKm)} km${trimmed} ${duration(t.hours)}${speed}`;
}

/** The evidence of an impossible trip: both logins, distance_km, speed_kmh (null if instant), hours. */
export function tripEvidence(a: LoginRecord, b: LoginRecord, t: Trip): Record<string, unknown> {
  return {
    from: loginEvidence(a),
    to: loginEvidence(b),
    distance_km: round(t.distanceKm),
    ...(t.effectiveKm < t.distanceKm ? { effective_km: round(t.effectiveKm) } : {}),
    speed_kmh: round(t.speedKmh),
    hours: round(t.hours, 2),
  };
}
