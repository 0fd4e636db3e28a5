import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { recentIso } from '../helpers/clock.js';

/**
 * A threshold's `match` on a path through a list of objects, through the real worker: Okta's
 * System Log keeps `target` as a list of objects, and `target.type: AppInstance` matches when any
 * target is one (before: never, the path read nothing through the list).
 */
const h = workerHarness(
  'e2e-threshold-lists',
  (url) => ({
    signing: { key_file: 'keys/signing.pem', alg: 'ES256', kid: 'lists-kid' },
    receivers: [{ name: 'all', kind: 'ssf', endpoint: `${url}/all`, audience: 'https://all.test', subject_format: 'email' }],
  }),
  {
    receiver: { issuer: 'https://riskstream.test' },
    behaviors: {
      admin_app: {
        kind: 'threshold',
        enabled: true,
        risk_level: 'medium',
        expires_after: '24h',
        match: { type: 'user.session.access_admin_app', 'target.type': 'AppInstance' },
        count: 1,
        window: '5m',
      },
    },
  },
);

const risk = async (user: string): Promise<{ level: string; behaviors: Array<{ id: string }> }> => {
  const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return (await r.json()) as { level: string; behaviors: Array<{ id: string }> };
};
const add = (ev: Record<string, unknown>): Promise<string | null> => h.redis.xadd(`${h.prefix}:activity`, '*', 'event', JSON.stringify(ev));

describe('threshold match through a list of objects (real worker)', () => {
  it('target.type matches an event whose target list holds an AppInstance (level, SET); one without stays LOW', async () => {
    const type = 'user.session.access_admin_app';
    await add({ type, id: 'adm-1', user: 'lists-hit@example.com', time: recentIso(0), target: [{ type: 'User', alternateId: 'x' }, { type: 'AppInstance' }] });
    await add({ type, id: 'adm-2', user: 'lists-miss@example.com', time: recentIso(0), target: [{ type: 'User', alternateId: 'x' }] });
    await waitFor(async () => (await risk('lists-hit@example.com')).level === 'medium', { what: 'MEDIUM by the threshold' });
    await waitFor(() => h.receiver.received.length === 1, { what: 'the MEDIUM SET' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: ['lists-hit@example.com', 'lists-miss@example.com'] });
    expect((await risk('lists-hit@example.com')).behaviors.map((b) => b.id)).toEqual(['admin_app']);
    expect((await risk('lists-miss@example.com')).level).toBe('low');
    expect(h.receiver.received).toHaveLength(1);
  }, 60_000);
});
