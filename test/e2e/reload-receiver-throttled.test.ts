/**
 * A configured receiver that answered 429 with a long Retry-After, removed by a reload while its
 * SETs wait out the pause: they are not pushed to it, and fail at once (`set.failed`,
 * `unknown_receiver`) — not only once the Retry-After (here 10 minutes, past the test's wait) is
 * over. Real worker, SIGHUP, loopback receiver.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, stringify } from 'yaml';
import { describe, expect, it } from 'vitest';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, workerHarness } from '../helpers/worker.js';

const h = workerHarness('reload-receiver-throttled', (url) => ({
  receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${url}/push`, audience: 'https://rx.test', subject_format: 'email' }],
}));
const audit = async (action: string): Promise<Array<Record<string, unknown>>> =>
  (await h.redis.xrange(`${h.prefix}:audit`, '-', '+'))
    .filter(([, f]) => f[f.indexOf('action') + 1] === action)
    .map(([, f]) => JSON.parse(f[f.indexOf('details') + 1]!) as Record<string, unknown>);

describe('a rate-limited receiver removed by a reload', () => {
  it('fails its waiting SETs at once as unknown_receiver, pushing none', async () => {
    h.receiver.respond = () => ({ status: 429, headers: { 'retry-after': '600' } });
    const users = ['t0@example.com', 't1@example.com', 't2@example.com'];
    for (const u of users) await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(u));
    // The first SET met the 429 and paused the receiver; the others wait out the pause.
    await waitFor(async () => (await audit('set.retry')).some((d) => d.outcome === 'rate_limited'), { what: 'the 429' });
    await new Promise((r) => setTimeout(r, 2000));
    const pushed = h.receiver.received.length;

    const file = join(h.cfg.dir, 'riskstream.yaml');
    const c = parse(readFileSync(file, 'utf8')) as Record<string, any>;
    c.receivers = [];
    writeFileSync(file, stringify(c));
    h.worker.child.kill('SIGHUP');
    await waitFor(async () => (await audit('config.reloaded')).length > 0, { what: 'the reload applied' });

    const failed = await waitFor(
      async () => {
        const f = (await audit('set.failed')).filter((d) => users.includes(d.user as string));
        return f.length === users.length ? f : undefined;
      },
      { timeout: 60_000, what: 'every SET failed' },
    );
    expect(failed.map((d) => d.outcome)).toEqual(users.map(() => 'unknown_receiver'));
    expect(h.receiver.received.length).toBe(pushed);
  }, 120_000);
});
