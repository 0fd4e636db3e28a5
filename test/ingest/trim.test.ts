import { afterAll, describe, expect, it } from 'vitest';
import { trimInputs } from '../../src/ingest/trim.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const prefix = testPrefix('trim');
const redis = redisClient();
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** A stream with group `g` and 3 000 entries of an hour ago, in several macro nodes so approximate trimming can cut. */
async function oldStream(name: string): Promise<string> {
  const s = `${prefix}:${name}`;
  await redis.xgroup('CREATE', s, 'g', '0', 'MKSTREAM');
  const base = Date.now() - 3_600_000;
  for (let i = 0; i < 3000; i += 500) {
    const p = redis.pipeline();
    for (let j = 0; j < 500; j++) p.xadd(s, `${base + i + j}-0`, 'n', String(i + j));
    await p.exec();
  }
  return s;
}

describe('input trimming', () => {
  it('trims acked entries older than the retention, never pending or undelivered ones', async () => {
    const s = await oldStream('login');
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

  it('entries a router reads while the trim looks (between its two questions) are not trimmed', async () => {
    const s = await oldStream('race');
    // The first 1 000 read and acked; the rest is read by "the router" right after the trim's first question.
    const first = (await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 1000, 'STREAMS', s, '>')) as Array<[string, Array<[string, string[]]>]>;
    await redis.xack(s, 'g', ...first[0]![1].map(([id]) => id));
    let asked = 0;
    const racing = new Proxy(redis, {
      get(target, prop, receiver) {
        const v = Reflect.get(target, prop, receiver) as unknown;
        if ((prop !== 'xinfo' && prop !== 'xpending') || typeof v !== 'function') return v;
        return async (...args: unknown[]) => {
          const out = await (v as (...a: unknown[]) => Promise<unknown>).apply(target, args);
          if (asked++ === 0) await redis.xreadgroup('GROUP', 'g', 'c', 'COUNT', 5000, 'STREAMS', s, '>');
          return out;
        };
      },
    });
    await trimInputs(racing, [s], 'g', 60_000);
    const pending = (await redis.xpending(s, 'g', '-', '+', 5000)) as Array<[string]>;
    expect(pending).toHaveLength(2000);
    const left = new Set((await redis.xrange(s, '-', '+')).map(([id]) => id));
    expect(pending.filter(([id]) => !left.has(id))).toEqual([]); // every pending entry still there
  });
});
