import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { HOUR, MIN, recentIso } from '../helpers/clock.js';

const h = workerHarness(
  'e2e-slice',
  (url) => ({ receivers: [{ name: 'test-ssf', kind: 'ssf', endpoint: `${url}/events`, audience: 'https://h.receiver.test', subject_format: 'email' }] }),
  { receiver: { audience: 'https://h.receiver.test', issuer: 'https://riskstream.test' } },
);

describe('first slice: Redis stream in → signed SET out', () => {
  it('London then Sydney two hours later → one verified SET, LOW → HIGH', async () => {
    const user = 'alice@example.com';
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'event',
      JSON.stringify({
        type: 'login',
        id: 'l-1',
        user,
        time: recentIso(0),
        outcome: 'success',
        ip: '81.2.69.142',
        geo: { lat: 51.5, lon: -0.12, accuracy_km: 20, country: 'GB', city: 'London' },
      }),
    );
    // Flat-field shape with dotted keys.
    await h.redis.xadd(
      `${h.prefix}:login`,
      '*',
      'type',
      'login',
      'id',
      'l-2',
      'user',
      user,
      'time',
      recentIso(2 * HOUR),
      'outcome',
      'success',
      'ip',
      '1.128.0.1',
      'geo.lat',
      '-33.87',
      'geo.lon',
      '151.21',
      'geo.city',
      'Sydney',
      'geo.country',
      'AU',
    );

    await waitFor(() => h.receiver.received.length >= 1, { what: 'a SET at the receiver' });
    const set = h.receiver.received[0]!;
    expect(set.error).toBeUndefined();
    expect(set.verified).toBe(true);
    expect(set.contentType).toBe('application/secevent+jwt');
    expect(set.header.typ).toBe('secevent+jwt');
    expect(set.header.kid).toEqual(expect.any(String));
    expect(set.claims.iss).toBe('https://riskstream.test');
    expect(set.claims.aud).toBe('https://h.receiver.test');
    expect(set.claims.jti).toEqual(expect.any(String));
    expect(set.claims.sub_id).toEqual({ format: 'email', email: user });
    const ev = eventOf(set);
    expect(ev.type).toBe('https://schemas.openid.net/secevent/caep/event-type/risk-level-change');
    expect(ev.body).toMatchObject({ principal: 'USER', current_level: 'HIGH', previous_level: 'LOW' });

    // Exactly one SET for one change: once nothing is left to process or deliver, no second one.
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(h.receiver.received).toHaveLength(1);

    // The state and the evidence are in Redis, readable through the API.
    const res = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
    expect(res.status).toBe(200);
    const risk = (await res.json()) as { level: string; version: number; behaviors: Array<{ id: string; evidence: Record<string, unknown> }> };
    expect(risk.level).toBe('high');
    expect(risk.version).toBe(1);
    expect(risk.behaviors[0]!.id).toBe('impossible_travel');
    expect(Number(risk.behaviors[0]!.evidence.distance_km)).toBeGreaterThan(16_000);
  });

  it('a bad entry lands in the dead-letter stream with a reason, and the worker keeps going', async () => {
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', '{"type":"dlp", not json');
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'type', 'dlp', 'time', recentIso(0)); // no user
    const dead = await waitFor(
      async () => {
        const rows = await h.redis.xrange(`${h.prefix}:dead-letter`, '-', '+');
        return rows.length >= 2 ? rows : undefined;
      },
      { what: 'two dead letters' },
    );
    const text = dead.map(([, f]) => f.join(' ')).join('\n');
    expect(text).toMatch(/reason/);
    expect(text).toMatch(/user/);
    // Still processing: an infected device raises bob to HIGH.
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'event',
      JSON.stringify({
        type: 'endpoint',
        user: 'bob@example.com',
        time: recentIso(5 * MIN),
        device: { id: 'd-9' },
        vendor: 'crowdstrike',
        detection: 'malware',
        severity: 'critical',
      }),
    );
    await waitFor(() => h.receiver.received.some((s) => (s.claims.sub_id as { email?: string })?.email === 'bob@example.com'), { what: "bob's SET" });
    // Nothing is left pending: every entry was acked.
    const pending = (await h.redis.xpending(`${h.prefix}:activity`, 'riskstream')) as [number];
    expect(pending[0]).toBe(0);
  });

  it('serves the JWKS publicly and refuses admin routes without a token', async () => {
    const jwks = (await (await fetch(`${h.worker.url}/.well-known/jwks.json`)).json()) as { keys: Array<Record<string, unknown>> };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const k of jwks.keys) expect(k.d).toBeUndefined();
    expect((await fetch(`${h.worker.url}/healthz`)).status).toBe(200);
    expect((await fetch(`${h.worker.url}/v1/users`)).status).toBe(401);
  });
});
