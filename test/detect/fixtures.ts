/** Shared fixtures for detector tests: places, a frozen clock, limits and a window-threading runner. */
import { expect } from 'vitest';
import type { CanonicalEvent } from '../../src/types.js';
import type { Detector, DetectorHit, DetectorLimits } from '../../src/detect/types.js';

/** Frozen reference time: 2026-11-23T08:00:00Z. */
export const T0 = Date.parse('2026-11-23T08:00:00Z');
export const MIN = 60_000;
export const HOUR = 3_600_000;

export const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * 24 * HOUR, allowedLateness: 10 * MIN };

export const PLACES = {
  London: { lat: 51.5074, lon: -0.1278, country: 'GB', city: 'London' },
  Paris: { lat: 48.8566, lon: 2.3522, country: 'FR', city: 'Paris' },
  Berlin: { lat: 52.52, lon: 13.405, country: 'DE', city: 'Berlin' },
  NewYork: { lat: 40.7128, lon: -74.006, country: 'US', city: 'New York' },
  Sydney: { lat: -33.8688, lon: 151.2093, country: 'AU', city: 'Sydney' },
  Singapore: { lat: 1.3521, lon: 103.8198, country: 'SG', city: 'Singapore' },
  Tokyo: { lat: 35.6762, lon: 139.6503, country: 'JP', city: 'Tokyo' },
  Suva: { lat: -18.1416, lon: 178.4419, country: 'FJ', city: 'Suva' },
  Apia: { lat: -13.8333, lon: -171.7667, country: 'WS', city: 'Apia' },
} as const;
export type Place = keyof typeof PLACES;

let seq = 0;
/** A successful login of alice at `place`, `at` ms after T0. */
export function login(place: Place, at: number, extra: Partial<CanonicalEvent> & { acc?: number } = {}): CanonicalEvent {
  const { acc, ...rest } = extra;
  return {
    type: 'login',
    id: `login-${++seq}`,
    user: 'alice@example.com',
    time: T0 + at,
    outcome: 'success',
    ip: `198.51.100.${seq % 250}`,
    geo: { ...PLACES[place], ...(acc !== undefined ? { accuracy_km: acc } : {}) },
    ...rest,
  };
}

/** An event of `type` at `at` ms after T0. */
export function ev(type: string, at: number, fields: Record<string, unknown> = {}): CanonicalEvent {
  return { type, id: `${type}-${++seq}`, user: 'alice@example.com', time: T0 + at, ...fields };
}

/** Result of feeding events to a detector one by one. */
export interface Run<W> {
  hits: DetectorHit[];
  /** Hits per input event, in input order. */
  perEvent: DetectorHit[][];
  window: W | undefined;
}

/**
 * Feeds `events` in the given (arrival) order as the reducer does: `accepts` first, then
 * `detect`, threading the window through a JSON round trip as if stored in Redis.
 */
export function run<P, W>(d: Detector<P, W>, params: P, events: CanonicalEvent[], opts: { now?: number; limits?: DetectorLimits; window?: W } = {}): Run<W> {
  let window = opts.window;
  const perEvent: DetectorHit[][] = [];
  for (const event of events) {
    if (!d.accepts(event, params)) {
      perEvent.push([]);
      continue;
    }
    const r = d.detect(window, { event, eventId: event.id ?? 'x' }, params, opts.now ?? T0 + 30 * 24 * HOUR, opts.limits ?? LIMITS);
    const json = JSON.stringify(r.window);
    window = json === undefined ? undefined : (JSON.parse(json) as W);
    expect(nonFinite(r.hits)).toEqual([]);
    expect(nonFinite(r.window)).toEqual([]);
    perEvent.push(r.hits);
  }
  return { hits: perEvent.flat(), perEvent, window };
}

/** Paths of numbers in `v` that JSON cannot carry (Infinity, NaN). */
export function nonFinite(v: unknown, path = '$'): string[] {
  if (typeof v === 'number') return Number.isFinite(v) ? [] : [path];
  if (Array.isArray(v)) return v.flatMap((x, i) => nonFinite(x, `${path}[${i}]`));
  if (v && typeof v === 'object') return Object.entries(v).flatMap(([k, x]) => nonFinite(x, `${path}.${k}`));
  return [];
}

/** Impossible-travel pairs flagged by `hits`, as sorted "idA|idB" strings. */
export function pairIds(hits: DetectorHit[]): string[] {
  return hits.flatMap((h) => (h.evidence.pairs as string[][]).map((p) => [...p].sort().join('|'))).sort();
}
