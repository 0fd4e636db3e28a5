/**
 * CONTRACT §3 behaviors.yaml parameters through a real worker (a second configuration of
 * test/e2e/behaviors-contract.test.ts): a predefined behavior with `enabled: false`,
 * `session_hijack.compare` naming one property, impossible travel's accuracy radius, and
 * `expires_after: never` on a backfill.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { HOUR, MIN, recentIso } from '../helpers/clock.js';

const h = workerHarness(
  'e2e-beh-params',
  (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://rx.test', subject_format: 'email' }] }),
  {
    receiver: { issuer: 'https://riskstream.test' },
    behaviors: {
      endpoint_detection: { enabled: false },
      impossible_travel: { risk_level: 'high', expires_after: '24h', max_speed_kmh: 1000, min_distance_km: 500, use_accuracy_radius: true },
      session_hijack: { risk_level: 'high', expires_after: '24h', compare: ['country'] },
      dlp_detection: { risk_level: 'medium', expires_after: 'never', min_severity: 'high' },
    },
  },
);

const admin = async <T>(path: string): Promise<T> =>
  (await (await fetch(`${h.worker.url}${path}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } })).json()) as T;
const level = async (user: string): Promise<string | undefined> => (await admin<{ level?: string }>(`/v1/users/${encodeURIComponent(user)}/risk`)).level;
const hits = async (user: string): Promise<string[]> =>
  ((await admin<{ events?: Array<{ kind: string; behavior: string }> }>(`/v1/users/${encodeURIComponent(user)}/events`)).events ?? [])
    .filter((e) => e.kind === 'hit')
    .map((e) => e.behavior);
const add = (stream: 'login' | 'activity', ev: Record<string, unknown>): Promise<string | null> =>
  h.redis.xadd(`${h.prefix}:${stream}`, '*', 'event', JSON.stringify(ev));
const quiet = (users: string[]): Promise<void> => untilQuiet(h.redis, { prefix: h.prefix, users });

describe('CONTRACT §3 behavior parameters (real worker)', () => {
  it('endpoint_detection enabled: false: a critical detection is no risk event, no level, no SET', async () => {
    const user = 'edr-off@example.com';
    await add('activity', {
      type: 'endpoint',
      id: 'e-1',
      user,
      time: recentIso(0),
      device: { id: 'd-1' },
      vendor: 'crowdstrike',
      detection: 'malware',
      severity: 'critical',
    });
    // A DLP match after it: the user is scored, so the detection was read and ignored.
    await add('activity', { type: 'dlp', id: 'd-1', user, time: recentIso(MIN), severity: 'high', profile: 'pii' });
    await waitFor(async () => (await level(user)) === 'medium', { what: 'dlp scored' });
    await quiet([user]);
    expect(await hits(user)).toEqual(['dlp_detection']);
  }, 60_000);

  it('session_hijack compare: [country] — another device and ASN alone flag nothing; another country does', async () => {
    const user = 'hj@example.com';
    await add('login', {
      type: 'login',
      id: 'l-1',
      user,
      time: recentIso(0),
      outcome: 'success',
      ip: '81.2.69.142',
      geo: { country: 'GB' },
      session: { id: 'hs-1', expires_at: new Date(Date.now() + 12 * HOUR).toISOString() },
      device: { id: 'd-1' },
      network: { asn: 2856 },
    });
    await waitFor(async () => ((await admin<{ sessions?: unknown[] }>(`/v1/users/${user}/sessions`)).sessions ?? []).length === 1, { what: 'session stored' });
    const use = (id: string, at: number, extra: Record<string, unknown>): Promise<string | null> =>
      add('activity', { type: 'access', id, user, time: recentIso(at), outcome: 'allowed', app: 'drive', session: { id: 'hs-1' }, ...extra });
    await use('u-1', 5 * MIN, { device: { id: 'd-2' }, network: { asn: 1221 }, geo: { country: 'GB' } });
    await quiet([user]);
    expect(await hits(user)).toEqual([]);
    await use('u-2', 6 * MIN, { device: { id: 'd-1' }, network: { asn: 2856 }, geo: { country: 'AU' } });
    await waitFor(async () => (await level(user)) === 'high', { what: 'hijack HIGH' });
    expect(await hits(user)).toEqual(['session_hijack']);
  }, 60_000);

  it('impossible_travel with use_accuracy_radius: a trip within both accuracy radii of min_distance_km is not flagged', async () => {
    const login = (user: string, id: string, at: number, geo: Record<string, unknown>): Promise<string | null> =>
      add('login', { type: 'login', id, user, time: recentIso(at), outcome: 'success', ip: '81.2.69.142', geo });
    // London → Berlin, ~930 km in 30 min: impossible, unless each place is only known within 300 km.
    await login('coarse@example.com', 'c-1', 0, { lat: 51.5, lon: -0.12, country: 'GB', accuracy_km: 300 });
    await login('coarse@example.com', 'c-2', 30 * MIN, { lat: 52.52, lon: 13.4, country: 'DE', accuracy_km: 300 });
    await login('fine@example.com', 'f-1', 0, { lat: 51.5, lon: -0.12, country: 'GB', accuracy_km: 20 });
    await login('fine@example.com', 'f-2', 30 * MIN, { lat: 52.52, lon: 13.4, country: 'DE', accuracy_km: 20 });
    await waitFor(async () => (await level('fine@example.com')) === 'high', { what: 'fine HIGH' });
    await quiet(['coarse@example.com', 'fine@example.com']);
    expect(await hits('coarse@example.com')).toEqual([]);
  }, 60_000);

  it('expires_after: never — a backfilled hit from long ago still raises the level', async () => {
    const user = 'never@example.com';
    await add('activity', { type: 'dlp', id: 'n-1', user, time: new Date(Date.now() - 100 * 24 * HOUR).toISOString(), severity: 'critical', profile: 'pii' });
    await waitFor(async () => (await level(user)) === 'medium', { what: 'never-expiring hit MEDIUM' });
  }, 60_000);
});
