import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { MIN, recentIso } from '../helpers/clock.js';
import { userRisk, workerHarness } from '../helpers/worker.js';

/**
 * A JSON event whose top-level keys are dotted (`"geo.lat"`, `"session.id"`: ECS-style documents
 * from Elastic shippers) nests as flat fields do (docs/interfaces.md §2): its session is stored,
 * its place located. Before, such a login recorded no session and no geo, silently.
 */
const h = workerHarness('dotted-keys');

const USER = 'ecs@example.com';
const api = (path: string): Promise<Response> => fetch(`${h.worker.url}${path}`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });

describe('dotted top-level keys of a JSON event (real worker, Redis)', () => {
  it('a login over POST /v1/events stores its session and geo; one in a stream event field 10 minutes later from Sydney is impossible travel', async () => {
    const london = {
      type: 'login',
      user: USER,
      time: recentIso(0),
      outcome: 'success',
      'geo.lat': 51.5,
      'geo.lon': -0.12,
      'geo.country': 'gb',
      'session.id': 's-ecs-1',
    };
    const res = await fetch(`${h.worker.url}/v1/events`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.cfg.ingestToken}`, 'content-type': 'application/x-ndjson' },
      body: `${JSON.stringify(london)}\n`,
    });
    expect(res.status).toBe(202);
    const session = await waitFor(
      async () => {
        const r = await api('/v1/sessions/s-ecs-1');
        return r.status === 200 ? ((await r.json()) as { user: string; geo?: Record<string, unknown> }) : undefined;
      },
      { what: 'the session stored' },
    );
    expect(session.user).toBe(USER);
    expect(session.geo).toMatchObject({ lat: 51.5, lon: -0.12, country: 'GB' });

    const sydney = { type: 'login', user: USER, time: recentIso(10 * MIN), outcome: 'success', 'geo.lat': -33.87, 'geo.lon': 151.21, 'session.id': 's-ecs-2' };
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', JSON.stringify(sydney));
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, USER)).level === 'high', { what: 'impossible travel: high' });
    const risk = (await (await api(`/v1/users/${encodeURIComponent(USER)}/risk`)).json()) as { behaviors: Array<{ id: string }> };
    expect(risk.behaviors.map((b) => b.id)).toContain('impossible_travel');
  });
});
