import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { connect, ready } from '../../src/runtime/connections.js';
import { runInProcess } from './in-process.js';
import { runCli } from './run.js';

const dir = mkdtempSync(join(tmpdir(), 'riskstream-nostart-'));
writeFileSync(join(dir, 'riskstream.yaml'), 'http: { port: 0, host: 127.0.0.1 }\nlog_level: warn\n');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Nothing listens here. */
const NO_REDIS = 'redis://127.0.0.1:1';

describe('without Redis: fail, never hang', () => {
  it('ready() gives up after its timeout and stops reconnecting', async () => {
    const redis = connect(NO_REDIS, createLogger('silent'), 'probe');
    let attempts = 0;
    redis.on('reconnecting', () => attempts++);
    await expect(ready(redis, 300)).rejects.toThrow(/redis at 127\.0\.0\.1:\d+ not ready after 300 ms \(last error: /);
    const after = attempts;
    await new Promise((r) => setTimeout(r, 600));
    expect(attempts).toBe(after);
  });

  it('riskstream worker exits 1 (not hangs) with the reason', async () => {
    const r = await runCli(['worker', '--config', dir], { env: { REDIS_URL: NO_REDIS }, timeoutMs: 25_000 });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/riskstream: redis at \S+ not ready after \d+ ms \(last error: /);
  }, 30_000);

  it('one-shot commands fail fast with the reason', async () => {
    const before = process.env.REDIS_URL;
    process.env.REDIS_URL = NO_REDIS;
    try {
      const t = Date.now();
      const r = await runInProcess(['risk', 'alice@example.com', '--config', dir]);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/cannot connect to Redis: .*ECONNREFUSED/);
      expect(Date.now() - t).toBeLessThan(5000);
    } finally {
      if (before === undefined) delete process.env.REDIS_URL;
      else process.env.REDIS_URL = before;
    }
  });
});
