/**
 * Commands that only read (risk <user>, risk show, risk list, sessions list, sessions show, audit tail) write
 * nothing to Redis: against a production Redis they leave no trace (docs/operations.md: they run as a
 * read-only ACL user). Before, each created the SET queue's `meta` hash.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { runCli } from './run.js';

const prefix = testPrefix('cli-read-only');
const redis = redisClient();
let cfg: TestConfig;

beforeAll(async () => {
  cfg = await writeTestConfig(prefix);
});
afterEach(async () => {
  await cleanup(redis, prefix);
});
afterAll(async () => {
  cfg?.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

async function keysOf(): Promise<string[]> {
  const all = await redis.keys('*');
  return all.filter((k) => k.includes(prefix));
}

describe('read-only CLI commands write nothing to Redis', () => {
  it.each([
    [['risk', 'alice@example.com']],
    [['risk', 'show', 'bob@example.com']],
    [['risk', 'list']],
    [['sessions', 'list']],
    [['sessions', 'show', 's-1']],
    [['audit', 'tail']],
  ])('%j', async (args) => {
    const r = await runCli([...args, '--config', cfg.dir]);
    expect(r.stderr).not.toMatch(/Error:.*at /s);
    expect(await keysOf()).toEqual([]);
  });
});
