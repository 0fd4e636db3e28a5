/**
 * Deterministic telemetry for durability and scale tests: N events for M users, the same for a
 * given seed on every run. A realistic mix, in event-time order (a few arrive a little late):
 *
 * - logins (~45 %): mostly successful, from the user's home city (small jitter, the user's own
 *   IPs), some failures; about one user in eight travels plausibly (a far city many hours later)
 *   and one user in ten makes an impossible trip (a login from another continent 1–3 h after
 *   one at home);
 * - access events (~35 %), never a behavior;
 * - DLP matches (~13 %): severities low…critical, 5 % high or critical (what counts by default);
 * - endpoint detections (~7 %): 5 % high or critical.
 *
 * Every event has a unique `id` (`<seed>-<n>`), so a second XADD of the same file repeats ids.
 */
import { writeFileSync } from 'node:fs';
import { prng } from './prng.js';

/** Options of {@link generateTelemetry}. */
export interface TelemetryOptions {
  events: number;
  users: number;
  seed?: number;
  /**
   * Event time of the first event (epoch ms); default: recent — the file ends 1 h before this
   * process loaded the module (the same for every call), so its behaviors do not arrive expired
   * (expiry counts in event time: give behaviors an `expires_after` longer than the span).
   */
  start?: number;
  /** Event-time span of the whole file (ms); default 36 h. */
  span?: number;
  /** User name pattern; default `user-<i>@example.com`. */
  userName?: (i: number) => string;
}

/** A generated event, in the canonical shape (docs/interfaces.md §2) (time as ISO-8601 or epoch ms). */
export type TelemetryEvent = Record<string, unknown> & { type: string; id: string; user: string; time: string | number };

const CITIES = [
  { city: 'London', country: 'GB', lat: 51.5074, lon: -0.1278, ip: '81.2.69.', asn: 2856 },
  { city: 'Paris', country: 'FR', lat: 48.8566, lon: 2.3522, ip: '90.84.12.', asn: 3215 },
  { city: 'Berlin', country: 'DE', lat: 52.52, lon: 13.405, ip: '85.214.3.', asn: 6724 },
  { city: 'New York', country: 'US', lat: 40.7128, lon: -74.006, ip: '66.65.120.', asn: 7922 },
  { city: 'San Francisco', country: 'US', lat: 37.7749, lon: -122.4194, ip: '104.28.40.', asn: 7922 },
  { city: 'Sydney', country: 'AU', lat: -33.8688, lon: 151.2093, ip: '1.128.0.', asn: 1221 },
  { city: 'Tokyo', country: 'JP', lat: 35.6762, lon: 139.6503, ip: '126.0.0.', asn: 17676 },
  { city: 'São Paulo', country: 'BR', lat: -23.5505, lon: -46.6333, ip: '177.0.0.', asn: 28573 },
] as const;
type City = (typeof CITIES)[number];

const APPS = ['mail', 'drive', 'wiki', 'jira', 'github', 'payroll', 'crm'];
const DLP_PROFILES = ['credit-cards', 'source-code', 'pii', 'health-records'];
const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;
const VENDORS = ['crowdstrike', 'sentinelone', 'defender'];
const MIN = 60_000;
const HOUR = 3_600_000;
/** When this module was loaded, on a whole minute: the anchor of the default (recent) start. */
const LOADED_AT = Math.floor(Date.now() / MIN) * MIN;

