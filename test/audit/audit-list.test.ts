import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('audit-list');
const redis = redisClient();
const stream = `${prefix}:audit`;
const log = new AuditLog(redis, stream);

/** Every entry of a walk: pages of `count`, following `next` until it is absent. */
async function walk(opts: { count: number; action?: string }): Promise<{ ids: string[]; pages: number }> {
  const ids: string[] = [];
  let cursor: string | undefined;
  let pages = 0;
  do {
    const page = await log.list({ ...opts, ...(cursor ? { cursor } : {}) });
    pages++;
    ids.push(...page.entries.map((e) => e.id));
    cursor = page.next;
  } while (cursor !== undefined && pages < 1000);
  return { ids, pages };
}

describe('AuditLog.list', () => {
  const resets: string[] = [];
  beforeAll(async () => {
    // Three resets, buried under 12 000 deliveries (more than one page's over-read can pass).
    for (const u of ['a', 'b', 'c']) resets.push(await log.write({ action: 'risk.reset', actor: 'admin:x', target: u }));
    for (let i = 0; i < 12; i++) {
      const p = redis.pipeline();
      for (let j = 0; j < 1000; j++) p.xadd(stream, '*', ...AuditLog.fields({ action: 'set.delivered', actor: 'system', target: `u${j}` }));
      await p.exec();
    }
  });
  afterAll(async () => {
    await cleanup(redis, prefix);
    redis.disconnect();
  });

  it('a rare action: a short page keeps a cursor until the stream start, so a walk finds every entry', async () => {
    const first = await log.list({ count: 1, action: 'risk.reset' });
    // Not found within the first page's reads: an empty page, but not the end.
    expect(first.entries).toEqual([]);
    expect(first.next).toBeDefined();
    const all = await walk({ count: 1, action: 'risk.reset' });
    expect(all.ids).toEqual([...resets].reverse());
    // A prefix filter too.
    expect((await walk({ count: 2, action: 'risk' })).ids).toEqual([...resets].reverse());
    // Written in capitals, or as a wildcard of its own (found by a black-box review: both matched nothing).
    expect((await walk({ count: 2, action: 'RISK.Reset' })).ids).toEqual([...resets].reverse());
    expect((await walk({ count: 2, action: 'Risk.*' })).ids).toEqual([...resets].reverse());
    expect((await walk({ count: 500, action: '*' })).ids).toEqual((await walk({ count: 500 })).ids);
  });

  it('an unfiltered walk returns every entry once and ends', async () => {
    const all = await walk({ count: 1000 });
    expect(all.ids).toHaveLength(12_003);
    expect(new Set(all.ids).size).toBe(12_003);
    expect(all.ids.slice(-3)).toEqual([...resets].reverse());
  });

  it('the page that reaches the stream start has no cursor', async () => {
    const oldest = await log.list({ count: 5, action: 'risk.reset', cursor: resets[2]! });
    expect(oldest.entries.map((e) => e.id)).toEqual([resets[1], resets[0]]);
    expect(oldest.next).toBeUndefined();
    const none = await log.list({ count: 5, action: 'session.revoked', cursor: resets[0]! });
    expect(none).toEqual({ entries: [] });
  });

  it('a full page that reaches the stream start has no cursor either, filtered or not (found by a black-box review)', async () => {
    const unfiltered = await log.list({ count: 2, cursor: resets[2]! });
    expect(unfiltered.entries.map((e) => e.id)).toEqual([resets[1], resets[0]]);
    expect(unfiltered.next).toBeUndefined();
    const filtered = await log.list({ count: 2, action: 'risk.reset', cursor: resets[2]! });
    expect(filtered.entries.map((e) => e.id)).toEqual([resets[1], resets[0]]);
    expect(filtered.next).toBeUndefined();
  });
});
