/**
 * A Redis that is down logs one warning per connection (`redis connection error; reconnecting`):
 * it carried node's stack of the socket error (`at TCPConnectWrap.afterConnect …`), several lines
 * of internals per connection and outage. The message and the code (ECONNREFUSED) are kept.
 */
import { createServer } from 'node:net';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { connect } from '../../src/runtime/connections.js';
import { createLogger } from '../../src/obs/logger.js';
import { waitFor } from '../helpers/redis.js';

describe('redis connection error log', () => {
  it('names the error and its code, without a stack', async () => {
    const s = createServer();
    await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
    const port = (s.address() as { port: number }).port;
    await new Promise<void>((r) => s.close(() => r()));
    const out = new PassThrough();
    let text = '';
    out.on('data', (d: Buffer) => (text += d.toString()));
    const redis = connect(`redis://127.0.0.1:${port}`, createLogger('warn', out), 'test-log');
    try {
      await waitFor(() => text.includes('redis connection error'), { timeout: 5000, what: 'the warning' });
    } finally {
      redis.disconnect();
    }
    const line = JSON.parse(text.split('\n').find((l) => l.includes('redis connection error'))!) as Record<string, unknown>;
    expect(line).toMatchObject({ conn: 'test-log', code: 'ECONNREFUSED', error: expect.stringContaining('ECONNREFUSED') });
    expect(text).not.toMatch(/"stack"/);
  });
});
