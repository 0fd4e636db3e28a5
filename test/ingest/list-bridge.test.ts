import { afterAll, describe, expect, it } from 'vitest';
import { decodeEntry } from '../../src/ingest/decode.js';
import { bridgeOnce, MOVE_MAX_BYTES, startListBridge } from '../../src/ingest/list-bridge.js';
import type { RawEntry } from '../../src/types.js';
import { isRiskstreamError, type RiskstreamError } from '../../src/errors.js';
import { readStream, testRedis } from './helpers/redis.js';

const { redis, prefix, cleanup } = testRedis('bridge');
afterAll(cleanup);

const T = Date.parse('2026-11-23T08:00:00Z');
const line = (i: number) => JSON.stringify({ type: 'login', user: `u${i}@example.com`, time: T + i });
const waitFor = async (cond: () => Promise<boolean>, ms = 5000) => {
  const end = Date.now() + ms;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise((r) => setTimeout(r, 20));
  }
};

describe('bridgeOnce', () => {
  it('moves up to N items, in order, as field `event`, and reports what is left', async () => {
    const list = `${prefix}:l1`;
    const stream = `${prefix}:s1`;
    await redis.rpush(list, ...Array.from({ length: 5 }, (_, i) => line(i)));
    expect(await bridgeOnce(redis, list, stream, 3)).toEqual({ moved: 3, left: 2 });
    expect(await bridgeOnce(redis, list, stream, 3)).toEqual({ moved: 2, left: 0 });
    expect(await bridgeOnce(redis, list, stream, 3)).toEqual({ moved: 0, left: 0 });
    const rows = await readStream(redis, stream);
    expect(rows.map((r) => r.fields)).toEqual(Array.from({ length: 5 }, (_, i) => ({ event: line(i) })));
  });

  it('moves non-JSON items too; the decoder gives the reason', async () => {
    const list = `${prefix}:l2`;
    const stream = `${prefix}:s2`;
    await redis.rpush(list, 'not json at all', line(1));
    await bridgeOnce(redis, list, stream, 10);
    const rows = await readStream(redis, stream);
    const decoded = rows.map((r): RawEntry => ({ stream, id: r.id, fields: r.fields, deliveries: 1 })).map((e) => decodeEntry(e));
    expect(decoded[0]).toEqual({ ok: false, reason: 'event: must hold a JSON object (got text, not JSON)' });
    expect(decoded[1]).toMatchObject({ ok: true, event: { user: 'u1@example.com' } });
  });

  it('a move takes at most MOVE_MAX_BYTES of items (one at least): a list of large items never holds Redis for a whole batch', async () => {
    const list = `${prefix}:large`;
    const stream = `${prefix}:large-s`;
    const big = (i: number) => JSON.stringify({ type: 'login', user: `u${i}@example.com`, pad: 'y'.repeat(MOVE_MAX_BYTES / 3) });
    const huge = JSON.stringify({ type: 'login', user: 'huge@example.com', pad: 'y'.repeat(MOVE_MAX_BYTES + 1) });
    await redis.rpush(list, big(0), big(1), big(2), huge, line(1), line(2));
    expect(await bridgeOnce(redis, list, stream, 500)).toEqual({ moved: 2, left: 4 }); // a third would pass the limit
    expect(await bridgeOnce(redis, list, stream, 500)).toEqual({ moved: 1, left: 3 }); // the huge one would
    expect(await bridgeOnce(redis, list, stream, 500)).toEqual({ moved: 1, left: 2 }); // an item over it, alone
    expect(await bridgeOnce(redis, list, stream, 500)).toEqual({ moved: 2, left: 0 });
    const rows = await readStream(redis, stream);
    expect(rows.map((r) => r.fields.event)).toEqual([big(0), big(1), big(2), huge, line(1), line(2)]);
  });

  it('keeps unmoved items in the list when the stream key is unusable', async () => {
    const list = `${prefix}:l3`;
    const stream = `${prefix}:s3`;
    await redis.set(stream, 'not a stream');
    await redis.rpush(list, line(1), line(2));
    await expect(bridgeOnce(redis, list, stream, 10)).rejects.toThrow(/BRIDGE moved 0/);
    expect(await redis.llen(list)).toBe(2);
  });
});

