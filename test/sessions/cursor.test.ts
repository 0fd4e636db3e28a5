/**
 * zrevAfterMerged (issue 17): sorted sets sharded per partition, walked newest first as if they
 * were one set — the same order, the same cursor pages, ties in score ordered by member (bytes,
 * descending), and a cursor that means a position, not an offset, so a member moving to another
 * shard between pages is neither repeated nor skipped (real Redis, random prefix).
 */
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { isAfterCursor, zrevAfterMerged, type CursorPos } from '../../src/sessions/cursor.js';
import { prng } from '../helpers/prng.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const SHARDS = 5;
let prefix: string;
let shards: string[];
let single: string;

beforeEach(() => {
  prefix = testPrefix('cursor');
  shards = Array.from({ length: SHARDS }, (_, i) => `${prefix}:{p${i}}:z`);
  single = `${prefix}:all`;
});
afterEach(async () => cleanup(redis, prefix));
afterAll(() => redis.disconnect());

type Range = { min: string; top?: number };

/** One page as the session listing makes it: up to `limit` positions after `after`, and the next page's cursor. */
async function page(keys: string[], after: CursorPos | undefined, limit: number, range: Range = { min: '-inf' }, chunk = 7) {
  const found: CursorPos[] = [];
  for await (const rows of zrevAfterMerged(redis, keys, range, after, chunk)) {
    for (const r of rows) {
      expect(r.shard).toBeGreaterThanOrEqual(0);
      expect(r.shard).toBeLessThan(keys.length);
      found.push({ score: r.score, member: r.member });
    }
    if (found.length > limit) break;
  }
  const rows = found.slice(0, limit);
  return { rows, next: found.length > limit ? rows[rows.length - 1] : undefined };
}

/** Every page from the start: the pages' members and the cursors between them. */
async function walk(keys: string[], limit: number, range?: Range) {
  const pages: string[][] = [];
  const cursors: Array<CursorPos | undefined> = [];
  let after: CursorPos | undefined;
  do {
    const p = await page(keys, after, limit, range);
    pages.push(p.rows.map((r) => r.member));
    cursors.push(p.next);
    after = p.next;
  } while (after);
  return { pages, cursors };
}

/** Adds `n` members with few distinct scores (many ties), each to one random shard and to the single set. */
async function fill(n: number, seed: number): Promise<Array<{ score: number; member: string }>> {
  const rnd = prng(seed);
  const rows = Array.from({ length: n }, (_, i) => ({ score: 1000 + Math.floor(rnd() * 12) * 10, member: `m-${Math.floor(rnd() * 1e6)}-${i}` }));
  const p = redis.pipeline();
  for (const r of rows) {
    p.zadd(shards[Math.floor(rnd() * SHARDS)]!, r.score, r.member);
    p.zadd(single, r.score, r.member);
  }
  await p.exec();
  return rows;
}

/** Reverse order: score descending, then member descending by bytes. */
const reverse = (a: CursorPos, b: CursorPos): number => (isAfterCursor(a, b) ? 1 : isAfterCursor(b, a) ? -1 : 0);

