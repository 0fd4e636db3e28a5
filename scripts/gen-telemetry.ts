/**
 * Generates demo/telemetry.ndjson: a realistic, deterministic morning of telemetry for a small
 * company — normal logins and activity, plus one impossible traveller (London → Sydney),
 * one DLP burst, one infected laptop, a password spray with one successful victim, an
 * MFA-fatigue burst and a hijacked session. Run: node --import tsx scripts/gen-telemetry.ts
 */
import { writeFileSync } from 'node:fs';

let seed = 42;
const rand = (): number => (seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31;
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const cities = [
  { city: 'London', country: 'GB', lat: 51.5074, lon: -0.1278, ip: '81.2.69.', asn: 2856, colo: 'LHR' },
  { city: 'Paris', country: 'FR', lat: 48.8566, lon: 2.3522, ip: '90.84.12.', asn: 3215, colo: 'CDG' },
  { city: 'Berlin', country: 'DE', lat: 52.52, lon: 13.405, ip: '85.214.3.', asn: 6724, colo: 'TXL' },
  { city: 'New York', country: 'US', lat: 40.7128, lon: -74.006, ip: '66.65.120.', asn: 7922, colo: 'EWR' },
  { city: 'San Francisco', country: 'US', lat: 37.7749, lon: -122.4194, ip: '104.28.40.', asn: 7922, colo: 'SFO' },
  { city: 'Sydney', country: 'AU', lat: -33.8688, lon: 151.2093, ip: '1.128.0.', asn: 1221, colo: 'SYD' },
];
const apps = ['mail', 'drive', 'wiki', 'jira', 'github', 'payroll', 'crm'];
const names = [
  'alice',
  'bob',
  'carol',
  'dave',
  'erin',
  'frank',
  'grace',
  'heidi',
  'ivan',
  'judy',
  'mallory',
  'niaj',
  'olivia',
  'peggy',
  'rupert',
  'sybil',
  'trent',
  'victor',
  'walter',
  'yolanda',
];
const users = names.map((n, i) => ({ user: `${n}@example.com`, home: cities[i % 5]!, device: `d-${1000 + i}` }));

const start = Date.parse('2026-11-23T07:00:00Z');
const events: Array<Record<string, unknown>> = [];
let n = 0;
const id = (): string => `evt-${String(++n).padStart(5, '0')}`;

function login(u: (typeof users)[number], t: number, where = u.home, outcome = 'success'): void {
  events.push({
    type: 'login',
    id: id(),
    user: u.user,
    time: new Date(t).toISOString(),
    outcome,
    ip: `${where.ip}${1 + Math.floor(rand() * 250)}`,
    geo: {
      lat: +(where.lat + (rand() - 0.5) * 0.1).toFixed(4),
      lon: +(where.lon + (rand() - 0.5) * 0.1).toFixed(4),
      accuracy_km: 20,
      country: where.country,
      city: where.city,
    },
    ...(outcome === 'success'
      ? {
          session: {
            id: `s-${n}`,
            expires_at: new Date(t + 12 * 3600_000).toISOString(),
            idp: 'okta',
            claims: { email: u.user, groups: [pick(['eng', 'sales', 'finance', 'ops'])], amr: ['pwd', 'mfa'] },
          },
          device: { id: u.device, posture: { os: pick(['macOS 15.1', 'Windows 11 24H2', 'Ubuntu 24.04']), disk_encrypted: true, firewall: true } },
          network: { asn: where.asn, colo: where.colo, via: 'warp' },
        }
      : {}),
  });
}

for (const u of users.slice(1)) {
  let t = start + Math.floor(rand() * 3600_000);
  login(u, t);
  for (let k = 0; k < 12; k++) {
    t += 60_000 + Math.floor(rand() * 600_000);
    if (rand() < 0.08) {
      login(u, t, u.home, 'failure');
      continue;
    }
    events.push({ type: 'access', id: id(), user: u.user, time: new Date(t).toISOString(), outcome: rand() < 0.05 ? 'denied' : 'allowed', app: pick(apps) });
  }
  login(u, t + 3600_000);
}

// The impossible traveller: London at 08:00, a morning of work, then Sydney at 10:00.
const traveller = users[0]!;
login(traveller, Date.parse('2026-11-23T08:00:00Z'), cities[0]);
for (let k = 1; k <= 5; k++) {
  events.push({
    type: 'access',
    id: id(),
    user: traveller.user,
    time: new Date(Date.parse('2026-11-23T08:00:00Z') + k * 15 * 60_000).toISOString(),
    outcome: 'allowed',
    app: pick(apps),
  });
}
login(traveller, Date.parse('2026-11-23T10:00:00Z'), cities[5]);

// A DLP burst: 16 credit-card matches within a minute.
for (let k = 0; k < 16; k++) {
  events.push({
    type: 'dlp',
    id: id(),
    user: users[1]!.user,
    time: Date.parse('2026-11-23T08:30:00Z') + k * 3000,
    profile: 'credit-cards',
    severity: 'high',
    action: 'block',
    app: 'drive',
  });
}

// An infected laptop: CrowdStrike detection on carol's device.
events.push({
  type: 'endpoint',
  id: id(),
  user: users[2]!.user,
  time: '2026-11-23T08:05:00Z',
  device: { id: users[2]!.device },
  vendor: 'crowdstrike',
  detection: 'malware',
  severity: 'critical',
});

// A password spray: one IP fails logins for 12 users in 20 minutes, then guesses heidi's password.
const sprayIp = '185.220.101.45';
const sprayAt = Date.parse('2026-11-23T09:00:00Z');
const sprayed = [...users.slice(3, 11).map((u) => u.user), 'admin@example.com', 'test@example.com', 'info@example.com', 'hr@example.com'];
sprayed.forEach((user, k) => {
  events.push({ type: 'login', id: id(), user, time: new Date(sprayAt + k * 100_000).toISOString(), outcome: 'failure', reason: 'bad_password', ip: sprayIp });
});
const victim = users[7]!;
events.push({
  type: 'login',
  id: id(),
  user: victim.user,
  time: '2026-11-23T09:25:00Z',
  outcome: 'success',
  ip: sprayIp,
  session: { id: 's-spray-1', expires_at: '2026-11-23T21:25:00Z', idp: 'okta', claims: { email: victim.user, amr: ['pwd'] } },
});

// MFA fatigue: ivan's phone gets 8 Okta Verify pushes in 10 minutes; he denies, ignores, then accepts one.
const bombAt = Date.parse('2026-11-23T09:40:00Z');
for (let k = 0; k < 9; k++) {
  events.push({
    type: 'mfa',
    id: id(),
    user: users[8]!.user,
    time: new Date(bombAt + k * 75_000).toISOString(),
    outcome: k === 8 ? 'success' : k % 3 === 1 ? 'timeout' : 'denied',
    factor: 'push',
    ip: '45.155.205.17',
  });
}

// A hijacked session: judy logs in from home; later her session token is used from another device and network.
const judy = users[9]!;
events.push({
  type: 'login',
  id: id(),
  user: judy.user,
  time: '2026-11-23T08:20:00Z',
  outcome: 'success',
  ip: `${judy.home.ip}77`,
  geo: { lat: judy.home.lat, lon: judy.home.lon, accuracy_km: 20, country: judy.home.country, city: judy.home.city },
  session: { id: 's-judy-1', expires_at: '2026-11-23T20:20:00Z', idp: 'okta', claims: { email: judy.user, amr: ['pwd', 'mfa'] } },
  device: { id: judy.device, posture: { os: 'macOS 15.1', disk_encrypted: true, firewall: true } },
  network: { asn: judy.home.asn, colo: judy.home.colo, via: 'warp' },
});
events.push({
  type: 'access',
  id: id(),
  user: judy.user,
  time: '2026-11-23T09:55:00Z',
  outcome: 'allowed',
  app: 'payroll',
  session: { id: 's-judy-1' },
  ip: '193.42.33.8',
  device: { id: 'd-unknown-7' },
  network: { asn: 9009 },
  geo: { country: 'NL' },
});

events.sort((a, b) => Date.parse(String(a.time)) - Date.parse(String(b.time)) || 0);
// A few malformed entries, as real pipelines have: they must land in the dead-letter stream.
events.splice(50, 0, { type: 'login', time: '2026-11-23T07:30:00Z', ip: '10.0.0.1' } as never);
events.splice(120, 0, { type: 'access', user: 'bob@example.com', time: 'yesterday-ish' } as never);

writeFileSync(new URL('../demo/telemetry.ndjson', import.meta.url), events.map((e) => JSON.stringify(e)).join('\n') + '\n');
console.log(`wrote ${events.length} events`);
