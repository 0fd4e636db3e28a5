/**
 * appendInOrder (POST /v1/events' writes): a body's records get entry ids of one sequence across
 * both input streams, in the body's order and above both streams' tops — so the router, merging
 * by id, applies them in that order (found by a black-box review: with `*` a login written after
 * 30 others got …-30 and the activity after it …-0, and was applied second). Real Redis.
 */
import { afterAll, expect, it } from 'vitest';
import { appendInOrder, type AppendRecord } from '../../src/ingest/append-in-order.js';
import { compareKeys, orderKey } from '../../src/partition.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('append-order');
const streams = { login: `${prefix}:login`, activity: `${prefix}:activity` };
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

const ids = async (stream: string): Promise<Array<[string, string]>> => (await redis.xrange(stream, '-', '+')).map(([id, f]) => [id, f[1]!]);

it('ids follow the body order across both streams, above what either holds (even a top ahead of the clock)', async () => {
  const ahead = `${Date.now() + 60_000}-7`;
  await redis.xadd(streams.activity, ahead, 'event', 'earlier');
  const records: AppendRecord[] = [];
  for (let i = 0; i < 30; i++) records.push([streams.login, ['event', `other-${i}`]]);
  records.push([streams.login, ['event', 'x-login']], [streams.activity, ['event', 'x-dlp']], [streams.login, ['event', 'x-login-2']]);
  await appendInOrder(redis, streams, records);
  const written = [...(await ids(streams.login)), ...(await ids(streams.activity)).filter(([, v]) => v !== 'earlier')];
  const byValue = new Map(written.map(([id, v]) => [v, id]));
  const order = records.map(([, f]) => byValue.get(f[1]!)!);
  // Each id above the one before it, the first above the activity stream's top.
  const keys = [ahead, ...order].map((id) => orderKey(id, 0));
  for (let i = 1; i < keys.length; i++) expect(compareKeys(keys[i - 1]!, keys[i]!), `${i}`).toBeLessThan(0);
  // And a plain XADD * after it still works on both streams (ids above).
  expect(await redis.xadd(streams.login, '*', 'event', 'later')).toBeTruthy();
  expect(await redis.xadd(streams.activity, '*', 'event', 'later')).toBeTruthy();
});

it('above an id deleted since (XDEL of the newest entry): no XADD fails halfway, nothing written twice', async () => {
  const login = `${prefix}:dl`;
  const activity = `${prefix}:da`;
  const gone = `${Date.now() + 120_000}-3`;
  await redis.xadd(activity, gone, 'event', 'deleted');
  await redis.xdel(activity, gone);
  await redis.xadd(login, '*', 'event', 'before');
  await appendInOrder(redis, { login, activity }, [
    [login, ['event', 'l1']],
    [activity, ['event', 'a1']],
    [login, ['event', 'l2']],
  ]);
  expect((await ids(login)).map(([, v]) => v)).toEqual(['before', 'l1', 'l2']);
  const [a1] = await ids(activity);
  expect(a1![1]).toBe('a1');
  expect(compareKeys(orderKey(gone, 0), orderKey(a1![0], 0))).toBeLessThan(0);
});

it('nothing to append: no write', async () => {
  await appendInOrder(redis, { login: `${prefix}:l2`, activity: `${prefix}:a2` }, []);
  expect(await redis.exists(`${prefix}:l2`, `${prefix}:a2`)).toBe(0);
});
