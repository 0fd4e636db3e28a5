/**
 * Partition entries of very large events (real Redis, a random prefix): a partition's items past
 * MAX_ENTRY_CHARS in one step go in several entries, in order, each under the key of its last item;
 * routed again, every one is found written (nothing doubled).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { decodeRouted, encodeRouted, type RoutedItem } from '../../src/engine/routed.js';
import { encodeChunks, MAX_ENTRY_CHARS, writeRouted, type Held } from '../../src/engine/route-write.js';
import { Keys } from '../../src/keys.js';
import type { CanonicalEvent } from '../../src/types.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('engine-route-write');
const keys = new Keys(prefix, 4);
afterEach(() => cleanup(redis, prefix));
afterAll(() => redis.quit());

const T = Date.UTC(2026, 10, 23, 8);
const item = (n: number, pad = 10): RoutedItem => ({
  k: [T + n, 0],
  s: 'in',
  i: `${T + n}-0`,
  e: { type: 'access', user: 'alice@example.com', time: T + n, note: 'x'.repeat(pad) } as CanonicalEvent,
});

describe('encodeChunks', () => {
  it('one entry while it fits; past the limit, runs of items in order, each within it; one item is never split', () => {
    const items = Array.from({ length: 10 }, (_, n) => item(n, 100));
    expect(encodeChunks(items)).toEqual([{ items, json: encodeRouted(items) }]);
    const max = encodeRouted(items.slice(0, 3)).length;
    const chunks = encodeChunks(items, max);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.flatMap((c) => c.items)).toEqual(items);
    for (const c of chunks) {
      expect(c.json.length).toBeLessThanOrEqual(max);
      expect(decodeRouted(c.json)).toEqual(c.items);
    }
    expect(encodeChunks([item(0, 500)], 100)).toEqual([{ items: [item(0, 500)], json: encodeRouted([item(0, 500)]) }]);
  });
});

describe('writeRouted', () => {
  it('writes one user’s step of large events as several entries of its partition, in order, and finds them all written when routed again', async () => {
    const pad = 1024 * 1024 - 200;
    const n = Math.ceil(MAX_ENTRY_CHARS / pad) + 2;
    const held: Held[] = Array.from({ length: n }, (_, i) => {
      const it = item(i, pad);
      return { key: { ms: it.k[0], seq: 0 }, ref: { stream: 'in', id: it.i }, event: (it as { e: CanonicalEvent }).e };
    });
    const w = await writeRouted(redis, keys, async () => {}, held);
    expect(w).toEqual({ partitions: 1, present: 0 });
    const p = keys.partitionOf('alice@example.com');
    const rows = await redis.xrangeBuffer(keys.partitionIn(p), '-', '+');
    expect(rows.length).toBeGreaterThan(1);
    const decoded = rows.map(([id, f]) => ({ id: id.toString(), items: decodeRouted(f[1]!) }));
    for (const r of decoded) {
      expect(r.id).toBe(`${r.items[r.items.length - 1]!.k[0]}-0`);
      expect(JSON.stringify(r.items).length).toBeLessThanOrEqual(MAX_ENTRY_CHARS);
    }
    expect(decoded.flatMap((r) => r.items.map((x) => x.k[0]))).toEqual(held.map((h) => h.key.ms));
    // A successor routing the same entries again (after a crash before their acks): all present.
    expect(await writeRouted(redis, keys, async () => {}, held)).toEqual({ partitions: 1, present: rows.length });
    expect(await redis.xlen(keys.partitionIn(p))).toBe(rows.length);
  }, 30_000);
});
