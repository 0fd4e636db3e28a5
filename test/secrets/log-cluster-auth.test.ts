import { PassThrough } from 'node:stream';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { connect } from '../../src/runtime/connections.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { waitFor } from '../helpers/redis.js';

/**
 * A cluster client that cannot AUTH fails with ClusterAllFailedError, whose `lastNodeError` is
 * the node's WRONGPASS ReplyError carrying the AUTH command — with the configured password as its
 * argument. Logged as `err`, that password must not reach the log (redis.cluster URLs hold it).
 */
const password = `CANARY-CLUSTER-PW-${process.pid}-${Date.now()}`;
let server: PrivateRedis;
beforeAll(async () => {
  server = await startPrivateRedis({ password: 'the-servers-own-password-0123' });
}, 30_000);
afterAll(async () => {
  await server?.stop();
});

describe('a Redis Cluster connection refused at AUTH', () => {
  it('logs the node error and the command name, never the password', async () => {
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const logger = createLogger('debug', out);
    const redis = connect({ url: '', cluster: [`redis://:${password}@127.0.0.1:${server.port}`] }, logger, 'main');
    try {
      await waitFor(() => text.includes('redis connection error'), { timeout: 10_000, what: 'the connection error logged' });
    } finally {
      redis.disconnect();
    }
    await new Promise((r) => setImmediate(r));
    expect(text).toContain('ClusterAllFailedError');
    expect(text).toContain('WRONGPASS'); // what to fix is still said
    expect(text).toContain('"name":"auth"');
    expect(text).not.toContain(password);
    expect(text).not.toMatch(/"args"/);
  });
});
