/**
 * A deterministic workload for the engine's crash, lease and rebalance tests (issue 16): the same
 * seed always gives the same events, ids and times, so a fault-free run and a faulty run of one
 * workload can be compared user by user.
 *
 * Each user's events are in event-time order and all on ONE input stream, so what a correct
 * engine must produce does not depend on how the routers of the two contract streams interleave
 * (only the order within a stream is a contract). The ORDER of a user's events still matters:
 *
 * - "login" users (`<prefix>:login`): successful logins from home, single failures, brute-force
 *   bursts (3 failures then a success → `brute_force`, medium) and a trip to another continent
 *   1–2 h after a login at home (→ `impossible_travel`, high; every later login there is another
 *   hit). Burst then trip: low → medium → high (v2); trip then burst: low → high (v1).
 * - "activity" users (`<prefix>:activity`): access events, DLP and EDR detections of every
 *   severity (high/critical DLP → medium, high/critical EDR → high), in random order.
 *
 * Every user ends with a sentinel event 30 min after their last one, matched by the `sentinel`
 * threshold behavior (risk level low: it never changes a level): once a user's sentinel hit is in
 * their history, all their events were applied and committed.
 */
import { recent, MIN, HOUR } from './clock.js';
import { prng } from './prng.js';

/** The `app` of sentinel events. */
export const SENTINEL_APP = 'riskstream-sentinel';

/** behaviors.yaml for the workload (72 h expiry: nothing expires while a test runs, in any run). */
export const ENGINE_BEHAVIORS: Record<string, unknown> = {
  impossible_travel: { enabled: true, risk_level: 'high', expires_after: '72h', max_speed_kmh: 1000, min_distance_km: 500 },
  brute_force: { enabled: true, risk_level: 'medium', expires_after: '72h', failures: 3, window: '10m' },
  dlp_detection: { enabled: true, risk_level: 'medium', expires_after: '72h', min_severity: 'high' },
  endpoint_detection: { enabled: true, risk_level: 'high', expires_after: '72h', min_severity: 'high' },
  session_hijack: { enabled: true, risk_level: 'high', expires_after: '72h', compare: ['device', 'asn', 'country'] },
  sentinel: { kind: 'threshold', risk_level: 'low', expires_after: '72h', match: { app: SENTINEL_APP }, count: 1, window: '1s' },
};

/** One event and the contract stream it goes to. */
export interface WorkloadEvent {
  stream: 'login' | 'activity';
  event: Record<string, unknown> & { id: string; user: string; time: string | number; type: string };
}

/** A generated workload. */
export interface Workload {
  users: string[];
  /** Arrival order: event time (a user's own events strictly ascending). */
  events: WorkloadEvent[];
  /** Each user's sentinel event id. */
  sentinels: Map<string, string>;
}

/** Options of {@link engineWorkload}. */
export interface WorkloadOptions {
  users?: number;
  /** Events per user before the sentinel (~). */
  perUser?: number;
  seed?: number;
  /** Event time of the earliest events (epoch ms); default 8 h before the test process started (the last events ≥ ~1 h ago). */
  base?: number;
  /**
   * Session traffic behind logins (login users, on their stream): a `session_refresh` a minute
   * later, a use of the session from another device, ASN and country (→ `session_hijack`, high)
   * or from its own, and a second login with the session's id from another device.
   */
  sessions?: boolean;
  /** With `sessions`: about a third of the sessions signed out of (`logout`) 4.5 minutes after their login. */
  signOuts?: boolean;
  /** User name of user `i`; default `u<seed>-<i>@example.com`. */
  userName?: (i: number) => string;
}

