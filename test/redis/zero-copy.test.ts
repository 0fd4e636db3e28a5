/**
 * zeroCopy(): a marked Buffer argument is written to the socket as it is when its command is sent
 * on a corked socket (directPipeline), and as ioredis always writes it anywhere else — real Redis,
 * the bytes stored compared with what was sent, the commands around it in order.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { corked, directPipeline } from '../../src/redis/client.js';
import { zeroCopy } from '../../src/redis/zero-copy.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('zero-copy');

afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** What is written to the connection's socket, chunk by chunk, until `restore()`. */
function spyWrites(): { written: unknown[]; restore: () => void } {
  const stream = (redis as unknown as { stream: { write: (c: unknown, ...rest: unknown[]) => boolean } }).stream;
  const written: unknown[] = [];
  const write = stream.write;
  stream.write = function (this: unknown, c: unknown, ...rest: unknown[]) {
    written.push(c);
    return write.call(this, c, ...rest);
  };
  return { written, restore: () => void (stream.write = write) };
}

describe('zeroCopy', () => {
  it('corked (directPipeline): large, small and empty marked buffers stored byte for byte, the commands in order', async () => {
    await redis.ping(); // ready: corked() corks only a ready connection
    const big = zeroCopy(randomBytes(300_000));
    const small = zeroCopy(Buffer.from('é\r\n$3\r\n'));
    const empty = zeroCopy(Buffer.alloc(0));
    const { written, restore } = spyWrites();
    const p = directPipeline(redis);
    p.rpush(`${prefix}:order`, 'a');
    p.set(`${prefix}:big`, big);
    p.rpush(`${prefix}:order`, 'b');
    p.hset(`${prefix}:h`, 'small', small, 'empty', empty, 'text', 'ü');
    p.rpush(`${prefix}:order`, 'c');
    const res = await p.exec().finally(restore);
    expect(res?.map(([e]) => e)).toEqual([null, null, null, null, null]);
    // The marked buffers themselves went to the socket (not a copy of them in one buffer per command).
    expect(written.includes(big) && written.includes(small)).toBe(true);
    expect((await redis.getBuffer(`${prefix}:big`))!.equals(big)).toBe(true);
    expect((await redis.hgetBuffer(`${prefix}:h`, 'small'))!.equals(small)).toBe(true);
    expect(await redis.hget(`${prefix}:h`, 'empty')).toBe('');
    expect(await redis.hget(`${prefix}:h`, 'text')).toBe('ü');
    expect(await redis.lrange(`${prefix}:order`, 0, -1)).toEqual(['a', 'b', 'c']);
  });

  it('not corked, and inside an ioredis pipeline: written as ioredis always does, the same bytes', async () => {
    const a = zeroCopy(randomBytes(70_000));
    const b = zeroCopy(randomBytes(70_000));
    const { written, restore } = spyWrites();
    await redis.set(`${prefix}:plain`, a).finally(restore);
    expect(written.includes(a)).toBe(false);
    const res = await redis.pipeline().rpush(`${prefix}:p`, 'x').set(`${prefix}:piped`, b).rpush(`${prefix}:p`, 'y').exec();
    expect(res?.map(([e]) => e)).toEqual([null, null, null]);
    expect((await redis.getBuffer(`${prefix}:plain`))!.equals(a)).toBe(true);
    expect((await redis.getBuffer(`${prefix}:piped`))!.equals(b)).toBe(true);
    expect(await redis.lrange(`${prefix}:p`, 0, -1)).toEqual(['x', 'y']);
  });

  it('an ioredis pipeline or MULTI run on a corked socket, and a corked send outside directSend: copied as ioredis always does, in order', async () => {
    await redis.ping();
    const [a, b, c] = [zeroCopy(randomBytes(90_000)), zeroCopy(randomBytes(90_000)), zeroCopy(randomBytes(90_000))];
    const { written, restore } = spyWrites();
    // Pipelines buffer what toWritable returns and write it when they end: a marked buffer written to
    // the socket from inside them would go out before the commands queued ahead of it.
    const sent = corked(redis, () => [
      redis.pipeline().rpush(`${prefix}:q`, '1').set(`${prefix}:pa`, a).rpush(`${prefix}:q`, '2').exec(),
      redis.multi().rpush(`${prefix}:q`, '3').set(`${prefix}:pb`, b).rpush(`${prefix}:q`, '4').exec(),
      redis.set(`${prefix}:pc`, c),
    ]);
    await Promise.all(sent).finally(restore);
    expect([a, b, c].some((x) => written.includes(x))).toBe(false);
    expect(await redis.lrange(`${prefix}:q`, 0, -1)).toEqual(['1', '2', '3', '4']);
    for (const [k, v] of [
      ['pa', a],
      ['pb', b],
      ['pc', c],
    ] as const)
      expect((await redis.getBuffer(`${prefix}:${k}`))!.equals(v)).toBe(true);
  });

  it('a script with a marked argument on a corked socket replies as without (EVAL first, EVALSHA after)', async () => {
    redis.defineCommand('zcEcho', { numberOfKeys: 1, lua: "redis.call('SET', KEYS[1], ARGV[1]); return #ARGV[1]" });
    const call = redis as unknown as { zcEcho: (k: string, v: Buffer) => Promise<number> };
    for (let i = 0; i < 2; i++) {
      const v = zeroCopy(randomBytes(100_000 + i));
      const p = directPipeline(redis);
      (p as unknown as { zcEcho: (k: string, v: Buffer) => void }).zcEcho(`${prefix}:s${i}`, v);
      const res = await p.exec();
      expect(res).toEqual([[null, 100_000 + i]]);
      expect((await redis.getBuffer(`${prefix}:s${i}`))!.equals(v)).toBe(true);
    }
    expect(typeof call.zcEcho).toBe('function');
  });
});
