import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';
import { HOUR, recentIso } from '../helpers/clock.js';

const h = workerHarness('e2e-sessions-off', () => ({ sessions: { enabled: false } }));

const login = (id: string, time: string, city: string, lat: number, lon: number, ip: string) =>
  JSON.stringify({
    type: 'login',
    id,
    user: 'dana@example.com',
    time,
    outcome: 'success',
    ip,
    geo: { lat, lon, city },
    session: { id: `s-${id}`, expires_at: new Date(Date.now() + 3_600_000).toISOString(), idp: 'okta', claims: { email: 'dana@example.com' } },
  });

describe('sessions.enabled: false', () => {
  it('logins are still scored, but no session identity is stored', async () => {
    const auth = { authorization: `Bearer ${h.cfg.adminToken}` };
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('a', recentIso(0), 'London', 51.5, -0.12, '81.2.69.142'));
    await h.redis.xadd(`${h.prefix}:login`, '*', 'event', login('b', recentIso(2 * HOUR), 'Sydney', -33.87, 151.21, '1.128.0.1'));
    await waitFor(
      async () => {
        const r = await fetch(`${h.worker.url}/v1/users/dana%40example.com/risk`, { headers: auth });
        return r.status === 200 && ((await r.json()) as { level: string }).level === 'high';
      },
      { what: 'dana at HIGH' },
    );
    const all = (await (await fetch(`${h.worker.url}/v1/sessions`, { headers: auth })).json()) as { sessions: unknown[] };
    expect(all.sessions).toEqual([]);
    expect((await fetch(`${h.worker.url}/v1/sessions/s-a`, { headers: auth })).status).toBe(404);
    expect(await h.redis.keys(`${h.prefix}:session*`)).toEqual([]);
  });
});
