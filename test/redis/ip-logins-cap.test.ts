/**
 * The password-spray IP script's cap by the bound policy (src/detect/bounded-keep.ts): logins
 * stamped after `now` (a skewed source) hold at most half of a full set, the furthest ahead going
 * first; without `now` (the old call shape) the newest are kept (real Redis).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { scriptsOn } from '../../src/redis/scripts.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('ip-logins-cap');
const keys = new Keys(prefix, 1);
afterAll(() => cleanup(redis, prefix).finally(() => redis.disconnect()));

const NOW = 1_000_000;
const member = (id: string) => JSON.stringify(['f', 'u', id]);

/** One call adding `times` (ms) as failures of `ip`, capped at `max`, with `now` when given; the failures kept, by score. */
async function add(ip: string, times: number[], max: number, now?: number): Promise<string[]> {
  const packed = ['0', String(max), '600000', '0', String(10 * NOW), '0', ...times.flatMap((t) => [String(t), member(`e${t}`)])];
  const args = [2, keys.ipLogins(ip), keys.ipSuccesses(ip), JSON.stringify([packed]), ...(now === undefined ? [] : [String(now)])] as const;
  await scriptsOn(redis).ipLogins(...args);
  return redis.zrange(keys.ipLogins(ip), 0, -1);
}

describe('ip-logins script: the cap keeps real logins when future-stamped ones fill it', () => {
  const skewed = Array.from({ length: 10 }, (_, i) => NOW + 86_400_000 + i * 1000);

  it('future-stamped logins hold at most half of a full set, the nearest kept; real ones keep the rest', async () => {
    expect(await add('192.0.2.1', skewed, 8, NOW)).toEqual(skewed.slice(0, 4).map((t) => member(`e${t}`))); // 10 after now, cap 8: the nearest 4
    const kept = await add('192.0.2.1', [NOW - 3000, NOW - 2000, NOW - 1000, NOW], 8, NOW);
    expect(kept).toEqual([NOW - 3000, NOW - 2000, NOW - 1000, NOW, ...skewed.slice(0, 4)].map((t) => member(`e${t}`)));
  });

  it('a set full of future-stamped logins keeps its nearest half; a real login then stays', async () => {
    expect(await add('192.0.2.2', skewed, 6, NOW)).toEqual(skewed.slice(0, 3).map((t) => member(`e${t}`)));
    expect(await add('192.0.2.2', [NOW - 5000], 6, NOW)).toEqual([NOW - 5000, ...skewed.slice(0, 3)].map((t) => member(`e${t}`)));
  });

  it('without now (the old call shape) the newest are kept', async () => {
    await add('192.0.2.3', skewed, 6);
    expect(await add('192.0.2.3', [NOW - 5000], 6)).toEqual(skewed.slice(4).map((t) => member(`e${t}`)));
  });
});
