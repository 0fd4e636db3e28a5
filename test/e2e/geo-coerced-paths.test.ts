import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { recentIso } from '../helpers/clock.js';
import { storedSession, workerHarness } from '../helpers/worker.js';

/**
 * Geo coordinates out of range are counted where events are decoded (test/e2e/geoip-worker.test.ts:
 * the router thread) — here POST /v1/events and a router in the worker's own thread
 * (`engine.router_thread: false`), each event once: a record POSTed is decoded again by the router
 * from the canonical entry it became, with nothing left to drop. No MaxMind database: the login
 * stays without coordinates, its other geo fields kept.
 */
const h = workerHarness('geo-coerced', () => ({ engine: { router_thread: false } }));
const api = (path: string, init: RequestInit = {}, token = h.cfg.adminToken): Promise<Response> =>
  fetch(`${h.worker.url}${path}`, { ...init, headers: { authorization: `Bearer ${token}`, ...(init.headers ?? {}) } });
const session = (id: string) => storedSession(h.worker.url, h.cfg.adminToken, id);

describe('riskstream_events_coerced_total (HTTP ingest; router in the main thread)', () => {
  it('counts each accepted event with coordinates out of range once, keeps it and its other geo fields', async () => {
    const user = 'coerced@example.com';
    const posted = { type: 'login', user, time: recentIso(0), outcome: 'success', session: { id: 's-co-1' }, geo: { lat: 200, lon: 10, country: 'GB' } };
    const r = await api('/v1/events', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(posted) }, h.cfg.ingestToken);
    expect(r.status).toBe(202);
    expect((await session('s-co-1')).geo).toEqual({ country: 'GB' });
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'type',
      'login',
      'user',
      user,
      'time',
      recentIso(0),
      'session.id',
      's-co-2',
      'geo.lat',
      '1',
      'geo.lon',
      '-500',
      'geo.city',
      'Leeds',
    );
    expect((await session('s-co-2')).geo).toEqual({ city: 'Leeds' });
    const metrics = await waitFor(
      async () => {
        const m = await (await api('/metrics')).text();
        return /riskstream_events_coerced_total\{reason="geo_coordinates_out_of_range"\} 2\b/.test(m) ? m : undefined;
      },
      { what: 'riskstream_events_coerced_total 2' },
    );
    expect(metrics).not.toMatch(/^riskstream_events_dead_lettered_total\{/m);
  });
});
