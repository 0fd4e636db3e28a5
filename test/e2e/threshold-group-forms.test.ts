import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { MIN, recent } from '../helpers/clock.js';
import { userRisk, workerHarness } from '../helpers/worker.js';

/**
 * A threshold's `group_by` value in its two spellings: a flat stream field is always a string
 * (`XADD … code 403`), the same field in a JSON `event` may be a number (`"code": 403`). `match`
 * compares primitives by their string form (403 matches "403"), so both entries match; they are
 * one value and must count in one group, as they do without `group_by`.
 */
const h = workerHarness('threshold-group-forms', (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/e`, audience: 'https://rx' }] }), {
  behaviors: {
    forbidden: {
      kind: 'threshold',
      risk_level: 'medium',
      expires_after: '24h',
      match: { type: 'http', code: 403 },
      group_by: ['code'],
      count: 2,
      window: '10m',
    },
  },
});

describe('threshold group_by across flat and JSON entries', () => {
  it('a value given as "403" in a flat field and as 403 in JSON is one group', async () => {
    const user = 'groups@example.com';
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'type', 'http', 'user', user, 'time', String(recent(MIN)), 'code', '403');
    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', JSON.stringify({ type: 'http', user, time: recent(2 * MIN), code: 403 }));
    // A later user's pair, both flat, marks the point by which the first pair has been scored.
    const marker = 'marker@example.com';
    for (const m of [3, 4]) await h.redis.xadd(`${h.prefix}:activity`, '*', 'type', 'http', 'user', marker, 'time', String(recent(m * MIN)), 'code', '403');
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, marker)).level === 'medium', { what: 'the marker user at medium' });
    expect((await userRisk(h.worker.url, h.cfg.adminToken, user)).level).toBe('medium');
    const set = await waitFor(() => h.receiver.received.find((s) => (s.claims.sub_id as { email?: string }).email === user), { what: "the user's SET" });
    expect(set.verified).toBe(true);
  });
});
