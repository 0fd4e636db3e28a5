/**
 * The password-spray IP script against the one it replaced (test/redis/before/ip-logins-n.lua):
 * random batches — IPs with failures, successes, both or no adds at all (sets that exist or not),
 * changing trims, caps and read ranges — run on two prefixes, the old script on one and today's
 * on the other, must give the same replies and the same stored state, TTLs included (real Redis).
 */
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { scriptsOn } from '../../src/redis/scripts.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { snapshot, snapshotDiff } from '../helpers/redis-snapshot.js';

const redis = redisClient(1); // its own database: its prefixes are scanned once per run
const base = testPrefix('ip-logins-equivalence');
const BEFORE = readFileSync(new URL('./before/ip-logins-n.lua', import.meta.url), 'utf8');
const used: string[] = [];

afterAll(async () => {
  for (const prefix of used) await cleanup(redis, prefix);
  redis.disconnect();
});

const ipBatch = fc.record({
  ip: fc.integer({ min: 0, max: 3 }),
  adds: fc.array(fc.record({ f: fc.boolean(), user: fc.integer({ min: 0, max: 3 }), id: fc.integer({ min: 0, max: 9 }), t: fc.integer({ min: 0, max: 20 }) }), {
    maxLength: 10,
  }),
  successes: fc.boolean(),
});
const batch = fc.record({
  ips: fc.uniqueArray(ipBatch, { minLength: 1, maxLength: 4, selector: (b) => b.ip }),
  trim: fc.integer({ min: 0, max: 15 }),
  max: fc.integer({ min: 1, max: 12 }),
  from: fc.integer({ min: 0, max: 20 }),
  span: fc.integer({ min: 0, max: 20 }),
});

const fixedFailure = { ips: [{ ip: 0, adds: [{ f: true, user: 0, id: 0, t: 10 }], successes: false }], trim: 0, max: 12, from: 0, span: 20 };
const fixedNothing = { ips: [{ ip: 0, adds: [], successes: true }], trim: 0, max: 12, from: 0, span: 20 };

describe('ip-logins script: the same replies and stored state as the script it replaced', () => {
  it('random batches of IPs', { timeout: 120_000 }, async () => {
    let run = 0;
    let emptyExisting = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(batch, { minLength: 1, maxLength: 8 }), async (batches) => {
        run++;
        const sides = (['old', 'new'] as const).map((side) => {
          const prefix = `${base}:${run}-${side}`;
          used.push(prefix);
          return { side, prefix, keys: new Keys(prefix, 1) };
        });
        for (const b of batches) {
          const replies: unknown[] = [];
          for (const s of sides) {
            const keyArgs: string[] = [];
            const packed: string[][] = [];
            for (const x of b.ips) {
              const ip = `192.0.2.${x.ip}`;
              keyArgs.push(s.keys.ipLogins(ip), s.keys.ipSuccesses(ip));
              const adds = x.adds.flatMap((a) => [String(1000 + a.t), JSON.stringify([a.f ? 'f' : 's', `u${a.user}`, `e${a.id}`])]);
              packed.push([
                String(1000 + b.trim),
                String(b.max),
                '600000',
                String(1000 + b.from),
                String(1000 + b.from + b.span),
                x.successes ? '1' : '0',
                ...adds,
              ]);
            }
            const args = [keyArgs.length, ...keyArgs, JSON.stringify(packed)] as const;
            replies.push(s.side === 'old' ? await redis.eval(BEFORE, ...args) : await scriptsOn(redis).ipLogins(...args));
            if (s.side === 'old') {
              for (const x of b.ips) {
                const ip = `192.0.2.${x.ip}`;
                if (!x.adds.some((a) => a.f) && (await redis.exists(s.keys.ipLogins(ip)))) emptyExisting++;
              }
            }
          }
          expect(replies[1]).toEqual(replies[0]);
          const [a, c] = await Promise.all(sides.map((s) => snapshot(redis, s.prefix)));
          expect(snapshotDiff(a!, c!)).toEqual([]);
        }
        for (const s of sides) await cleanup(redis, s.prefix);
      }),
      // A fixed example that always reaches the counted edge: a failure on an IP, then a batch that adds nothing to it.
      { numRuns: 60, endOnFailure: true, examples: [[[fixedFailure, fixedNothing]]] },
    );
    // A set the batch added nothing to, that existed: trimmed, its TTL refreshed and read as before.
    expect(emptyExisting).toBeGreaterThan(0);
  });
});
