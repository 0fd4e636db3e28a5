/**
 * CONTRACT §3 "stream names" (riskstream.yaml `streams`) through a real worker: events are read
 * from the configured login, activity and extra streams (not `<prefix>:login` / `:activity`), and
 * an entry that cannot be understood goes to the configured dead-letter stream.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { userRisk, workerHarness } from '../helpers/worker.js';
import { recentIso } from '../helpers/clock.js';

const h = workerHarness('e2e-stream-names', (_url, prefix) => ({
  streams: {
    login: `${prefix}:in:auth`,
    activity: `${prefix}:in:act`,
    extra: [`${prefix}:in:edr`],
    dead_letter: `${prefix}:out:dlq`,
    block: '200ms',
  },
}));

describe('streams: configured names', () => {
  it('reads login, activity and extra streams by their configured names; dead letters go to streams.dead_letter', async () => {
    const user = 'streams@example.com';
    const P = h.prefix;
    await h.redis.xadd(
      `${P}:in:auth`,
      '*',
      'type',
      'login',
      'id',
      'l-1',
      'user',
      user,
      'time',
      recentIso(0),
      'outcome',
      'success',
      'ip',
      '81.2.69.142',
      'geo.lat',
      '51.5',
      'geo.lon',
      '-0.12',
      'geo.country',
      'GB',
    );
    await h.redis.xadd(
      `${P}:in:act`,
      '*',
      'event',
      JSON.stringify({ type: 'dlp', id: 'd-1', user, time: recentIso(60_000), severity: 'high', profile: 'pii' }),
    );
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, user)).level === 'medium', { what: 'dlp via streams.activity' });
    await h.redis.xadd(
      `${P}:in:edr`,
      '*',
      'event',
      JSON.stringify({
        type: 'endpoint',
        id: 'e-1',
        user,
        time: recentIso(120_000),
        device: { id: 'd-1' },
        vendor: 'crowdstrike',
        detection: 'malware',
        severity: 'critical',
      }),
    );
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, user)).level === 'high', { what: 'edr via streams.extra' });
    await h.redis.xadd(`${P}:in:act`, '*', 'event', '{not json');
    await waitFor(async () => (await h.redis.xlen(`${P}:out:dlq`)) === 1, { what: 'dead letter in streams.dead_letter' });
    const [[, fields]] = (await h.redis.xrange(`${P}:out:dlq`, '-', '+')) as [[string, string[]]];
    expect(fields.join('\u0000')).toContain(`${P}:in:act`);
    for (const k of [`${P}:login`, `${P}:activity`, `${P}:dead-letter`]) expect(await h.redis.exists(k), k).toBe(0);
  }, 60_000);
});
