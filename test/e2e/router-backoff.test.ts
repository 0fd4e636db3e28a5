/**
 * A routing step whose partition writes keep failing backs off, doubling per failure (100 ms … 5 s),
 * as docs/operations.md says. The writes of a step complete during the next one, so a step that only
 * read is no progress: it used to reset the back-off, and the router retried every ≈ 100 ms.
 */
import { Writable } from 'node:stream';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import { createLogger } from '../../src/obs/logger.js';
import { inProcessWorker } from '../helpers/worker.js';

const { redis, prefix, keys, start } = inProcessWorker('router-backoff');

describe('router back-off', () => {
  it('failing partition writes are retried with a doubling back-off, not every step', async () => {
    // Every partition stream a string: each XADD to it fails (WRONGTYPE).
    for (let p = 0; p < 64; p++) await redis.set(keys.partitionIn(p), 'not a stream');
    let failures = 0;
    const out = new Writable({
      write(chunk: Buffer, _e, done) {
        failures += (chunk.toString().match(/routing failed; retrying/g) ?? []).length;
        done();
      },
    });
    await start({ streams: { block: '100ms' }, engine: { router_thread: false } }, createLogger('error', out));
    await redis.xadd(`${prefix}:activity`, '*', 'event', JSON.stringify({ type: 'dlp', user: 'bo@example.com', time: Date.now() - 1000, severity: 'high' }));
    await sleep(4000);
    // Doubling from 100 ms: ≈ 6 attempts in 4 s (100 + 200 + 400 + 800 + 1600 …); every ≈ 100 ms would be ≈ 30.
    expect(failures).toBeGreaterThanOrEqual(2);
    expect(failures).toBeLessThanOrEqual(12);
  }, 20_000);
});
