/**
 * A partition stream is the router's, but anything with access to Redis can append to it (a
 * mistaken `riskstream replay --stream`, a script, a bug). An entry that is no routed items used to
 * fail its owner's step again and again: the partition stalled for good, its users never scored.
 * Now it is dead-lettered with its fields and a reason, and the partition goes on.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, userRisk, workerHarness } from '../helpers/worker.js';

const h = workerHarness('poison-partition');

describe('an entry in a partition stream that is no routed items', () => {
  it('is dead-lettered with a reason; the partition goes on applying what the router routes', async () => {
    const keys = new Keys(h.prefix, 64);
    const user = 'poisoned-partition@example.com';
    const part = keys.partitionIn(keys.partitionOf(user));
    const junk: Array<[string, string | Buffer]> = [
      ['b', 'not routed at all'],
      ['b', '[{"x":1}]'],
      ['b', pack({ a: 1 })],
      ['event', JSON.stringify({ type: 'login', user, time: Date.now() })],
    ];
    const ids: string[] = [];
    for (const [field, value] of junk) ids.push((await h.redis.xadd(part, '*', field, value))!);

    await h.redis.xadd(`${h.prefix}:activity`, '*', 'event', criticalDetection(user));
    await waitFor(async () => (await userRisk(h.worker.url, h.cfg.adminToken, user)).level === 'high', { what: 'the user scored after the junk' });

    const dead = await waitFor(
      async () => {
        const rows = (await h.redis.xrange(`${h.prefix}:dead-letter`, '-', '+')).map(([, f]) =>
          Object.fromEntries(Array.from({ length: f.length / 2 }, (_, i) => [f[2 * i], f[2 * i + 1]])),
        );
        const mine = rows.filter((r) => r.source_stream === part);
        return mine.length === junk.length ? mine : undefined;
      },
      { what: 'four dead letters', timeout: 5000 },
    );
    expect(dead.map((d) => d.source_id)).toEqual(ids);
    for (const d of dead) expect(d.reason).toMatch(/^routed entry: /);
    // The entry's fields, as they were: text as text, binary in base64.
    expect(dead.map((d) => d['orig.b'] ?? d['orig.b.base64'] ?? d['orig.event'])).toEqual([
      'not routed at all',
      '[{"x":1}]',
      pack({ a: 1 }).toString('base64'),
      junk[3]![1],
    ]);
  });
});
