/**
 * The `SHUTDOWN_TIMEOUT` log line names the step that timed out, apart from the steps never
 * started, and no step of a part that is not configured (no list bridge here). The worker reaches
 * Redis through a loopback proxy made a black hole: its engine's last step cannot finish.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { cleanup, redisClient, REDIS_URL, testPrefix, waitFor } from '../helpers/redis.js';
import { spawnWorker, writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { startTcpProxy, type TcpProxy } from '../helpers/tcp-proxy.js';

const prefix = testPrefix('shutdown-log');
const redis = redisClient();
let cfg: TestConfig;
let proxy: TcpProxy;

beforeAll(async () => {
  const u = new URL(REDIS_URL);
  proxy = await startTcpProxy({ host: u.hostname, port: Number(u.port || 6379) });
  cfg = await writeTestConfig(prefix, { shutdown_timeout: '2s', log_level: 'info' });
});

afterAll(async () => {
  await proxy?.close();
  await cleanup(redis, prefix);
  redis.disconnect();
  cfg?.remove();
});

it('a drain cut by shutdown_timeout logs the step that timed out (the engine) and those never started, and names no list bridge when none is configured', async () => {
  const w = await spawnWorker(cfg.dir, { REDIS_URL: `redis://127.0.0.1:${proxy.port}` });
  proxy.blackhole();
  await waitFor(() => /redis connection (lost|error)/.test(w.output()), { what: 'worker noticing Redis is gone' });
  const code = await Promise.race([w.stop('SIGTERM'), new Promise<'hung'>((r) => setTimeout(() => r('hung'), 20_000))]);
  if (code === 'hung') w.child.kill('SIGKILL');
  expect(code).toBe(1);
  const text = w
    .output()
    .split('\n')
    .find((l) => l.includes('"code":"SHUTDOWN_TIMEOUT"'));
  expect(text, w.output()).toBeDefined();
  expect(text).not.toMatch(/list bridge/);
  const line = JSON.parse(text!) as { msg: string; timedOut?: string[]; notStarted?: string[]; abandoned: string[] };
  expect(line.timedOut).toHaveLength(1);
  expect(line.timedOut![0]).toMatch(/^engine: the last commit/);
  expect(line.notStarted).toEqual(expect.arrayContaining([expect.stringMatching(/^SET delivery/), expect.stringMatching(/^HTTP server/)]));
  expect(line.msg).toMatch(/timed out: engine: the last commit/);
}, 60_000);
