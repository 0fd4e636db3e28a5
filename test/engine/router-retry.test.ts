/**
 * A routing step that fails after reading (the dead-letter write or the ack refused) forgets
 * nothing: the next step re-reads the group's pending entries, so every entry is still routed or
 * dead-lettered, and acked (real Redis, random prefix).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { decodeRouted } from '../../src/engine/routed.js';
import { Router, ROUTER_RESOURCE, type RouterParts } from '../../src/engine/router.js';
import { Keys } from '../../src/keys.js';
import type { CanonicalEvent, RawEntry } from '../../src/types.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('router-retry');
const keys = new Keys(prefix, 4);
const input = `${prefix}:activity`;

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

async function pending(): Promise<number> {
  return ((await redis.xpending(input, 'riskstream')) as [number])[0];
}

describe('router: a failed step', () => {
  it('a dead-letter write that fails is retried with the entry on the next step; the good entries are routed once', async () => {
    const dead: Array<{ raw: RawEntry; reason: string }> = [];
    let failures = 1;
    const parts: RouterParts = {
      decode: (raw) =>
        raw.fields.event ? { ok: true, event: JSON.parse(raw.fields.event) as CanonicalEvent } : { ok: false, reason: 'event_invalid: no event' },
      enrich: async () => undefined,
      deadLetter: async (bad) => {
        if (failures-- > 0) throw new Error('dead-letter stream unavailable');
        dead.push(...bad);
      },
    };
    const router = new Router(redis, keys, { sources: [input], group: 'riskstream', consumer: 'riskstream-router', count: 10 }, parts);
    await router.ensureGroups();
    await redis.set(keys.engineLease(ROUTER_RESOURCE), 'r#1');
    router.start('r#1');
    const t = Date.now() - 60_000;
    await redis.xadd(input, '*', 'event', JSON.stringify({ type: 'dlp', id: 'a', user: 'a@example.com', time: t, profile: 'pii', severity: 'high' }));
    const badId = await redis.xadd(input, '*', 'garbage', '1');
    await redis.xadd(input, '*', 'event', JSON.stringify({ type: 'dlp', id: 'b', user: 'b@example.com', time: t, profile: 'pii', severity: 'high' }));
    await new Promise((r) => setTimeout(r, 5)); // the entries are below Redis's clock: routable at once

    let failed: unknown;
    for (let i = 0; i < 5 && !failed; i++)
      failed = await router.step().then(
        () => undefined,
        (err: unknown) => err,
      );
    expect(String(failed)).toMatch(/dead-letter stream unavailable/);
    expect(await pending()).toBe(3);
    for (let i = 0; i < 10 && (await pending()) > 0; i++) {
      const r = await router.step();
      expect(r).not.toBe('fenced');
      await new Promise((res) => setTimeout(res, 5));
    }
    expect(await pending()).toBe(0);
    expect(dead.map((d) => [d.raw.id, d.reason])).toEqual([[badId, 'event_invalid: no event']]);
    // Each good entry is in its partition stream once.
    const routed: string[] = [];
    for (let p = 0; p < keys.partitions; p++) for (const [id] of await redis.xrange(keys.partitionIn(p), '-', '+')) routed.push(id);
    expect(routed).toHaveLength(2);
  });

  it('a failed step does not forget the acks of the steps before it: an entry dead-lettered there is not dead-lettered again', async () => {
    const stream = `${prefix}:acks`;
    const keys3 = new Keys(`${prefix}-acks`, 4);
    const dead: string[] = [];
    let calls = 0;
    const parts: RouterParts = {
      decode: (raw) =>
        raw.fields.event ? { ok: true, event: JSON.parse(raw.fields.event) as CanonicalEvent } : { ok: false, reason: 'event_invalid: no event' },
      enrich: async () => {
        calls++;
        if (calls === 1) await new Promise((r) => setTimeout(r, 30)); // step 1's writes still in flight when step 2 reads
        if (calls === 2) throw new Error('enrichment down');
      },
      deadLetter: async (bad) => void dead.push(...bad.map((b) => b.raw.id)),
    };
    const router = new Router(redis, keys3, { sources: [stream], group: 'riskstream', consumer: 'riskstream-router', count: 10 }, parts);
    await router.ensureGroups();
    await redis.set(keys3.engineLease(ROUTER_RESOURCE), 'r#1');
    router.start('r#1');
    await router.step(); // the (empty) pending entries read: from now on new ones
    const t = Date.now() - 60_000;
    const ev = (id: string) => JSON.stringify({ type: 'dlp', id, user: `${id}@example.com`, time: t, profile: 'pii', severity: 'high' });
    const badId = await redis.xadd(stream, '*', 'garbage', '1');
    await redis.xadd(stream, '*', 'event', ev('g1'));
    await new Promise((r) => setTimeout(r, 5));
    expect(await router.stepAhead()).toMatchObject({ read: 2 }); // step 1: dead-letters the garbage, routes g1 (acks queued)
    await redis.xadd(stream, '*', 'event', ev('g2'));
    await new Promise((r) => setTimeout(r, 5));
    expect(await router.stepAhead()).toMatchObject({ read: 1 }); // step 2: g2; its writes fail (enrichment)
    await expect(router.finishWrites(true)).rejects.toThrow('enrichment down');
    for (let i = 0; i < 5; i++) await router.step();
    expect(((await redis.xpending(stream, 'riskstream')) as [number])[0]).toBe(0);
    expect(dead).toEqual([badId]);
    await cleanup(redis, `${prefix}-acks`);
  });

  it('a group read whose reply was lost (run, then resent after a dropped connection): the router notices and re-reads those entries, in order', async () => {
    const stream = `${prefix}:login`;
    const keys2 = new Keys(`${prefix}-lost`, 4);
    const parts: RouterParts = {
      decode: (raw) => ({ ok: true, event: JSON.parse(raw.fields.event!) as CanonicalEvent }),
      enrich: async () => undefined,
      deadLetter: async () => undefined,
    };
    const router = new Router(redis, keys2, { sources: [stream], group: 'riskstream', consumer: 'riskstream-router', count: 2 }, parts);
    await router.ensureGroups();
    await redis.set(keys2.engineLease(ROUTER_RESOURCE), 'r#1');
    router.start('r#1');
    const t = Date.now() - 60_000;
    const add = (i: number): Promise<string | null> =>
      redis.xadd(stream, '*', 'event', JSON.stringify({ type: 'dlp', id: `e${i}`, user: 'same@example.com', time: t + i, profile: 'pii', severity: 'high' }));
    const routed = async (): Promise<string[]> => {
      const out: string[] = [];
      for (let p = 0; p < keys2.partitions; p++) {
        for (const [, f] of await redis.xrangeBuffer(keys2.partitionIn(p), '-', '+')) {
          for (const it of decodeRouted(f[1]!)) if ('e' in it) out.push(String(it.e.id));
        }
      }
      return out;
    };
    const drain = async (): Promise<void> => {
      for (let i = 0; i < 20; i++) {
        await router.step();
        await new Promise((r) => setTimeout(r, 5));
        if (((await redis.xpending(stream, 'riskstream')) as [number])[0] === 0 && i > 2) return;
      }
    };
    await add(1);
    await add(2);
    await drain();
    // The lost run: entries 3 and 4 delivered to the router's consumer, the reply never seen.
    await add(3);
    await add(4);
    await redis.xreadgroup('GROUP', 'riskstream', 'riskstream-router', 'COUNT', 2, 'STREAMS', stream, '>');
    await add(5);
    await drain();
    expect(((await redis.xpending(stream, 'riskstream')) as [number])[0]).toBe(0);
    expect(await routed()).toEqual(['e1', 'e2', 'e3', 'e4', 'e5']);
    await cleanup(redis, `${prefix}-lost`);
  });
});
