import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, REDIS_URL, redisClient, testPrefix } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig } from '../helpers/worker.js';
import { runCli } from './run.js';

// Found by a black-box review: `RISKSTREAM_LOG_LEVEL=verbose riskstream risk list` printed pino's
// "default level:verbose must be included in custom levels" and then hung for ever (its Redis
// connection open); `worker --log-level verbose` failed with that same message.
const dir = mkdtempSync(join(tmpdir(), 'riskstream-log-level-'));
writeFileSync(
  join(dir, 'riskstream.yaml'),
  `redis: { url: ${JSON.stringify(REDIS_URL)}, prefix: ${testPrefix('cli-log-level')} }\nhttp: { port: 0, host: 127.0.0.1 }\n`,
);
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a log level that is not one: exit 1 with the reason, never hang', () => {
  it.each([[['risk', 'list']], [['risk', 'alice@example.com']], [['risk', 'reset', 'alice@example.com']]])(
    'RISKSTREAM_LOG_LEVEL=verbose riskstream %j',
    async (args) => {
      const r = await runCli([...args, '--config', dir], { env: { RISKSTREAM_LOG_LEVEL: 'verbose' }, timeoutMs: 15_000 });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/RISKSTREAM_LOG_LEVEL: must be one of fatal, error/);
    },
    20_000,
  );

  it('riskstream worker --log-level verbose', async () => {
    const r = await runCli(['worker', '--config', dir, '--log-level', 'verbose'], { timeoutMs: 15_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/--log-level: must be one of fatal, error/);
  }, 20_000);
});

describe('an empty RISKSTREAM_LOG_LEVEL is no level (as config check reads it)', () => {
  // A black-box audit: `RISKSTREAM_LOG_LEVEL=` (an unset `${…}` in a compose file or unit) passed
  // config check, and the worker then failed to start with pino's "default level: must be included
  // in custom levels" (exit 1) instead of taking log_level from riskstream.yaml.
  it('the worker starts with the configured log_level and drains on SIGTERM (exit 0)', async () => {
    const prefix = testPrefix('cli-log-empty');
    const redis = redisClient();
    const cfg = await writeTestConfig(prefix);
    try {
      const w = await spawnWorker(cfg.dir, { RISKSTREAM_LOG_LEVEL: '' });
      expect(await w.stop('SIGTERM')).toBe(0);
    } finally {
      await cleanup(redis, prefix);
      redis.disconnect();
      cfg.remove();
    }
  }, 60_000);
});
