import { PassThrough } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

/** A failed Redis command's arguments (a routed entry, an identity) never reach the log; its name does. */
const redis = redisClient();
const prefix = testPrefix('log-args');
afterAll(async () => {
  await cleanup(redis, prefix);
  await redis.quit();
});

describe('logging a Redis error', () => {
  it('keeps the command name, drops its arguments (also under a cause)', async () => {
    const err = await redis.xadd(`${prefix}:s`, '1-18446744073709551615999', 'b', '{"password":"pw-SECRETVALUE"}').then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).toBeInstanceOf(Error);
    expect(JSON.stringify((err as Error & { command: unknown }).command)).toContain('SECRETVALUE'); // ioredis keeps them on the error
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const log = createLogger('info', out);
    log.error({ err }, 'routing failed');
    log.error({ err: new Error('wrapped', { cause: err }) }, 'wrapped');
    await new Promise((r) => setImmediate(r));
    expect(text).toContain('"name":"xadd"');
    expect(text).not.toContain('SECRETVALUE');
    expect(text).not.toMatch(/"args"/);
  });
});
