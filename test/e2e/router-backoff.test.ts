/**
 * A routing step whose partition writes keep failing backs off, doubling per failure (100 ms … 5 s),
 * as docs/operations.md says. The writes of a step complete during the next one, so a step that only
 * read is no progress: it used to reset the back-off, and the router retried every ≈ 100 ms.
 */
import { Writable } from 'node:stream';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { setTimeout as sleep } from 'node:timers/promises';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';

const redis = redisClient();
const prefix = testPrefix('router-backoff');
const keys = new Keys(prefix, 64);
let cfg: TestConfig | undefined;
let worker: WorkerHandle | undefined;

afterAll(async () => {
  await worker?.close().catch(() => undefined);
  cfg?.remove();
  await cleanup(redis, prefix);
  redis.disconnect();
});

describe('router back-off', () => {
  it('failing partition writes are retried with a doubling back-off, not every step', async () => {
    cfg = await writeTestConfig(prefix, { streams: { block: '100ms' }, engine: { router_thread: false } });
    // Every partition stream a string: each XADD to it fails (WRONGTYPE).
    for (let p = 0; p < 64; p++) await redis.set(keys.partitionIn(p), 'not a stream');
    let failures = 0;
    const out = new Writable({
      write(chunk: Buffer, _e, done) {
        failures += (chunk.toString().match(/routing failed; retrying/g) ?? []).length;
        done();
      },
    });
    worker = await startWorker({ config: loadConfig(cfg.dir), logger: createLogger('error', out), port: 0, host: '127.0.0.1', consumer: 'bo-1' });
    await redis.xadd(`${prefix}:activity`, '*', 'event', JSON.stringify({ type: 'dlp', user: 'bo@example.com', time: Date.now() - 1000, severity: 'high' }));
    await sleep(4000);
    // Doubling from 100 ms: ≈ 6 attempts in 4 s (100 + 200 + 400 + 800 + 1600 …); every ≈ 100 ms would be ≈ 30.
    expect(failures).toBeGreaterThanOrEqual(2);
    expect(failures).toBeLessThanOrEqual(12);
  }, 20_000);
});
