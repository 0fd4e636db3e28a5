import { afterAll, describe, expect, it } from 'vitest';
import { groupBacklog, idMs, parseGroups, parseStreamInfo, readGroups } from '../../src/redis/stream-info.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('stream-info');
const a = `${prefix}:a`;
const b = `${prefix}:b`;

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('stream-info: the one XINFO reader', () => {
  it('reads group pending, lag and last-delivered id from real replies', async () => {
    for (let i = 0; i < 5; i++) await redis.xadd(a, '*', 'n', String(i));
    await redis.xgroup('CREATE', a, 'g', '0');
    await redis.xgroup('CREATE', a, 'other', '$');
    const read = (await redis.xreadgroup('GROUP', 'g', 'c1', 'COUNT', 2, 'STREAMS', a, '>')) as Array<[string, Array<[string, string[]]>]>;
    const ids = read[0]![1].map(([id]) => id);

    const [groupsA, groupsB] = await readGroups(redis, [a, b]);
    expect(groupsB).toEqual([]); // no such stream: no groups, no throw
    const g = groupsA!.find((x) => x.name === 'g')!;
    expect(g).toEqual({ name: 'g', pending: 2, lastDeliveredId: ids[1], lag: 3 });
    expect(groupsA!.find((x) => x.name === 'other')).toMatchObject({ pending: 0, lag: 0 });
    expect(await groupBacklog(redis, [a, b], 'g')).toEqual({ pending: 2, lag: 3 });

    const info = parseStreamInfo(await redis.xinfo('STREAM', a));
    expect(info.length).toBe(5);
    expect(idMs(info.lastGeneratedId)).toBeGreaterThan(0);
    expect(parseGroups(await redis.xinfo('GROUPS', a))).toEqual(groupsA);
  });

  it('an unknown lag is null and counts as 0 in the backlog', () => {
    const reply = [['name', 'g', 'consumers', 1, 'pending', 4, 'last-delivered-id', '7-1', 'entries-read', null, 'lag', null]];
    expect(parseGroups(reply)).toEqual([{ name: 'g', pending: 4, lastDeliveredId: '7-1', lag: null }]);
    expect(parseGroups('not a reply')).toEqual([]);
    expect(idMs('1700000000000-3')).toBe(1_700_000_000_000);
    expect(idMs('42')).toBe(42);
  });
});
