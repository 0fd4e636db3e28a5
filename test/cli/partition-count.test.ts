import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { runInProcess } from './in-process.js';

/**
 * One-shot commands read and write users' keys by `engine.partitions` as the worker does: on a
 * prefix whose data was written with another count they refuse (exit 1, naming both counts) rather
 * than answer for the wrong partitions ("unknown user") or reset a user in the wrong one.
 */
const redis = redisClient();
const prefix = testPrefix('cli-partitions');
const dir = mkdtempSync(join(tmpdir(), 'riskstream-cli-partitions-'));
writeFileSync(join(dir, 'riskstream.yaml'), `redis: { prefix: ${prefix} }\nengine: { partitions: 16 }\nhttp: { port: 0, host: 127.0.0.1 }\nlog_level: warn\n`);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('one-shot commands and the recorded partition count', () => {
  it('the same count: the command runs', async () => {
    await redis.set(new Keys(prefix, 16).enginePartitions, '16');
    const r = await runInProcess(['risk', 'alice@example.com', '--config', dir]);
    expect(r.stderr).not.toMatch(/engine\.partitions/);
  });

  it('another count: `risk <user>` exits 1 naming both counts', async () => {
    await redis.set(new Keys(prefix, 16).enginePartitions, '64');
    const r = await runInProcess(['risk', 'alice@example.com', '--config', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/engine\.partitions is 16, but the data under prefix \S+ was written with 64 partitions/);
  });
});
