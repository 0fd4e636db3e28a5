/**
 * Deterministic benchmark telemetry: the same events for a given seed on every run.
 *
 * Mix (by event): 80 % logins with geo (95 % successful; successful ones carry an IdP session,
 * device and network, as Okta/Entra sign-ins do), 15 % activity (access and web-gateway
 * events, a few to risky domains), 5 % DLP / endpoint detections (5 % of them high or
 * critical). About 1 % of users make an impossible trip (home, then another continent an hour
 * or two later); everyone else logs in from around their home city. Event times ascend over
 * the last `spanMs` (default 12 h) before `end`.
 *
 * Every event is written as one `event` field holding its JSON, the way `riskstream replay`
 * and most shippers write it.
 */

export interface GenOptions {
  events: number;
  users: number;
  seed?: number;
  /** Event time of the last event (epoch ms); default now. */
  end?: number;
  spanMs?: number;
  /** Index of the first user (user names are `u<index>@bench.example`). */
  firstUser?: number;
  /** Share of users making one impossible trip (default 0.01). */
  travellers?: number;
  /** Diagnostics only (BENCH_DIAG=no-sessions): logins without session/device/network. */
  sessions?: boolean;
}

export interface BenchEvent {
  type: string;
  user: string;
  /** The JSON written to the stream's `event` field. */
  json: string;
  login: boolean;
}

export const CITIES = [
  { city: 'London', country: 'GB', lat: 51.5074, lon: -0.1278, ip: '81.2.69.', asn: 2856 },
  { city: 'Paris', country: 'FR', lat: 48.8566, lon: 2.3522, ip: '90.84.12.', asn: 3215 },
  { city: 'Berlin', country: 'DE', lat: 52.52, lon: 13.405, ip: '85.214.3.', asn: 6724 },
  { city: 'New York', country: 'US', lat: 40.7128, lon: -74.006, ip: '66.65.120.', asn: 7922 },
  { city: 'San Francisco', country: 'US', lat: 37.7749, lon: -122.4194, ip: '104.28.40.', asn: 7922 },
  { city: 'Sydney', country: 'AU', lat: -33.8688, lon: 151.2093, ip: '1.128.0.', asn: 1221 },
  { city: 'Tokyo', country: 'JP', lat: 35.6762, lon: 139.6503, ip: '126.0.0.', asn: 17676 },
  { city: 'São Paulo', country: 'BR', lat: -23.5505, lon: -46.6333, ip: '177.0.0.', asn: 28573 },
] as const;
export type City = (typeof CITIES)[number];
const HOMES = CITIES.slice(0, 5);
const FAR = CITIES.slice(5);

const APPS = ['mail', 'drive', 'wiki', 'jira', 'github', 'payroll', 'crm'];
const DOMAINS = ['example.com', 'news.example.org', 'cdn.example.net', 'docs.example.io', 'shop.example.co'];
const BENIGN = ['business', 'news', 'technology', 'shopping', 'search_engines'];
const RISKY = ['malware', 'phishing', 'newly_seen_domain', 'parked_domain'];
const DLP_PROFILES = ['credit-cards', 'source-code', 'pii', 'health-records'];
const LOW_SEV = ['low', 'medium'] as const;
const HIGH_SEV = ['high', 'critical'] as const;
const VENDORS = ['crowdstrike', 'sentinelone', 'defender'];
const HOUR = 3_600_000;
/** Diagnostic switches (never set for recorded figures): BENCH_DIAG=no-sessions,… */
export const DIAG = new Set((process.env.BENCH_DIAG ?? '').split(',').filter(Boolean));

/** mulberry32: a small deterministic PRNG in [0, 1). */
export function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export function userName(i: number): string {
  return `u${i}@bench.example`;
}

