import { isIP, isIPv4 } from 'node:net';
import { resolve } from 'node:path';
import { LRUCache } from 'lru-cache';
import maxmind, { type CityResponse, type Reader } from 'maxmind';
import { RiskstreamError } from '../errors.js';
import type { CanonicalEvent, Geo, StreamEvent } from '../types.js';
import { isLogin } from '../login.js';
import { isUsableGeo } from '../detect/travel.js';
import { countryCode } from '../country-code.js';

/** Options for opening a MaxMind city database. */
export interface GeoIpOptions {
  /** Max cached lookups (hits and misses). Default 10 000 (`geoip.cache_size`). */
  cacheSize?: number;
  /** Reload the file when it changes on disk (clears the cache). Default false. */
  watch?: boolean;
  /** Event types to locate. Default: the logins (src/login.ts). */
  types?: Iterable<string>;
}

/** Sentinel for a cached miss (lru-cache cannot hold null). */
const MISS = false as const;

/**
 * IP → location from a MaxMind City database (GeoLite2-City / GeoIP2-City `.mmdb`), with an
 * LRU cache in front. `enrich` fills `geo` on logins (and session uses) that carry an `ip` but no usable `geo`.
 */
export class GeoIp {
  private readonly cache: LRUCache<string, Geo | typeof MISS>;
  private readonly types: ReadonlySet<string> | undefined;

  private constructor(
    private readonly reader: Reader<CityResponse>,
    opts: GeoIpOptions,
  ) {
    this.cache = new LRUCache({ max: Math.max(1, opts.cacheSize ?? 10_000) });
    this.types = opts.types ? new Set(opts.types) : undefined;
  }

  /** Opens `path`. Throws CONFIG_INVALID when the file is missing or not a MaxMind DB. */
  static async open(path: string, opts: GeoIpOptions = {}): Promise<GeoIp> {
    let geo: GeoIp | undefined;
    try {
      const reader = await maxmind.open<CityResponse>(path, {
        cache: { max: 1 }, // our LRU caches the mapped result; skip the reader's own cache
        ...(opts.watch ? { watchForUpdates: true, watchForUpdatesNonPersistent: true, watchForUpdatesHook: () => geo?.cache.clear() } : {}),
      });
      geo = new GeoIp(reader, opts);
      return geo;
    } catch (e) {
      throw new RiskstreamError('CONFIG_INVALID', `geoip.mmdb: cannot open ${path}: ${(e as Error).message}`, { path }, { cause: e });
    }
  }

  /** The location of `ip`, or null when unknown (private ranges, not in the database, no coordinates). */
  lookup(ip: string): Geo | null {
    const cached = this.cache.get(ip);
    if (cached !== undefined) return cached === MISS ? null : cached;
    // IPv4-mapped IPv6 (::ffff:81.2.69.142, common behind dual-stack proxies) → IPv4.
    const addr = ip.startsWith('::ffff:') && isIPv4(ip.slice(7)) ? ip.slice(7) : ip;
    const geo = isIP(addr) ? toGeo(this.safeGet(addr)) : null;
    this.cache.set(ip, geo ?? MISS);
    return geo;
  }

  /**
   * Returns the event with `geo` filled from `ip` when it is a login, or another use of a session
   * (`session.id`: session_hijack compares its country), without usable coordinates — none, out of
   * range, or (0, 0), the placeholder of an unknown place; else the event itself.
   */
  enrich(event: CanonicalEvent): CanonicalEvent {
    if (isUsableGeo(event.geo) || !event.ip || !this.locates(event)) return event;
    const geo = this.lookup(event.ip);
    if (!geo) return event;
    const own = event.geo;
    if (!own) return { ...event, geo: { ...geo } };
    // The event's own country wins: a lookup placing the ip in another country (a stale database,
    // a proxy the source saw through) lends neither its coordinates nor its city.
    if (typeof own.country === 'string' && own.country.trim() && geo.country !== undefined && countryCode(own.country) !== geo.country) return event;
    // No coordinates in the database (a Country database): only a missing country or city is added.
    if (geo.lat === undefined || geo.lon === undefined) {
      const added = { ...geo, ...own };
      return added.country === own.country && added.city === own.city ? event : { ...event, geo: added };
    }
    // Country-only geo keeps its own country/city; the lookup adds coordinates (replacing unusable ones).
    return { ...event, geo: { ...geo, ...own, lat: geo.lat, lon: geo.lon, ...(geo.accuracy_km !== undefined ? { accuracy_km: geo.accuracy_km } : {}) } };
  }

  private locates(event: CanonicalEvent): boolean {
    if (this.types) return this.types.has(event.type);
    return isLogin(event) || (event.session !== undefined && event.session.id !== undefined);
  }

  /** Enriches a batch in place (`se.event` replaced when located); returns how many were located. */
  enrichEvents(events: StreamEvent[]): number {
    let n = 0;
    for (const se of events) {
      const e = this.enrich(se.event);
      if (e !== se.event) {
        se.event = e;
        n++;
      }
    }
    return n;
  }

  private safeGet(ip: string): CityResponse | null {
    try {
      return this.reader.get(ip);
    } catch {
      return null; // e.g. an IPv6 address against an IPv4-only database
    }
  }
}

/**
 * Maps a City record to canonical geo (accuracy radius is already in km); a record without
 * coordinates (a Country database's) to its country alone. Null when it places nothing.
 */
function toGeo(r: CityResponse | null): Geo | null {
  if (!r) return null;
  const loc = r.location;
  const geo: Geo = {};
  if (loc && typeof loc.latitude === 'number' && typeof loc.longitude === 'number') {
    geo.lat = loc.latitude;
    geo.lon = loc.longitude;
    if (typeof loc.accuracy_radius === 'number') geo.accuracy_km = loc.accuracy_radius;
  }
  const country = r.country?.iso_code ?? r.registered_country?.iso_code;
  if (country) geo.country = country;
  const city = r.city?.names?.en;
  if (city) geo.city = city;
  return geo.lat !== undefined || geo.country !== undefined ? geo : null;
}

/**
 * Opens the database configured as `geoip.mmdb` (path relative to the config directory),
 * or returns null when none is configured.
 */
export async function openGeoIp(
  config: { dir: string; raw: { geoip: { mmdb?: string | undefined; cache_size: number } } },
  opts: Omit<GeoIpOptions, 'cacheSize'> = {},
): Promise<GeoIp | null> {
  const mmdb = config.raw.geoip.mmdb;
  if (!mmdb) return null;
  return GeoIp.open(resolve(config.dir, mmdb), { ...opts, cacheSize: config.raw.geoip.cache_size });
}
