/**
 * A partition stream is the router's, but anything with access to Redis can append to it (a
 * mistaken `riskstream replay --stream`, a script, a bug). An entry that is no routed items used to
 * fail its owner's step again and again: the partition stalled for good, its users never scored.
 * Now it is dead-lettered with its fields and a reason, and the partition goes on.
 */
import { pack } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { encodeRouted } from '../../src/engine/routed.js';
import { waitFor } from '../helpers/redis.js';
import { criticalDetection, userRisk, workerHarness } from '../helpers/worker.js';

const h = workerHarness('poison-partition');

describe('an entry in a partition stream that is no routed items', () => {
  it('is dead-lettered with a reason; the partition goes on applying what the router routes', async () => {
    const keys = new Keys(h.prefix, 64);
    const user = 'poisoned-partition@example.com';
    const part = keys.partitionIn(keys.partitionOf(user));
    const at = Date.now() - 10_000;
    const src = { s: `${h.prefix}:activity`, i: `${at}-0` };
    const ev = (extra: Record<string, unknown> = {}) => ({ type: 'endpoint', user, time: at, severity: 'low', ...extra });
    let other = 'x0';
    for (let n = 1; keys.partitionOf(other) === keys.partitionOf(user); n++) other = `x${n}`;
    // Well-formed MessagePack items that the router never writes: each used to fail every commit of
    // the owner (its position no stream id, a control op's outcome key of no request id, a key
    // in another partition) or, for a time no Date holds, the outbox relay, for good.
    const items: unknown[][] = [
      [{ k: [1e300, 0], ...src, e: ev() }],
      [{ k: [at + 0.5, 0], ...src, e: ev() }],
      [{ k: [Date.now() + 3_600_000, 0], ...src, e: ev() }],
      [{ k: [at, 0], ...src, e: ev({ user: other }) }],
      [{ k: [at, 0], ...src, c: { op: 'reset', user, req: { a: 1 }, actor: 'x', reason: '' } }],
      [{ k: [at, 0], ...src, c: { op: 'drop', user, req: 'r', actor: 'x', reason: '' } }],
      [{ k: [at, 0], ...src, e: ev(), c: { op: 'reset', user } }],
      [{ k: [at, 0], ...src, e: ev({ time: 1e300 }) }],
    ];
    const junk: Array<[string, string | Buffer]> = [
      ['b', 'not routed at all'],
      ['b', '[{"x":1}]'],
      ['b', pack({ a: 1 })],
      ['event', JSON.stringify({ type: 'login', user, time: Date.now() })],
      ...items.map((i): [string, Buffer] => ['b', encodeRouted(i as never)]),
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
      { what: 'every junk entry dead-lettered', timeout: 5000 },
    );
    expect(dead.map((d) => d.source_id)).toEqual(ids);
    for (const d of dead) expect(d.reason).toMatch(/^routed entry: /);
    // The entry's fields, as they were: text as text, binary in base64 (the items' is kept too, though a
    // long base64 run reads as a token to the dead letter's secret scrubbing: not compared here).
    expect(dead.slice(0, 4).map((d) => d['orig.b'] ?? d['orig.b.base64'] ?? d['orig.event'])).toEqual([
      'not routed at all',
      '[{"x":1}]',
      pack({ a: 1 }).toString('base64'),
      junk[3]![1],
    ]);
    for (const d of dead.slice(4)) expect(d['orig.b'] ?? d['orig.b.base64']).toBeDefined();
  });
});