/** One login event object. */
export function loginEvent(
  id: string,
  user: string,
  t: number,
  city: City,
  rand: () => number,
  outcome = 'success',
  device = 'd-0',
  sessions = true,
): Record<string, unknown> {
  const ev: Record<string, unknown> = {
    type: 'login',
    id,
    user,
    time: new Date(t).toISOString(),
    outcome,
    ip: `${city.ip}${1 + Math.floor(rand() * 250)}`,
    geo: {
      lat: +(city.lat + (rand() - 0.5) * 0.1).toFixed(4),
      lon: +(city.lon + (rand() - 0.5) * 0.1).toFixed(4),
      accuracy_km: 20,
      country: city.country,
      city: city.city,
    },
  };
  if (outcome === 'success' && sessions) {
    ev.session = {
      id: `s-${id}`,
      expires_at: new Date(t + 12 * HOUR).toISOString(),
      idp: 'okta',
      claims: { email: user, groups: ['eng'], amr: ['pwd', 'mfa'] },
    };
    ev.device = { id: device, posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: true } };
    ev.network = { asn: city.asn, via: 'warp' };
  }
  return ev;
}

/** Generates the events, in event-time order. */
export function generate(opts: GenOptions): BenchEvent[] {
  const seed = opts.seed ?? 7;
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const end = opts.end ?? Date.now();
  const span = opts.spanMs ?? 12 * HOUR;
  const start = end - span;
  const first = opts.firstUser ?? 0;
  const travellers = opts.travellers ?? 0.01;
  const users = Array.from({ length: opts.users }, (_, k) => ({
    name: userName(first + k),
    home: HOMES[(first + k) % HOMES.length]!,
    device: `d-${first + k}`,
    tripAt: rand() < travellers ? start + Math.floor(rand() * span * 0.8) : Infinity,
    far: undefined as City | undefined,
  }));
  const out: BenchEvent[] = [];
  let n = 0;
  const id = (): string => `${seed}-${first}-${++n}`;
  const push = (obj: Record<string, unknown>): void => {
    out.push({ type: obj.type as string, user: obj.user as string, json: JSON.stringify(obj), login: obj.type === 'login' });
  };
  for (let i = 0; out.length < opts.events; i++) {
    const t = start + Math.floor((out.length / opts.events) * span);
    const u = users[Math.floor(rand() * users.length)]!;
    const r = rand();
    if (r < 0.8) {
      // The trip: a login from another continent 1–2 h after the user's last one from home.
      if (u.far === undefined && t >= u.tripAt) u.far = pick(FAR);
      const city = u.far ?? u.home;
      push(loginEvent(id(), u.name, t, city, rand, rand() < 0.05 ? 'failure' : 'success', u.device, opts.sessions ?? !DIAG.has('no-sessions')));
    } else if (r < 0.9) {
      push({ type: 'access', id: id(), user: u.name, time: new Date(t).toISOString(), outcome: rand() < 0.05 ? 'denied' : 'allowed', app: pick(APPS) });
    } else if (r < 0.95) {
      const risky = rand() < 0.01;
      push({
        type: 'http',
        id: id(),
        user: u.name,
        time: t,
        domain: pick(DOMAINS),
        category: risky ? pick(RISKY) : pick(BENIGN),
        action: 'allow',
        bytes_out: Math.floor(rand() * 50_000),
      });
    } else if (r < 0.98) {
      push({
        type: 'dlp',
        id: id(),
        user: u.name,
        time: t,
        profile: pick(DLP_PROFILES),
        severity: rand() < 0.95 ? pick(LOW_SEV) : pick(HIGH_SEV),
        action: pick(['block', 'alert']),
        app: pick(APPS),
      });
    } else {
      push({
        type: 'endpoint',
        id: id(),
        user: u.name,
        time: new Date(t).toISOString(),
        device: { id: u.device },
        vendor: pick(VENDORS),
        detection: pick(['malware', 'ransomware', 'credential-theft', 'pup']),
        severity: rand() < 0.95 ? pick(LOW_SEV) : pick(HIGH_SEV),
      });
    }
  }
  return out;
}
