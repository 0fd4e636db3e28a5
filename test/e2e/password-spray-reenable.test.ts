/**
 * password_spray turned off and on again by hot reloads starts afresh: an IP's failures tallied
 * before it was turned off do not make a later success a victim. Found by a review: the per-IP
 * tallies live in Redis, apart from the users' state, and kept counting for up to `window`.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { inProcessWorker, userRisk } from '../helpers/worker.js';
import { untilQuiet } from '../helpers/quiet.js';
import { MIN, recentIso } from '../helpers/clock.js';

const w = inProcessWorker('spray-reenable');
const spray = (enabled: boolean) => ({ password_spray: { enabled, risk_level: 'high', expires_after: '24h', users: 5, window: '30m' } });

describe('password_spray off then on again (hot reload)', () => {
  it("starts afresh: the IP's failures from before it was turned off make no victim; new ones do", async () => {
    const worker = await w.start({});
    const dir = worker.config().dir;
    const reload = async (enabled: boolean) => {
      writeFileSync(join(dir, 'behaviors.yaml'), stringify(spray(enabled)));
      await worker.reload(dir);
    };
    const add = (e: Record<string, unknown>) => w.redis.xadd(`${w.prefix}:login`, '*', 'event', JSON.stringify({ type: 'login', ...e }));
    const fail = async (tag: string, from: number) => {
      for (let i = 0; i < 5; i++) await add({ id: `${tag}-f${i}`, user: `${tag}${i}@example.com`, time: recentIso(from + i * MIN), outcome: 'failure', ip });
    };
    const level = async (user: string) => (await userRisk(worker.url, `admin-${w.prefix}-0123456789abcdef`, user)).level ?? 'low';
    const quiet = (users: string[]) => untilQuiet(w.redis, { prefix: w.prefix, users });
    const ip = '203.0.113.77';

    await reload(true);
    await fail('old', 0);
    await quiet([]);
    await reload(false);
    await reload(true);
    // Within the window of the old failures: before, these counted and the success was a victim.
    await add({ id: 'after-ok', user: 'victim@example.com', time: recentIso(6 * MIN), outcome: 'success', ip });
    await quiet(['victim@example.com']);
    expect(await level('victim@example.com')).toBe('low');

    // On again, it counts what comes now.
    await fail('new', 7 * MIN);
    await add({ id: 'new-ok', user: 'second@example.com', time: recentIso(13 * MIN), outcome: 'success', ip });
    await quiet(['second@example.com']);
    expect(await level('second@example.com')).toBe('high');
  }, 60_000);
});
