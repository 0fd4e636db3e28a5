import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { HOUR, MIN, recentIso } from '../helpers/clock.js';

/**
 * A source's "no country" (`Unknown`, `--`, CLDR's `ZZ`, Cloudflare's `XX`) is no country, through
 * the real worker: session_hijack compares no country for it (a property missing on either side
 * is not compared, CONTRACT §2) and new_country learns and flags none (before: a session used from
 * "Unknown" was a hijack, HIGH, and a login from it a new country).
 */
const h = workerHarness(
  'e2e-country-placeholder',
  (url) => ({
    signing: { key_file: 'keys/signing.pem', alg: 'ES256', kid: 'nocountry-kid' },
    receivers: [{ name: 'all', kind: 'ssf', endpoint: `${url}/all`, audience: 'https://all.test', subject_format: 'email' }],
  }),
  {
    receiver: { issuer: 'https://riskstream.test' },
    behaviors: {
      session_hijack: { enabled: true, risk_level: 'high', expires_after: '24h', compare: ['country'] },
      new_country: { enabled: true, risk_level: 'medium', expires_after: '24h', baseline: '30d', learning: '1h' },
    },
  },
);

const risk = async (user: string): Promise<{ level: string; behaviors: Array<{ id: string }> }> => {
  const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return (await r.json()) as { level: string; behaviors: Array<{ id: string }> };
};
const add = (stream: 'login' | 'activity', ev: Record<string, unknown>): Promise<string | null> =>
  h.redis.xadd(`${h.prefix}:${stream}`, '*', 'event', JSON.stringify(ev));

describe('a placeholder country is no country (real worker)', () => {
  it('a session used from "Unknown" / ZZ / XX is no hijack and no new country; one used from FR is a hijack', async () => {
    const user = 'nocountry@example.com';
    const login = (id: string, at: number, country: string, sid: string) =>
      add('login', { type: 'login', id, user, time: recentIso(at), outcome: 'success', session: { id: sid }, geo: { country } });
    await login('l-1', 0, 'GB', 's-1');
    for (const [i, country] of ['Unknown', 'ZZ', 'XX', '--'].entries())
      await add('activity', { type: 'access', id: `a-${i}`, user, time: recentIso((i + 1) * MIN), session: { id: 's-1' }, geo: { country } });
    // After learning: a login whose country is a placeholder is no new country.
    await login('l-2', 2 * HOUR, 'Unknown', 's-2');
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    expect(await risk(user)).toMatchObject({ level: 'low', behaviors: [] });
    expect(h.receiver.received).toEqual([]);
    await add('activity', { type: 'access', id: 'a-fr', user, time: recentIso(10 * MIN), session: { id: 's-1' }, geo: { country: 'FR' } });
    await waitFor(async () => (await risk(user)).level === 'high', { what: 'the hijack from FR' });
    expect((await risk(user)).behaviors.map((b) => b.id)).toEqual(['session_hijack']);
  }, 60_000);
});