/** Great-circle distance (km). */
function km(a: { lat: number; lon: number }, b: { lat: number; lon: number }): number {
  const rad = Math.PI / 180;
  const h = Math.sin(((b.lat - a.lat) * rad) / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(((b.lon - a.lon) * rad) / 2) ** 2;
  return 2 * 6371 * Math.asin(Math.sqrt(h));
}

/** Generates the events (sorted by arrival; event times ascending apart from a few late ones). */
export function generateTelemetry(opts: TelemetryOptions): TelemetryEvent[] {
  const seed = opts.seed ?? 1;
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const span = opts.span ?? 36 * HOUR;
  const start = opts.start ?? LOADED_AT - span - HOUR;
  const name = opts.userName ?? ((i: number) => `user-${String(i).padStart(4, '0')}@example.com`);

  const users = Array.from({ length: opts.users }, (_, i) => {
    const home = CITIES[i % 5]!; // homes in Europe / North America
    const r = rand();
    return {
      user: name(i),
      home,
      device: `d-${10_000 + i}`,
      // One in ten makes an impossible trip at some point; one in eight a slow plausible one.
      trip: r < 0.1 ? ('impossible' as const) : r < 0.225 ? ('plausible' as const) : undefined,
      tripAt: start + Math.floor(rand() * span * 0.8),
      tripDone: false,
      // After a trip, logins come from the far city (from its arrival on); none while in flight.
      away: undefined as { from: number; city: City } | undefined,
      inFlight: undefined as { from: number; until: number } | undefined,
    };
  });

  const out: Array<TelemetryEvent & { _t: number }> = [];
  let n = 0;
  const id = (): string => `${seed}-${String(++n).padStart(6, '0')}`;
  const geoOf = (c: City): Record<string, unknown> => ({
    lat: +(c.lat + (rand() - 0.5) * 0.1).toFixed(4),
    lon: +(c.lon + (rand() - 0.5) * 0.1).toFixed(4),
    accuracy_km: 20,
    country: c.country,
    city: c.city,
  });
  const login = (u: (typeof users)[number], t: number, city: City, outcome = 'success'): void => {
    out.push({
      _t: t,
      type: 'login',
      id: id(),
      user: u.user,
      time: new Date(t).toISOString(),
      outcome,
      ip: `${city.ip}${1 + Math.floor(rand() * 250)}`,
      geo: geoOf(city),
      ...(outcome === 'success'
        ? {
            session: {
              id: `s-${seed}-${n}`,
              expires_at: new Date(t + 12 * HOUR).toISOString(),
              idp: 'okta',
              claims: { email: u.user, groups: [pick(['eng', 'sales', 'finance'])] },
            },
            device: { id: u.device, posture: { os: pick(['macOS 15.1', 'Windows 11 24H2']), disk_encrypted: true, firewall: true } },
            network: { asn: city.asn, via: 'warp' },
          }
        : {}),
    });
  };

  for (let i = 0; out.length < opts.events; i++) {
    const t = start + Math.floor((i / opts.events) * span);
    const u = users[Math.floor(rand() * users.length)]!;
    if (u.trip && !u.tripDone && t >= u.tripAt) {
      // The trip: a login at home, then one on another continent 1–3 h later (impossible), or
      // in another city after a flight at ≤ 700 km/h plus an hour (plausible; no login while in
      // flight). Later logins come from there.
      u.tripDone = true;
      const far = u.trip === 'impossible' ? pick(CITIES.slice(5)) : pick(CITIES.filter((c) => c !== u.home));
      const later =
        u.trip === 'impossible' ? HOUR + Math.floor(rand() * 2 * HOUR) : Math.ceil((km(u.home, far) / 700) * HOUR) + HOUR + Math.floor(rand() * HOUR);
      login(u, t, u.home);
      login(u, t + later, far);
      u.away = { from: t + later, city: far };
      if (u.trip === 'plausible') u.inFlight = { from: t, until: t + later };
      continue;
    }
    const where = u.away && t >= u.away.from ? u.away.city : u.home;
    const flying = u.inFlight !== undefined && t >= u.inFlight.from && t <= u.inFlight.until;
    const r = rand();
    if (r < 0.45 && !flying) login(u, t, where, rand() < 0.08 ? 'failure' : 'success');
    else if (r < 0.45) continue;
    else if (r < 0.8)
      out.push({
        _t: t,
        type: 'access',
        id: id(),
        user: u.user,
        time: new Date(t).toISOString(),
        outcome: rand() < 0.05 ? 'denied' : 'allowed',
        app: pick(APPS),
      });
    else if (r < 0.93)
      out.push({
        _t: t,
        type: 'dlp',
        id: id(),
        user: u.user,
        time: t,
        profile: pick(DLP_PROFILES),
        severity: rand() < 0.95 ? pick(SEVERITIES.slice(0, 2)) : pick(SEVERITIES.slice(2)),
        action: pick(['block', 'alert']),
        app: pick(APPS),
      });
    else
      out.push({
        _t: t,
        type: 'endpoint',
        id: id(),
        user: u.user,
        time: new Date(t).toISOString(),
        device: { id: u.device },
        vendor: pick(VENDORS),
        detection: pick(['malware', 'ransomware', 'credential-theft', 'pup']),
        severity: rand() < 0.95 ? pick(SEVERITIES.slice(0, 2)) : pick(SEVERITIES.slice(2)),
      });
  }
  const events = out.slice(0, opts.events);
  // Arrival order: event time, except ~3 % that arrive up to 5 minutes late (within the lateness).
  const arrival = events.map((e) => ({ e, at: e._t + (rand() < 0.03 ? Math.floor(rand() * 5 * MIN) : 0) }));
  arrival.sort((a, b) => a.at - b.at);
  return arrival.map(({ e }) => {
    const { _t, ...rest } = e;
    void _t;
    return rest as TelemetryEvent;
  });
}

/** The events as NDJSON text. */
export function toNdjson(events: readonly TelemetryEvent[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

/** Writes a generated file; returns the events. */
export function writeTelemetryFile(path: string, opts: TelemetryOptions): TelemetryEvent[] {
  const events = generateTelemetry(opts);
  writeFileSync(path, toNdjson(events));
  return events;
}
