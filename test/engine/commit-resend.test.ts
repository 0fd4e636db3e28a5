/**
 * The partition commit is run once per commit id: ioredis resends a command whose reply was lost
 * to a dropped connection, and a commit that already ran must not append its risk events and
 * outbox entries again (real Redis, random prefix).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { packOps } from '../../src/redis/pack-ops.js';
import { Keys } from '../../src/keys.js';
import { scriptsOn } from '../../src/redis/scripts.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('commit-resend');
const keys = new Keys(prefix, 4);

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('engine commit script: a resent commit', () => {
  it('the same commit id twice runs once; the next commit id runs', async () => {
    const lease = keys.engineLease('p1');
    await redis.set(lease, 'w#1');
    const events = keys.userEvents('a@example.com');
    const ops = packOps([['XADD', events, '*', 'kind', 'hit', 'data', '{}']]);
    const commit = async (id: string, pos: string): Promise<number> => {
      const r = await scriptsOn(redis).engineCommit(2, lease, keys.partitionPos(1), 'w#1', ops, pos, '', id);
      return r === -1 ? -1 : r[0];
    };
    expect(await commit('w#1/1', '1000-0')).toBe(1);
    expect(await commit('w#1/1', '1000-0')).toBe(0); // the resend: nothing written again
    expect(await redis.xlen(events)).toBe(1);
    expect(await redis.hgetall(keys.partitionPos(1))).toMatchObject({ pos: '1000-0', token: 'w#1', commit: 'w#1/1' });
    // A sweep-only commit keeps the position; its own id makes it run.
    expect(await commit('w#1/2', '1000-0')).toBe(1);
    expect(await redis.xlen(events)).toBe(2);
    // A fenced owner is refused before anything else.
    await redis.set(lease, 'w2#2');
    expect(await commit('w#1/3', '2000-0')).toBe(-1);
    expect(await redis.hget(keys.partitionPos(1), 'pos')).toBe('1000-0');
  });
});
