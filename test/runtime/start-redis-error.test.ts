/**
 * A worker that cannot reach its Redis at start exits 1 after 10 s (docs/operations.md) with one
 * line on stderr: it said `redis not ready after 10000 ms`, naming neither which Redis nor why — a
 * wrong password and a wrong port read alike. The error now names the host:port (never the
 * credentials) and the last connection error.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { connect, ready } from '../../src/runtime/connections.js';
import { createLogger } from '../../src/obs/logger.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';

const logger = createLogger('silent');
let server: PrivateRedis;

beforeAll(async () => {
  server = await startPrivateRedis();
  await server.client.config('SET', 'requirepass', 'the-right-password-123');
}, 30_000);

afterAll(async () => {
  await server?.stop();
});

describe('ready(): the start-up error says which Redis and why', () => {
  it('a wrong password: host:port and WRONGPASS, never the password', async () => {
    const redis = connect(`redis://:wrong-password-SECRET42@127.0.0.1:${server.port}`, logger, 'test-wrongpass');
    const err = (await ready(redis, 1500).catch((e: unknown) => e)) as Error;
    expect(err.message).toContain(`at 127.0.0.1:${server.port}`);
    expect(err.message).toMatch(/WRONGPASS|invalid username-password/);
    expect(err.message).not.toContain('SECRET42');
  });

  it('nothing listening: host:port and the refused connection', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    const redis = connect(`redis://127.0.0.1:${port}`, logger, 'test-refused');
    const err = (await ready(redis, 1500).catch((e: unknown) => e)) as Error;
    expect(err.message).toMatch(new RegExp(`at 127\\.0\\.0\\.1:${port} not ready after 1500 ms \\(last error: .*ECONNREFUSED`));
  });
});