const HOMES = [
  { city: 'London', country: 'GB', lat: 51.5074, lon: -0.1278, ip: '81.2.69.', asn: 2856 },
  { city: 'Paris', country: 'FR', lat: 48.8566, lon: 2.3522, ip: '90.84.12.', asn: 3215 },
  { city: 'Berlin', country: 'DE', lat: 52.52, lon: 13.405, ip: '85.214.3.', asn: 6724 },
  { city: 'New York', country: 'US', lat: 40.7128, lon: -74.006, ip: '66.65.120.', asn: 7922 },
  { city: 'San Francisco', country: 'US', lat: 37.7749, lon: -122.4194, ip: '104.28.40.', asn: 7922 },
] as const;
const FAR = [
  { city: 'Sydney', country: 'AU', lat: -33.8688, lon: 151.2093, ip: '1.128.0.', asn: 1221 },
  { city: 'Tokyo', country: 'JP', lat: 35.6762, lon: 139.6503, ip: '126.0.0.', asn: 17676 },
  { city: 'São Paulo', country: 'BR', lat: -23.5505, lon: -46.6333, ip: '177.0.0.', asn: 28573 },
] as const;
type City = (typeof HOMES)[number] | (typeof FAR)[number];

/** Generates the workload (see the module comment). */
export function engineWorkload(opts: WorkloadOptions = {}): Workload {
  const seed = opts.seed ?? 16;
  const n = opts.users ?? 200;
  const perUser = opts.perUser ?? 14;
  const base = opts.base ?? recent(-2 * HOUR);
  const rand = prng(seed);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;
  const between = (lo: number, hi: number): number => lo + Math.floor(rand() * (hi - lo));
  const name = opts.userName ?? ((i: number) => `u${seed}-${String(i).padStart(3, '0')}@example.com`);
  const all: Array<WorkloadEvent & { t: number; order: number }> = [];
  const sentinels = new Map<string, string>();
  const users: string[] = [];
  let order = 0;

  for (let i = 0; i < n; i++) {
    const user = name(i);
    users.push(user);
    const kind: WorkloadEvent['stream'] = i % 2 === 0 ? 'login' : 'activity';
    let k = 0;
    let t = base + between(0, 30 * MIN);
    const push = (stream: WorkloadEvent['stream'], at: number, e: Record<string, unknown> & { type: string }): string => {
      const id = `e${seed}-${i}-${++k}`;
      all.push({ stream, t: at, order: order++, event: { ...e, id, user, time: e.type === 'dlp' ? at : new Date(at).toISOString() } });
      return id;
    };
    if (kind === 'login') {
      const home = HOMES[i % HOMES.length]!;
      let where: City = home;
      let travelled = false;
      const geo = (c: City): Record<string, unknown> => ({
        lat: +(c.lat + (rand() - 0.5) * 0.1).toFixed(4),
        lon: +(c.lon + (rand() - 0.5) * 0.1).toFixed(4),
        accuracy_km: 20,
        country: c.country,
        city: c.city,
      });
      const success = (at: number): void => {
        const sid = `s${seed}-${i}-${k + 1}`;
        push('login', at, {
          type: 'login',
          outcome: 'success',
          ip: `${where.ip}${between(1, 250)}`,
          geo: geo(where),
          session: { id: sid, expires_at: new Date(at + 12 * HOUR).toISOString(), idp: 'okta', claims: { email: user } },
          device: { id: `d-${i}` },
          network: { asn: where.asn },
        });
        if (opts.sessions) sessionTraffic(at, sid);
      };
      // Session traffic after a login (see WorkloadOptions.sessions), within the next 4 minutes.
      const sessionTraffic = (at: number, sid: string): void => {
        const far = FAR[i % FAR.length]!;
        if (rand() < 0.4)
          push('login', at + MIN, { type: 'session_refresh', outcome: 'success', session: { id: sid, expires_at: new Date(at + 20 * HOUR).toISOString() } });
        const r = rand();
        if (r < 0.25)
          push('login', at + 2 * MIN, {
            type: 'access',
            outcome: 'allowed',
            app: 'drive',
            session: { id: sid },
            device: { id: `d-x${i}` },
            network: { asn: far.asn },
            geo: { country: far.country },
          });
        else if (r < 0.5)
          push('login', at + 2 * MIN, {
            type: 'access',
            outcome: 'allowed',
            app: 'mail',
            session: { id: sid },
            device: { id: `d-${i}` },
            network: { asn: where.asn },
          });
        else if (r < 0.6)
          push('login', at + 3 * MIN, {
            type: 'login',
            outcome: 'success',
            ip: `${where.ip}${between(1, 250)}`,
            session: { id: sid, expires_at: new Date(at + 12 * HOUR).toISOString(), idp: 'okta', claims: { email: user, groups: ['admin'] } },
            device: { id: `d-y${i}` },
            network: { asn: where.asn },
          });
        // Drawn only with signOuts: the other workloads stay as they were.
        if (opts.signOuts && rand() < 0.35) push('login', at + 4 * MIN + 30_000, { type: 'logout', outcome: 'success', session: { id: sid } });
      };
      const failure = (at: number, ip: string): void => {
        push('login', at, { type: 'login', outcome: 'failure', ip, geo: geo(where) });
      };
      success(t);
      while (k < perUser) {
        const r = rand();
        if (r < 0.5) {
          t += between(5, 15) * MIN;
          success(t);
        } else if (r < 0.68) {
          // A burst: 3 failures a minute apart, then the success (brute_force, medium).
          const ip = `203.0.113.${between(1, 250)}`;
          t += between(5, 15) * MIN;
          for (let f = 0; f < 3; f++) failure(t + f * MIN, ip);
          t += 3 * MIN;
          success(t);
        } else if (r < 0.8 && !travelled) {
          // A trip to another continent 1–2 h after the last login (impossible_travel, high).
          travelled = true;
          where = pick(FAR);
          t += between(60, 120) * MIN;
          success(t);
        } else {
          t += between(5, 15) * MIN;
          failure(t, `${where.ip}${between(1, 250)}`);
        }
      }
      t += 30 * MIN;
      sentinels.set(user, push('login', t, { type: 'login', outcome: 'success', app: SENTINEL_APP }));
    } else {
      while (k < perUser) {
        t += between(5, 15) * MIN;
        const r = rand();
        if (r < 0.3) push('activity', t, { type: 'access', outcome: rand() < 0.1 ? 'denied' : 'allowed', app: pick(['mail', 'drive', 'wiki', 'crm']) });
        else if (r < 0.52)
          push('activity', t, { type: 'dlp', profile: pick(['pii', 'source-code']), severity: pick(['low', 'medium']), action: 'alert', app: 'drive' });
        else if (r < 0.68)
          push('activity', t, { type: 'dlp', profile: pick(['pii', 'credit-cards']), severity: pick(['high', 'critical']), action: 'block', app: 'drive' });
        else if (r < 0.84)
          push('activity', t, { type: 'endpoint', device: { id: `d-${i}` }, vendor: 'crowdstrike', detection: 'pup', severity: pick(['low', 'medium']) });
        else
          push('activity', t, {
            type: 'endpoint',
            device: { id: `d-${i}` },
            vendor: pick(['crowdstrike', 'defender']),
            detection: pick(['malware', 'ransomware']),
            severity: pick(['high', 'critical']),
          });
      }
      t += 30 * MIN;
      sentinels.set(user, push('activity', t, { type: 'access', outcome: 'allowed', app: SENTINEL_APP }));
    }
  }
  all.sort((a, b) => a.t - b.t || a.order - b.order);
  return { users, sentinels, events: all.map(({ stream, event }) => ({ stream, event })) };
}

/**
 * The workload with `factor` access events (they change nothing) after each event but the
 * sentinels, for the same user, on the same stream, at the same time: input volume that keeps
 * workers busy — so kills and pauses land while entries are applied and not yet committed —
 * without changing any outcome.
 */
export function padded(wl: Workload, factor: number): Workload {
  const sentinelIds = new Set(wl.sentinels.values());
  const events = wl.events.flatMap((e) =>
    sentinelIds.has(e.event.id)
      ? [e]
      : [
          e,
          ...Array.from({ length: factor }, (_, k) => ({
            stream: e.stream,
            event: { type: 'access', id: `${e.event.id}-n${k}`, user: e.event.user, time: e.event.time, outcome: 'allowed', app: 'wiki' },
          })),
        ],
  );
  return { ...wl, events };
}
