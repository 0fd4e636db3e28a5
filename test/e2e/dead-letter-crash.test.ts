import { afterAll, describe, expect, it } from 'vitest';
import { parseDeadLetter } from '../../src/ingest/dead-letter.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig } from '../helpers/worker.js';

const prefix = testPrefix('dl-crash');
const redis = redisClient();
afterAll(async () => {
  await cleanup(redis, prefix);
  redis.disconnect();
});

const BAD = 1500;

describe('dead letters across a crash', () => {
  it('kill -9 while dead-lettering a backlog, then a restart: each bad entry is in the dead-letter stream once', async () => {
    const cfg = await writeTestConfig(prefix);
    try {
      const stream = `${prefix}:activity`;
      for (let i = 0; i < BAD; i += 500) {
        const p = redis.pipeline();
        for (let j = i; j < Math.min(BAD, i + 500); j++) p.xadd(stream, '*', 'event', `{not json ${j}`);
        await p.exec();
      }
      const dl = `${prefix}:dead-letter`;
      const first = await spawnWorker(cfg.dir);
      await waitFor(async () => (await redis.xlen(dl)) > 0 || undefined, { timeout: 30_000, interval: 5, what: 'the first dead letters' });
      await first.stop('SIGKILL');
      const second = await spawnWorker(cfg.dir);
      try {
        await waitFor(
          async () => {
            const groups = (await redis.xinfo('GROUPS', stream)) as Array<Array<string | number>>;
            const pending = Number(groups[0]?.[(groups[0] as Array<string | number>).indexOf('pending') + 1] ?? 1);
            return (await redis.xlen(dl)) >= BAD && pending === 0 ? true : undefined;
          },
          { timeout: 60_000, what: 'every bad entry dead-lettered and acked' },
        );
        const ids = (await redis.xrange(dl, '-', '+')).map(([, f]) => {
          const fields: Record<string, string> = {};
          for (let i = 0; i < f.length; i += 2) fields[f[i]!] = f[i + 1]!;
          return parseDeadLetter(fields).sourceId;
        });
        expect(ids).toHaveLength(BAD);
        expect(new Set(ids).size).toBe(BAD);
      } finally {
        await second.stop();
      }
    } finally {
      cfg.remove();
    }
  }, 120_000);
});
