import { createServer } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig } from '../helpers/worker.js';

// An outside-in audit of docs/operations.md ("One process does everything") and interfaces §1:
// `riskstream worker [--port n] [--log-level level]` — the flag wins over http.port, and the log
// level comes from --log-level, else RISKSTREAM_LOG_LEVEL, else log_level. No test held them.

const prefix = testPrefix('cli-worker-flags');
const redis = redisClient();
const configs: TestConfig[] = [];
afterAll(async () => {
  for (const c of configs) c.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

/** A port nothing listens on now (the kernel's pick, released at once). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as { port: number };
      s.close(() => resolve(port));
    });
  });
}

/** Log lines of the worker's output (JSON lines on stderr) with their pino level. */
function logLevels(output: string): Array<{ level: number; msg: string }> {
  return output
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as { level: number; msg: string });
}

describe('riskstream worker flags', () => {
  it('--port serves the admin API on that port, over http.port; --log-level wins over RISKSTREAM_LOG_LEVEL and log_level', async () => {
    const [filePort, flagPort] = [await freePort(), await freePort()];
    const cfg = await writeTestConfig(prefix, { http: { port: filePort }, log_level: 'warn' });
    configs.push(cfg);
    const w = await spawnWorker(cfg.dir, { RISKSTREAM_LOG_LEVEL: 'error' }, ['--port', String(flagPort), '--log-level', 'info']);
    try {
      expect(new URL(w.url).port).toBe(String(flagPort));
      expect((await fetch(`${w.url}/healthz`)).status).toBe(200);
      await expect(fetch(`http://127.0.0.1:${filePort}/healthz`)).rejects.toThrow();
      // The start is logged at info (30): shown at the flag's level, not at the environment's or the file's.
      expect(logLevels(w.output()).some((l) => l.level === 30 && l.msg === 'riskstream worker started')).toBe(true);
    } finally {
      expect(await w.stop('SIGTERM')).toBe(0);
    }
  }, 90_000);

  it('without --log-level, RISKSTREAM_LOG_LEVEL wins over log_level', async () => {
    const cfg = await writeTestConfig(prefix, { log_level: 'info' });
    configs.push(cfg);
    const w = await spawnWorker(cfg.dir, { RISKSTREAM_LOG_LEVEL: 'error' });
    try {
      expect((await fetch(`${w.url}/healthz`)).status).toBe(200);
    } finally {
      expect(await w.stop('SIGTERM')).toBe(0);
    }
    // At error, none of the start's info lines (nor the shutdown's) is written.
    expect(logLevels(w.output()).filter((l) => l.level < 50)).toEqual([]);
  }, 90_000);
});
