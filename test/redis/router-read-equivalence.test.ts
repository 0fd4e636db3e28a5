/**
 * The router's fenced read script against the one it replaced (test/redis/before/router-read-2.lua,
 * which asked XINFO GROUPS for the last-delivered id before and after every read): random appends,
 * reads of new entries (`>`) and of pending ones, with the expected last-delivered id right, unknown
 * or stale, on two streams — the old script on one, today's on the other — must give the same
 * replies (but the clock) and leave the group in the same state (real Redis).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { scriptsOn } from '../../src/redis/scripts.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient(2); // its own database: its prefixes are scanned once per run
const base = testPrefix('router-read-equivalence');
const BEFORE = readFileSync(new URL('./before/router-read-2.lua', import.meta.url), 'utf8');
const used: string[] = [];

afterAll(async () => {
  for (const prefix of used) await cleanup(redis, prefix);
  redis.disconnect();
});

const op = fc.oneof(
  fc.record({ kind: fc.constant('add' as const), n: fc.integer({ min: 1, max: 4 }) }),
  fc.record({
    kind: fc.constant('read' as const),
    count: fc.integer({ min: 1, max: 5 }),
    id: fc.constantFrom('>', '>', '0', '0-0'),
    expected: fc.constantFrom('known', 'known', 'unknown', 'stale'),
  }),
);

describe('router read script: the same replies and group state as the script it replaced', () => {
  it('random appends and reads', { timeout: 120_000 }, async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 12 }), async (ops) => {
        run++;
        const sides = (['old', 'new'] as const).map((side) => {
          const prefix = `${base}:${run}-${side}`;
          used.push(prefix);
          const keys = new Keys(prefix, 1);
          return { side, keys, stream: `${prefix}:in`, known: '' };
        });
        let seq = 0;
        for (const s of sides) {
          await redis.set(s.keys.routerFence(s.stream), 'r#1');
          await redis.xgroup('CREATE', s.stream, 'g', '0', 'MKSTREAM');
          s.known = '0-0';
        }
        for (const o of ops) {
          if (o.kind === 'add') {
            seq += o.n;
            for (const s of sides) for (let i = o.n - 1; i >= 0; i--) await redis.xadd(s.stream, `${seq - i}-0`, 'f', 'v');
            continue;
          }
          const replies: unknown[] = [];
          for (const s of sides) {
            const expected = o.expected === 'known' ? s.known : o.expected === 'stale' ? '999-0' : '';
            const args = [s.keys.routerFence(s.stream), s.stream, 'r#1', 'g', 'c', String(o.count), o.id, expected] as const;
            const r = s.side === 'old' ? await redis.eval(BEFORE, 2, ...args) : await scriptsOn(redis).routerRead(...args);
            if (Array.isArray(r)) s.known = String(r[2]);
            replies.push(Array.isArray(r) ? r.slice(1) : r);
          }
          expect(replies[1]).toEqual(replies[0]);
          const groups = await Promise.all(sides.map((s) => redis.xinfo('GROUPS', s.stream)));
          const pending = await Promise.all(sides.map((s) => redis.xpending(s.stream, 'g', '-', '+', 100)));
          expect(groups[1]).toEqual(groups[0]);
          expect(pending[1]!.map((p) => [(p as unknown[])[0], (p as unknown[])[1], (p as unknown[])[3]])).toEqual(
            pending[0]!.map((p) => [(p as unknown[])[0], (p as unknown[])[1], (p as unknown[])[3]]),
          );
        }
      }),
      { numRuns: 60, endOnFailure: true },
    );
  });
});