describe('zrevAfterMerged', () => {
  it('several shards give the order and the cursor pages of one set holding every member', async () => {
    const rows = await fill(230, 17);
    for (const s of shards) expect(await redis.zcard(s)).toBeGreaterThan(16); // each shard is read in several batches
    const want = [...rows].sort(reverse).map((r) => r.member);
    for (const limit of [1, 5, 13, 50, 500]) {
      const merged = await walk(shards, limit);
      const one = await walk([single], limit);
      expect(merged).toEqual(one);
      expect(merged.pages.flat()).toEqual(want);
    }
    // A bounded range ([min, top)) too.
    const range = { min: '1030', top: 1090 };
    const merged = await walk(shards, 9, range);
    expect(merged).toEqual(await walk([single], 9, range));
    const score = new Map(rows.map((r) => [r.member, r.score]));
    expect(merged.pages.flat()).toEqual(want.filter((m) => score.get(m)! >= 1030 && score.get(m)! < 1090));
  });

  it('ties in score are ordered by member (bytes, descending) across shards, and a cursor inside a tie resumes after it', async () => {
    const members = ['a', 'B', 'b', 'ab', 'é', 'z', 'Z', '0', 'a-1', 'ä', 'zz', '~'];
    const p = redis.pipeline();
    members.forEach((m, i) => p.zadd(shards[i % SHARDS]!, 5, m));
    await p.exec();
    const want = [...members].sort((x, y) => Buffer.compare(Buffer.from(y), Buffer.from(x)));
    const { pages } = await walk(shards, 5);
    expect(pages).toEqual([want.slice(0, 5), want.slice(5, 10), want.slice(10)]);
  });

  it('a member moving to another shard between pages is neither repeated nor skipped', async () => {
    const rows = await fill(120, 99);
    const order = [...rows].sort(reverse);
    const first = await page(shards, undefined, 10);
    expect(first.rows.map((r) => r.member)).toEqual(order.slice(0, 10).map((r) => r.member));
    // Between the pages: a member already listed and one not yet listed move to another shard
    // (same score), and two listed members leave (an offset-based page would now skip rows).
    const move = async (member: string): Promise<void> => {
      const from = await Promise.all(shards.map((s) => redis.zscore(s, member)));
      const i = from.findIndex((x) => x !== null);
      await redis
        .multi()
        .zrem(shards[i]!, member)
        .zadd(shards[(i + 1) % SHARDS]!, from[i]!, member)
        .exec();
    };
    await move(order[3]!.member);
    await move(order[40]!.member);
    for (const gone of [order[0]!, order[5]!]) for (const s of shards) await redis.zrem(s, gone.member);
    const seen = first.rows.map((r) => r.member);
    let after = first.next;
    while (after) {
      const p = await page(shards, after, 10);
      seen.push(...p.rows.map((r) => r.member));
      after = p.next;
    }
    expect(seen).toEqual(order.map((r) => r.member));
  });
  it('within one page, members added or moved above the rows read so far make the walk neither repeat nor skip another member', async () => {
    // Ties at one score (the users-by-level index: every never-raised user of a partition at 0),
    // read a few rows at a time: a member inserted above the read position, or one leaving it,
    // between two reads of one walk.
    const key = `${prefix}:{p0}:z`;
    const members = Array.from({ length: 40 }, (_, i) => `u-${String(i).padStart(3, '0')}`);
    await redis.zadd(key, ...members.flatMap((m) => [0, m]));
    const want = [...members].reverse(); // ties: member descending
    for (const change of ['insert', 'remove', 'raise'] as const) {
      await redis.zadd(key, ...members.flatMap((m) => [0, m]));
      await redis.zrem(key, 'z-new');
      const seen: string[] = [];
      let n = 0;
      for await (const rows of zrevAfterMerged(redis, [key], { min: '-inf', top: 1 }, undefined, 4)) {
        seen.push(...rows.map((r) => r.member));
        if (n++ === 1) {
          if (change === 'insert') await redis.zadd(key, 0, 'z-new'); // above every row read
          if (change === 'remove') await redis.zrem(key, want[0]!); // a row already read leaves
          if (change === 'raise') await redis.zadd(key, 5, want[1]!); // a row already read moves out of the range
        }
      }
      expect(seen, change).toEqual(want);
    }
    // One member in two sets at one score: listed from each, the earlier set first; a cursor on
    // the first set's resumes with the second's.
    const twice = [`${prefix}:{p1}:z`, `${prefix}:{p2}:z`];
    for (const k of twice) await redis.zadd(k, 7, 'same', 6, 'other');
    const rowsAfter = async (after?: CursorPos) => {
      const out: string[] = [];
      for await (const rows of zrevAfterMerged(redis, twice, { min: '-inf' }, after, 1)) out.push(...rows.map((r) => `${r.member}@${r.shard}`));
      return out;
    };
    expect(await rowsAfter()).toEqual(['same@0', 'same@1', 'other@0', 'other@1']);
    expect(await rowsAfter({ score: 7, member: 'same', shard: 0 })).toEqual(['same@1', 'other@0', 'other@1']);
  });
});
