/**
 * Partition entries of very large events (real Redis, a random prefix): a partition's items past
 * MAX_ENTRY_BYTES in one step go in several entries, in order, each under the key of its last item;
 * routed again, every one is found written (nothing doubled).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { IP_FAILURES } from '../../src/detect/password-spray.js';
import { SESSION_REVOKED } from '../../src/detect/captured-session.js';
import { decodeRouted, encodeRouted, ROUTED_FIELD, type RoutedItem } from '../../src/engine/routed.js';
import { encodeChunks, MAX_ENTRY_BYTES, writeRouted, type Held } from '../../src/engine/route-write.js';
import { deadLetterStep, markSent } from '../../src/engine/routed-tops.js';
import { Keys } from '../../src/keys.js';
import type { CanonicalEvent } from '../../src/types.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('engine-route-write');
const keys = new Keys(prefix, 4);
afterEach(async () => {
  await cleanup(redis, prefix);
  await redis.del(keys.routedTop('in')); // in the stream's slot, outside the prefix
});
afterAll(() => redis.quit());

const T = Date.UTC(2026, 10, 23, 8);
const item = (n: number, pad = 10): RoutedItem => ({
  k: [T + n, 0],
  s: 'in',
  i: `${T + n}-0`,
  e: { type: 'access', user: 'alice@example.com', time: T + n, note: 'x'.repeat(pad) } as CanonicalEvent,
});

describe('routed entries', () => {
  it('round-trip items in order with their fields, undefined ones kept (as the in-process handoff gives them), attachments restored', () => {
    const e = { type: 'login', user: 'alice@example.com', time: T, reason: undefined, geo: { lat: 51.5074, lon: -0.1278 }, n: 2 ** 40 + 1 };
    const items: RoutedItem[] = [
      { k: [T, 0], s: 'in', i: `${T}-0`, e: e as unknown as CanonicalEvent, x: { f: [[1, 2]], r: true } },
      { k: [T, 1], s: 'in', i: `${T}-1`, c: { op: 'reset', req: 'r1', user: 'alice@example.com', actor: 'admin', reason: 'why' } },
      item(2),
    ];
    const bytes = encodeRouted(items);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    const back = decodeRouted(bytes);
    // The attachments are restored under their symbols, as the edge set them.
    Object.assign(e, { [IP_FAILURES]: [[1, 2]], [SESSION_REVOKED]: true });
    expect(back).toEqual(items);
    expect('reason' in (back[0] as { e: object }).e).toBe(true);
    // Smaller than the JSON it replaces.
    expect(bytes.length).toBeLessThan(JSON.stringify(items).length);
  });

  it('reads an entry written as JSON (by an earlier version) as before', () => {
    const items = [item(0), item(1)];
    expect(decodeRouted(Buffer.from(JSON.stringify(items)))).toEqual(items);
    expect(decodeRouted(JSON.stringify(items))).toEqual(items);
  });

  it('refuses an entry that is not a list of items', () => {
    expect(() => decodeRouted(Buffer.from([0x81, 0xa1, 0x61, 0x01]))).toThrow(TypeError);
    expect(() => decodeRouted(Buffer.from('{"a":1}'))).toThrow();
  });
});

describe('encodeChunks', () => {
  it('one entry while it fits; past the limit, runs of items in order, each within it; one item is never split', () => {
    const items = Array.from({ length: 10 }, (_, n) => item(n, 100));
    expect(encodeChunks(items)).toEqual([{ items, bytes: encodeRouted(items) }]);
    const max = encodeRouted(items.slice(0, 3)).length;
    const chunks = encodeChunks(items, max);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.flatMap((c) => c.items)).toEqual(items);
    for (const c of chunks) {
      expect(c.bytes.length).toBeLessThanOrEqual(max);
      expect(decodeRouted(c.bytes)).toEqual(c.items);
    }
    expect(encodeChunks([item(0, 500)], 100)).toEqual([{ items: [item(0, 500)], bytes: encodeRouted([item(0, 500)]) }]);
  });
});

describe('writeRouted', () => {
  it('writes one user’s step of large events as several entries of its partition, in order, and finds them all written when routed again', async () => {
    const pad = 1024 * 1024 - 200;
    const n = Math.ceil(MAX_ENTRY_BYTES / pad) + 2;
    const held: Held[] = Array.from({ length: n }, (_, i) => {
      const it = item(i, pad);
      return { key: { ms: it.k[0], seq: 0 }, ref: { stream: 'in', id: it.i }, event: (it as { e: CanonicalEvent }).e };
    });
    const w = await writeRouted(redis, keys, async () => {}, held);
    expect(w).toEqual({ partitions: 1, present: 0, dropped: 0, presentRefs: [] });
    const p = keys.partitionOf('alice@example.com');
    const rows = await redis.xrangeBuffer(keys.partitionIn(p), '-', '+');
    expect(rows.length).toBeGreaterThan(1);
    const decoded = rows.map(([id, f]) => ({ id: id.toString(), items: decodeRouted(f[1]!) }));
    for (const r of decoded) {
      expect(r.id).toBe(`${r.items[r.items.length - 1]!.k[0]}-0`);
      expect(encodeRouted(r.items).length).toBeLessThanOrEqual(MAX_ENTRY_BYTES);
    }
    expect(decoded.flatMap((r) => r.items.map((x) => x.k[0]))).toEqual(held.map((h) => h.key.ms));
    // A successor routing the same entries again (after a crash before their acks): all present,
    // and each partition holds them byte for byte, so none is a ref to tell (src/engine/routed-tops.ts).
    const again = await writeRouted(redis, keys, async () => {}, held);
    expect(again).toEqual({ partitions: 1, present: rows.length, dropped: 0, presentRefs: [] });
    expect(await redis.xlen(keys.partitionIn(p))).toBe(rows.length);
  }, 30_000);

  it('an id taken by other items: their refs, once each, for the router to tell (a backlog older than the partition)', async () => {
    const p = keys.partitionOf('alice@example.com');
    const other = item(5);
    await redis.xadd(keys.partitionIn(p), `${T + 5}-0`, ROUTED_FIELD, encodeRouted([{ ...other, i: 'elsewhere' }]));
    const held: Held[] = [3, 5].map((n) => ({
      key: { ms: T + n, seq: 0 },
      ref: { stream: 'in', id: `${T + n}-0` },
      event: (item(n) as { e: CanonicalEvent }).e,
    }));
    const w = await writeRouted(redis, keys, async () => {}, held);
    expect(w).toEqual({ partitions: 1, present: 1, dropped: 0, presentRefs: held.map((h) => h.ref) });
  });

  it('a step whose XADD ioredis sent again after a dropped connection (the first send landed): nothing dead-lettered', async () => {
    const held: Held[] = [1, 2].map((n) => ({
      key: { ms: T + n, seq: 0 },
      ref: { stream: 'in', id: `${T + n}-0` },
      event: (item(n) as { e: CanonicalEvent }).e,
    }));
    const before = await markSent(redis, keys, held);
    await writeRouted(redis, keys, async () => {}, held); // the first send, its reply lost
    const resent = await writeRouted(redis, keys, async () => {}, held);
    expect(resent.present).toBe(1);
    const dead: unknown[] = [];
    const n = await deadLetterStep(redis, { routable: held, bad: [], present: resent.presentRefs, before }, async (d) => void dead.push(...d));
    expect(n).toBe(0);
    expect(dead).toEqual([]);
  });
});