describe('startListBridge', () => {
  it('drains a backlog end to end (RPUSH → bridge → XRANGE) and stops', async () => {
    const lists = { [`${prefix}:vector`]: `${prefix}:login`, [`${prefix}:filebeat`]: `${prefix}:activity` };
    const moved: number[] = [];
    const bridge = startListBridge(redis, { lists, batch: 100, interval: 50 }, { onMoved: (_l, _s, n) => moved.push(n) });
    await redis.rpush(`${prefix}:vector`, ...Array.from({ length: 1050 }, (_, i) => line(i)));
    await redis.rpush(`${prefix}:filebeat`, line(9999));
    await waitFor(async () => (await redis.xlen(`${prefix}:login`)) === 1050 && (await redis.xlen(`${prefix}:activity`)) === 1);
    await bridge.stop();
    expect(await redis.llen(`${prefix}:vector`)).toBe(0);
    expect(Math.max(...moved)).toBe(100);
    const rows = await readStream(redis, `${prefix}:login`);
    expect(rows[0]!.fields.event).toBe(line(0));
    expect(rows[1049]!.fields.event).toBe(line(1049));
    // stopped: nothing more moves
    await redis.rpush(`${prefix}:vector`, line(1));
    await new Promise((r) => setTimeout(r, 150));
    expect(await redis.llen(`${prefix}:vector`)).toBe(1);
  });

  it('reports errors and keeps going', async () => {
    const errors: unknown[] = [];
    await redis.set(`${prefix}:badstream`, 'x');
    await redis.rpush(`${prefix}:l5`, line(1));
    const bridge = startListBridge(redis, { lists: { [`${prefix}:l5`]: `${prefix}:badstream` }, batch: 10, interval: 20 }, { onError: (e) => errors.push(e) });
    await waitFor(async () => errors.length >= 2);
    await redis.del(`${prefix}:badstream`);
    await waitFor(async () => (await redis.llen(`${prefix}:l5`)) === 0);
    await bridge.stop();
    expect(await redis.xlen(`${prefix}:badstream`)).toBe(1);
  });

  it('one list key of another type never holds back the other lists (its error reported)', async () => {
    const errors: unknown[] = [];
    await redis.set(`${prefix}:la`, 'not a list');
    await redis.rpush(`${prefix}:lb`, line(1));
    const bridge = startListBridge(
      redis,
      { lists: { [`${prefix}:la`]: `${prefix}:sa`, [`${prefix}:lb`]: `${prefix}:sb` }, batch: 10, interval: 20 },
      { onError: (e) => errors.push(e) },
    );
    await waitFor(async () => (await redis.llen(`${prefix}:lb`)) === 0 && errors.length > 0);
    await bridge.stop();
    expect(await redis.xlen(`${prefix}:sb`)).toBe(1);
  });

  it('a failure names its list and stream (BRIDGE_FAILED): two lists failing alike are two failures, each said apart', async () => {
    const errors: unknown[] = [];
    await redis.set(`${prefix}:wrong1`, 'not a list');
    await redis.hset(`${prefix}:wrong2`, 'f', 'v');
    await redis.rpush(`${prefix}:ok3`, line(1));
    await redis.set(`${prefix}:nostream3`, 'not a stream');
    const lists = { [`${prefix}:wrong1`]: `${prefix}:s1w`, [`${prefix}:wrong2`]: `${prefix}:s2w`, [`${prefix}:ok3`]: `${prefix}:nostream3` };
    const bridge = startListBridge(redis, { lists, batch: 10, interval: 20 }, { onError: (e) => errors.push(e) });
    await waitFor(async () => errors.length >= 3);
    await bridge.stop();
    const said = errors.slice(0, 3).map((e) => [(e as RiskstreamError).code, (e as RiskstreamError).details]);
    expect(said).toEqual([
      ['BRIDGE_FAILED', { list: `${prefix}:wrong1`, stream: `${prefix}:s1w`, moved: 0 }],
      ['BRIDGE_FAILED', { list: `${prefix}:wrong2`, stream: `${prefix}:s2w`, moved: 0 }],
      ['BRIDGE_FAILED', { list: `${prefix}:ok3`, stream: `${prefix}:nostream3`, moved: 0 }],
    ]);
    expect(new Set(errors.slice(0, 3).map((e) => (e as Error).message)).size).toBe(3);
    expect(await redis.llen(`${prefix}:ok3`)).toBe(1);
  });

  it('a list deleted, then replaced by another type, then a list again while bridging: each item moved once, the rest in order', async () => {
    const list = `${prefix}:churn`;
    const stream = `${prefix}:churned`;
    const errors: unknown[] = [];
    const bridge = startListBridge(redis, { lists: { [list]: stream }, batch: 7, interval: 10 }, { onError: (e) => errors.push(e) });
    await redis.rpush(list, ...Array.from({ length: 500 }, (_, i) => line(i)));
    await waitFor(async () => (await redis.xlen(stream)) > 0);
    // What the bridge had not moved yet, and the key replaced, at once.
    const [[, left]] = (await redis.multi().lrange(list, 0, -1).del(list).set(list, 'a string now').exec()) as [[null, string[]]];
    await waitFor(async () => errors.length > 0);
    await redis.del(list);
    await redis.rpush(list, ...Array.from({ length: 100 }, (_, i) => line(1000 + i)));
    await waitFor(async () => (await redis.llen(list)) === 0 && (await redis.xlen(stream)) === 600 - left.length);
    await bridge.stop();
    const moved = (await readStream(redis, stream)).map((r) => r.fields.event!);
    const want = [...Array.from({ length: 500 }, (_, i) => line(i)).filter((l) => !left.includes(l)), ...Array.from({ length: 100 }, (_, i) => line(1000 + i))];
    expect(moved).toEqual(want);
    expect(errors.every((e) => isRiskstreamError(e, 'BRIDGE_FAILED') && e.details?.list === list)).toBe(true);
  });

  it('does nothing without lists; drainOnce runs a pass on demand', async () => {
    const idle = startListBridge(redis, { lists: {}, batch: 10, interval: 10 });
    expect(await idle.drainOnce()).toBe(0);
    await idle.stop();
  });
});
