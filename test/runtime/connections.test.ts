import { createServer } from 'node:net';
import { describe, expect, it } from 'vitest';
import { closeConnection, connect } from '../../src/runtime/connections.js';
import { createLogger } from '../../src/obs/logger.js';
import { REDIS_URL, waitFor } from '../helpers/redis.js';

const logger = createLogger('silent');

/** A loopback port nobody listens on (bound, then released). */
async function deadPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as { port: number }).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

describe('closeConnection', () => {
  it('QUITs a ready connection', async () => {
    const redis = connect(REDIS_URL, logger, 'test-close');
    await waitFor(() => redis.status === 'ready', { what: 'ready' });
    await closeConnection(redis);
    await waitFor(() => redis.status === 'end', { what: 'end' });
  });

  it('ends a connection that cannot reach Redis: no more reconnecting, queued commands fail', async () => {
    const redis = connect(`redis://127.0.0.1:${await deadPort()}`, logger, 'test-dead');
    await waitFor(() => redis.status === 'reconnecting' || redis.status === 'connecting', { what: 'reconnecting' });
    const queued = redis.get('never-answered').then(
      () => 'answered',
      (e: Error) => e,
    );
    await closeConnection(redis);
    await waitFor(() => redis.status === 'end', { timeout: 1000, what: 'end' });
    expect(await queued).toBeInstanceOf(Error);
    // Ended for good: no reconnect attempt follows.
    await new Promise((r) => setTimeout(r, 300));
    expect(redis.status).toBe('end');
  });
});
