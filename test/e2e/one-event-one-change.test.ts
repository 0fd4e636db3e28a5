import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { eventOf } from '../helpers/receiver.js';
import { workerHarness } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { recentIso } from '../helpers/clock.js';

/**
 * One event that hits several behaviors of different levels is one level change, to the highest
 * (found by a black-box audit: an access matching a medium and a high threshold made two changes,
 * LOW → MEDIUM then MEDIUM → HIGH, two SETs and two audit entries, for one event).
 */
const RISK_CHANGE = 'https://schemas.openid.net/secevent/caep/event-type/risk-level-change';
const threshold = (level: string) => ({
  kind: 'threshold',
  enabled: true,
  risk_level: level,
  expires_after: '24h',
  match: { type: 'access', app: 'payroll', outcome: 'denied' },
  count: 1,
  window: '5m',
});

const h = workerHarness(
  'e2e-one-change',
  (url) => ({ receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/rx`, audience: 'https://rx.test', subject_format: 'email' }] }),
  {
    receiver: { audience: 'https://rx.test', issuer: 'https://riskstream.test' },
    // The medium one first: applied in config order, it used to raise MEDIUM before the high one HIGH.
    behaviors: { payroll_medium: threshold('medium'), payroll_high: threshold('high') },
  },
);

describe('one event, several behaviors (real worker, Redis, receiver)', () => {
  it('an event hitting a medium and a high behavior: both hits, one change LOW → HIGH, one SET', async () => {
    const user = 'payroll@example.com';
    await h.redis.xadd(
      `${h.prefix}:activity`,
      '*',
      'event',
      JSON.stringify({ type: 'access', id: 'acc-1', user, time: recentIso(0), outcome: 'denied', app: 'payroll' }),
    );
    await waitFor(() => h.receiver.received.length >= 1, { what: 'a SET' });
    await untilQuiet(h.redis, { prefix: h.prefix, users: [user] });
    const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/events`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
    const events = ((await r.json()) as { events: Array<{ kind: string; behavior?: string; previous?: string; current?: string }> }).events;
    expect(
      events
        .filter((e) => e.kind === 'hit')
        .map((e) => e.behavior)
        .sort(),
    ).toEqual(['payroll_high', 'payroll_medium']);
    expect(events.filter((e) => e.kind === 'change').map((e) => [e.previous, e.current])).toEqual([['low', 'high']]);
    const sets = h.receiver.received.filter((s) => eventOf(s).type === RISK_CHANGE);
    expect(sets.map((s) => [eventOf(s).body.previous_level, eventOf(s).body.current_level])).toEqual([['LOW', 'HIGH']]);
  });
});
