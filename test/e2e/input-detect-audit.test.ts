import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { HOUR, MIN, recent, recentIso } from '../helpers/clock.js';

/**
 * CONTRACT §2 / §3 through a real worker, at the edges a black-box audit probed: flat fields whose
 * numbers and times are text (epoch seconds, an ISO time with an offset), an Entra sign-in in the
 * `data` field, and a counting behavior fed out of order within state.allowed_lateness.
 */
const h = workerHarness('e2e-input-audit', () => ({}), {
  behaviors: {
    impossible_travel: { risk_level: 'high', max_speed_kmh: 1000, min_distance_km: 500 },
    forbidden: { kind: 'threshold', risk_level: 'medium', match: { type: 'http', status: 403 }, count: 2, window: '10m' },
  },
});

const hits = async (user: string): Promise<Array<Record<string, unknown>>> => {
  const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/events`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  const body = (await r.json()) as { events?: Array<Record<string, unknown>> };
  return (body.events ?? []).filter((e) => e.kind === 'hit');
};
const quiet = (users: string[]): Promise<void> => untilQuiet(h.redis, { prefix: h.prefix, users });
const flat = (stream: string, f: Record<string, string>) => h.redis.xadd(`${h.prefix}:${stream}`, '*', ...Object.entries(f).flat());

describe('input and behaviors at the edges, through a real worker', () => {
  it('flat fields all text — epoch seconds, an ISO time with a +10:00 offset, coordinates and radius as strings — make an impossible trip', async () => {
    const user = 'flat.text@example.com';
    // A flat login: every value text, as XADD gives it.
    const login = (id: string, time: string, geo: string[]) =>
      flat('login', {
        type: 'login',
        id,
        user,
        time,
        ...Object.fromEntries(['geo.lat', 'geo.lon', 'geo.accuracy_km'].map((k, i) => [k, geo[i]!]).filter(([, v]) => v)),
      });
    await login('ft-1', String(Math.floor(recent(0) / 1000)), ['51.5', '-0.12', '20']);
    // Two hours later in Sydney's own offset: 2 h in event time, whatever the zone it is written in.
    await login('ft-2', new Date(recent(2 * HOUR) + 10 * HOUR).toISOString().replace('Z', '+10:00'), ['-33.87', '151.21']);
    await quiet([user]);
    const [hit] = await hits(user);
    expect(hit).toMatchObject({ behavior: 'impossible_travel' });
    expect((hit!.evidence as { hours: number }).hours).toBe(2);
  });

  it('an Entra sign-in in the `data` field is mapped without configuration: London then Sydney an hour later is impossible travel', async () => {
    const signin = JSON.parse(readFileSync(new URL('../ingest/fixtures/entra-signin.json', import.meta.url), 'utf8')) as Record<string, unknown>;
    const user = 'entra.audit@contoso.com';
    const at = (id: string, time: string, ip: string, city: string, country: string, lat: number, lon: number) => ({
      ...signin,
      id,
      userPrincipalName: 'Entra.Audit@contoso.com',
      createdDateTime: time,
      ipAddress: ip,
      location: { city, countryOrRegion: country, geoCoordinates: { latitude: lat, longitude: lon } },
    });
    const london = at('ea-1', recentIso(0), '81.2.69.142', 'London', 'GB', 51.5, -0.12);
    const sydney = at('ea-2', recentIso(HOUR), '1.128.0.1', 'Sydney', 'AU', -33.87, 151.21);
    for (const s of [london, sydney]) await h.redis.xadd(`${h.prefix}:login`, '*', 'data', JSON.stringify(s));
    await quiet([user]);
    expect((await hits(user)).map((e) => e.behavior)).toEqual(['impossible_travel']);
  });

  it('a threshold fires again as in event-time order when a match arrives late within state.allowed_lateness', async () => {
    const user = 'late.match@example.com';
    const match = (m: number) => flat('activity', { type: 'http', id: `lm-${m}`, user, time: recentIso(m * MIN), status: '403' });
    // Matches at 2, 10, 12 and 21 min, count 2 in 10m: {2, 10} fires, then {12, 21} 11 min later.
    // The one at 10 arrives after 12 (another batch): {2, 12} fires first; 21 must still fire.
    await match(2);
    await match(12);
    await quiet([user]);
    await match(10);
    await quiet([user]);
    await match(21);
    await quiet([user]);
    expect((await hits(user)).filter((e) => e.behavior === 'forbidden')).toHaveLength(2);
  });
});
