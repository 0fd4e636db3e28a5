import { afterAll, describe, expect, it } from 'vitest';
import { trimInputs } from '../../src/ingest/trim.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('trim');
const redis = redisClient();
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('input trimming', () => {
  it('trims acked entries older than the retention, never pending or undelivered ones', async () => {
    const s = `${prefix}:login`;
    await redis.xgroup('CREATE', s, 'g', '0', 'MKSTREAM');
    const base = Date.now() - 3_600_000;
    // 3 000 old entries (1 h ago), in several macro nodes so approximate trimming can cut.
    for (let i = 0; i < 3000; i += 500) {
      const p = redis.pipeline();
      for (let j = 0; j < 500; j++) p.xadd(s, `${base + i + j}-0`, 'n', String(i + j));
      await p.exec();
    }
    // Deliver everything; ack all but one entry in the middle.
    const res = (await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 5000, 'STREAMS', s, '>')) as Array<[string, Array<[string, string[]]>]>;
    const ids = res[0]![1].map(([id]) => id);
    const keep = ids[2000]!;
    await redis.xack(s, 'g', ...ids.filter((id) => id !== keep));
    // Two undelivered entries written later but with old ids would be impossible; add new ones.
    await redis.xadd(s, '*', 'n', 'new');

    await trimInputs(redis, [s], 'g', 60_000);
    const left = await redis.xrange(s, '-', '+');
    const leftIds = left.map(([id]) => id);
    expect(leftIds).toContain(keep); // the pending entry survives
    expect(left.length).toBeLessThan(3001); // acked old entries before it were trimmed
    expect(left[left.length - 1]![1]).toEqual(['n', 'new']); // new entries stay
    const pending = (await redis.xpending(s, 'g')) as [number];
    expect(pending[0]).toBe(1);
  });

  it('does not trim entries a group has not read yet', async () => {
    const s = `${prefix}:activity`;
    await redis.xgroup('CREATE', s, 'g', '0', 'MKSTREAM');
    const base = Date.now() - 3_600_000;
    const p = redis.pipeline();
    for (let j = 0; j < 1000; j++) p.xadd(s, `${base + j}-0`, 'n', String(j));
    await p.exec();
    await trimInputs(redis, [s], 'g', 60_000);
    expect(await redis.xlen(s)).toBe(1000);
  });
});
