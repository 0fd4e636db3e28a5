/**
 * A reload changing what a counting behavior counts — a threshold's `match`, dlp_detection's
 * `min_severity` — starts its count afresh for every user: events counted under the old rule do not
 * complete a count under the new one, nor show in its evidence (found by a black-box review: two
 * `denied` accesses counted before a reload to `outcome: allowed` made the first allowed one fire
 * "3 matching events"). Real worker, SIGHUP, real Redis.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { workerHarness } from '../helpers/worker.js';

const h = workerHarness('reload-counted-params', () => ({}), {
  behaviors: {
    access_burst: { kind: 'threshold', risk_level: 'high', expires_after: '24h', match: { type: 'access', outcome: 'denied' }, count: 3, window: '1h' },
    dlp_detection: { risk_level: 'medium', expires_after: '24h', min_severity: 'low', count: 3, window: '1h' },
  },
});

interface Risk {
  level: string;
  behaviors: Array<{ id: string; hits: number; evidence: { event_ids: string[] } }>;
}
const risk = async (user: string): Promise<Risk | undefined> => {
  const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/risk`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  return r.status === 200 ? ((await r.json()) as Risk) : undefined;
};
const add = (e: Record<string, unknown>) => h.redis.xadd(`${h.prefix}:activity`, '*', 'event', JSON.stringify({ time: Date.now() - 60_000, ...e }));
const reloads = async (): Promise<number> => (await h.redis.xrange(`${h.prefix}:audit`, '-', '+')).filter(([, f]) => f.includes('config.reloaded')).length;
const editBehaviors = async (f: (c: Record<string, any>) => void): Promise<void> => {
  const file = join(h.cfg.dir, 'behaviors.yaml');
  const c = parse(readFileSync(file, 'utf8')) as Record<string, any>;
  f(c);
  writeFileSync(file, stringify(c));
  const before = await reloads();
  h.worker.child.kill('SIGHUP');
  await waitFor(async () => (await reloads()) > before, { what: 'the reload applied' });
};

describe('a reload changing which events a counting behavior counts', () => {
  it('starts the count afresh: only events the new rule matches fire it, and its evidence names only them', async () => {
    const a = 'counted-a@example.com';
    const d = 'counted-d@example.com';
    await add({ type: 'access', id: 'a-old-1', user: a, outcome: 'denied', app: 'payroll' });
    await add({ type: 'access', id: 'a-old-2', user: a, outcome: 'denied', app: 'payroll' });
    await add({ type: 'dlp', id: 'd-old-1', user: d, severity: 'low', profile: 'pii' });
    await add({ type: 'dlp', id: 'd-old-2', user: d, severity: 'low', profile: 'pii' });
    // Counted: both users are known (no level yet).
    await waitFor(async () => (await risk(a))?.level === 'low' && (await risk(d))?.level === 'low', { what: 'the first events applied' });

    await editBehaviors((c) => {
      c.access_burst.match = { type: 'access', outcome: 'allowed' };
      c.dlp_detection.min_severity = 'high';
    });
    for (const n of [1, 2, 3]) {
      await add({ type: 'access', id: `a-new-${n}`, user: a, outcome: 'allowed', app: 'payroll' });
      await add({ type: 'dlp', id: `d-new-${n}`, user: d, severity: 'high', profile: 'pii' });
    }
    const ra = await waitFor(async () => ((await risk(a))?.level === 'high' ? risk(a) : undefined), { what: 'the threshold fired' });
    const rd = await waitFor(async () => ((await risk(d))?.level === 'medium' ? risk(d) : undefined), { what: 'dlp_detection fired' });
    // One hit, at the third new event: the old ones neither made it fire earlier nor show in it.
    expect(ra!.behaviors.map((b) => [b.id, b.hits, b.evidence.event_ids])).toEqual([['access_burst', 1, ['a-new-1', 'a-new-2', 'a-new-3']]]);
    expect(rd!.behaviors.map((b) => [b.id, b.hits, b.evidence.event_ids])).toEqual([['dlp_detection', 1, ['d-new-1', 'd-new-2', 'd-new-3']]]);
  }, 60_000);
});
