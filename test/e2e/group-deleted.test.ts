/**
 * The input's consumer group deleted under a running worker (XGROUP DESTROY, or a Redis that came
 * back without its data): the router recreates it and goes on — a warning, not an error — and the
 * entries it reads again from the stream's start are not applied twice.
 */
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, userRisk, workerHarness } from '../helpers/worker.js';
import { recentIso } from '../helpers/clock.js';

const h = workerHarness('group-deleted');

const detection = (user: string, id: string) => criticalDetection(user, { id, time: recentIso(0) });
const risk = (user: string) => userRisk(h.worker.url, h.cfg.adminToken, user);

async function hits(user: string): Promise<number> {
  const r = await fetch(`${h.worker.url}/v1/users/${encodeURIComponent(user)}/events?limit=100`, { headers: { authorization: `Bearer ${h.cfg.adminToken}` } });
  const events = ((await r.json()) as { events: Array<{ kind?: string; type?: string }> }).events;
  return events.filter((e) => (e.kind ?? e.type) === 'hit').length;
}

describe('input consumer group deleted', () => {
  it('is recreated with a warning; every event applied once', async () => {
    const stream = `${h.prefix}:activity`;
    await h.redis.xadd(stream, '*', 'event', detection('gd-1@example.com', 'e-1'));
    await waitFor(async () => (await risk('gd-1@example.com')).level === 'high', { what: 'the first user high' });
    await h.redis.xgroup('DESTROY', stream, 'riskstream');
    await h.redis.xadd(stream, '*', 'event', detection('gd-2@example.com', 'e-2'));
    await waitFor(async () => (await risk('gd-2@example.com')).level === 'high', { what: 'the second user high', timeout: 20_000 });
    expect(h.worker.output()).toMatch(/input consumer group missing/);
    // Not logged as a failure.
    expect(h.worker.output()).not.toMatch(/routing failed/);
    // The first entry, read again from the stream's start, was not applied again.
    expect(await risk('gd-1@example.com')).toMatchObject({ level: 'high', version: 1 });
    expect(await hits('gd-1@example.com')).toBe(1);
  });
});
