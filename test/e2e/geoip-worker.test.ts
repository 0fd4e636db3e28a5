import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { MIN, recentIso } from '../helpers/clock.js';
import { storedSession, userRisk, workerHarness } from '../helpers/worker.js';
import { buildMmdb, cityRecord } from '../ingest/helpers/mmdb-writer.js';

/**
 * CONTRACT §2 "Logins without `geo` are located from `ip` when a MaxMind database is configured",
 * through the real worker (`geoip.mmdb`) and flat stream fields, as a shipper writes them: the
 * unit tests (test/ingest/geoip.test.ts) read the database directly, none ran it in a worker.
 */
const dbDir = mkdtempSync(join(tmpdir(), 'riskstream-geoip-e2e-'));
const mmdb = join(dbDir, 'city.mmdb');
writeFileSync(
  mmdb,
  buildMmdb(
    [
      { cidr: '81.2.69.0/24', data: cityRecord({ lat: 51.5, lon: -0.12, radius: 20, country: 'GB', city: 'London' }) },
      { cidr: '1.128.0.0/16', data: cityRecord({ lat: -33.87, lon: 151.21, radius: 50, country: 'AU', city: 'Sydney' }) },
    ],
    { databaseType: 'GeoLite2-City' },
  ),
);
afterAll(() => rmSync(dbDir, { recursive: true, force: true }));

const h = workerHarness('geoip-worker', () => ({ geoip: { mmdb } }));
const USER = 'located@example.com';
const api = (path: string): Promise<Response> => fetch(`${h.worker.url}${path}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
const session = (id: string) => storedSession(h.worker.url, h.cfg.adminToken, id);

describe('GeoIP in the worker (geoip.mmdb; real worker, Redis)', () => {
  it('a flat login without geo is placed by its ip (its session stores the place); a second one from the other side of the world is impossible travel', async () => {
    const login = `${h.prefix}:login`;
    // A shipper's template: blank coordinates, a region of its own (kept beside the located place).
    await h.redis.xadd(
      login,
      '*',
      'type',
      'login',
      'user',
      USER,
      'time',
      recentIso(0),
      'outcome',
      'success',
      'ip',
      '81.2.69.142',
      'session.id',
      's-geo-1',
      'geo.lat',
      '',
      'geo.lon',
      '',
      'geo.region',
      'ENG',
    );
    expect((await session('s-geo-1')).geo).toEqual({ lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB', city: 'London', region: 'ENG' });

    await h.redis.xadd(
      login,
      '*',
      'type',
      'login',
      'user',
      USER,
      'time',
      recentIso(10 * MIN),
      'outcome',
      'success',
      'ip',
      '1.128.0.1',
      'session.id',
      's-geo-2',
    );
    expect((await session('s-geo-2')).geo).toMatchObject({ country: 'AU', city: 'Sydney' });
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, USER)).level === 'high', { what: 'impossible travel: high' });
    const risk = (await (await api(`/v1/users/${encodeURIComponent(USER)}/risk`)).json()) as { behaviors: Array<{ id: string }> };
    expect(risk.behaviors.map((b) => b.id)).toEqual(['impossible_travel']);
  });

  it('a login whose coordinates are out of range (lat 200) or NaN is placed by its ip as one without geo, and judged for impossible travel by that place', async () => {
    const user = 'out-of-range@example.com';
    const login = `${h.prefix}:login`;
    const flat = (minutes: number, ip: string, sessionId: string, geo: string[]) =>
      h.redis.xadd(
        login,
        '*',
        'type',
        'login',
        'user',
        user,
        'time',
        recentIso(minutes * MIN),
        'outcome',
        'success',
        'ip',
        ip,
        'session.id',
        sessionId,
        ...geo,
      );
    // Before: kept as given (the first) and dead-lettered whole (the second, `NaN`): no travel judged.
    await flat(0, '81.2.69.142', 's-range-1', ['geo.lat', '200', 'geo.lon', '500', 'geo.accuracy_km', '-3', 'geo.region', 'ENG']);
    expect((await session('s-range-1')).geo).toEqual({ lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB', city: 'London', region: 'ENG' });
    await flat(10, '1.128.0.1', 's-range-2', ['geo.lat', 'NaN', 'geo.lon', 'NaN']);
    expect((await session('s-range-2')).geo).toEqual({ lat: -33.87, lon: 151.21, accuracy_km: 50, country: 'AU', city: 'Sydney' });
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, user)).level === 'high', { what: 'impossible travel: high' });
    const risk = (await (await api(`/v1/users/${encodeURIComponent(user)}/risk`)).json()) as { behaviors: Array<{ id: string }> };
    expect(risk.behaviors.map((b) => b.id)).toEqual(['impossible_travel']);
    // Counted (from the router thread), the events not dead-lettered.
    const metrics = await waitFor(
      async () => {
        const m = await (await api('/metrics')).text();
        return /riskstream_events_coerced_total\{reason="geo_coordinates_out_of_range"\} 2\b/.test(m) ? m : undefined;
      },
      { what: 'riskstream_events_coerced_total' },
    );
    expect(metrics).not.toMatch(/^riskstream_events_dead_lettered_total\{/m);
  });
});
