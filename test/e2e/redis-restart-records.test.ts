/**
 * A Redis that keeps nothing on disk restarted empty under a running worker: the records every
 * worker of a prefix shares and a worker wrote only at its start or a reload — the partition count,
 * the behaviors' on-epochs, its receivers:on entry — are written again by its upkeep (every
 * state.sweep_interval), so that a worker started with another engine.partitions is still refused,
 * and a behavior turned off and on again still starts afresh (the epoch counter never goes back
 * below what the owners follow). Its own redis-server (killed with -9, started again empty on its port).
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/load.js';
import { LOST_COUNTER_MARGIN } from '../../src/redis/followed.js';
import { isRiskstreamError } from '../../src/errors.js';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { startWorker, type WorkerHandle } from '../../src/runtime/worker.js';
import { bruteForceOnly, bruteLogins } from '../helpers/brute-logins.js';
import { untilQuiet } from '../helpers/quiet.js';
import { startReceiver, type TestReceiver } from '../helpers/receiver.js';
import { startPrivateRedis, type PrivateRedis } from '../helpers/private-redis.js';
import { testPrefix, waitFor } from '../helpers/redis.js';
import { userRisk, writeTestConfig, type TestConfig } from '../helpers/worker.js';

const prefix = testPrefix('restart-records');
const PARTITIONS = 8;
const keys = new Keys(prefix, PARTITIONS);
const brute = bruteForceOnly;
let first: PrivateRedis;
let redis: Redis;
let cfg: TestConfig;
let receiver: TestReceiver;
let worker: WorkerHandle;

/** `kill -9` of the private redis-server, then started again empty on its port (answering when this resolves). */
async function restartEmpty(): Promise<void> {
  await first.restart();
  await redis.ping(); // this client's reconnect
}

let logins: ReturnType<typeof bruteLogins>; // on the client made in beforeAll
const login: ReturnType<typeof bruteLogins>['login'] = (...a) => logins.login(...a);
const failures: ReturnType<typeof bruteLogins>['failures'] = (...a) => logins.failures(...a);
const quiet = (users: string[]) => untilQuiet(redis, { prefix, users, partitions: PARTITIONS, timeout: 30_000 });
const reload = async (enabled: boolean) => {
  writeFileSync(join(cfg.dir, 'behaviors.yaml'), stringify(brute(enabled)));
  await worker.reload(cfg.dir);
};
const env = () => ({ ...process.env, REDIS_URL: first.url });

beforeAll(async () => {
  first = await startPrivateRedis();
  redis = new Redis({ port: first.port, host: '127.0.0.1', maxRetriesPerRequest: null });
  logins = bruteLogins(redis, prefix);
  redis.on('error', () => undefined); // refused while the server is down: commands wait
  receiver = await startReceiver();
  cfg = await writeTestConfig(
    prefix,
    {
      redis: { url: first.url, prefix },
      engine: { partitions: PARTITIONS },
      state: { sweep_interval: '100ms' },
      receivers: [{ name: 'rx', kind: 'ssf', endpoint: `${receiver.url}/events`, audience: 'https://rx.test', subject_format: 'email' }],
    },
    brute(true),
  );
  worker = await startWorker({ config: loadConfig(cfg.dir, env()), logger: createLogger('silent'), port: 0, host: '127.0.0.1', consumer: `${prefix}-1` });
  receiver.setJwks(`${worker.url}/.well-known/jwks.json`);
}, 60_000);

afterAll(async () => {
  await worker?.close().catch(() => undefined);
  await receiver?.close();
  redis?.disconnect();
  await first?.stop();
  cfg?.remove();
}, 30_000);

describe('Redis restarted empty under a running worker', () => {
  it('the shared records come back within a few upkeep runs; another partition count is refused; a behavior off and on again starts afresh', async () => {
    // Before: brute_force turned off and on once (epoch 1), which the owner follows (an event applied after it).
    await reload(false);
    await reload(true);
    await login('warm@example.com', 0, 'success');
    await quiet(['warm@example.com']);
    expect(await redis.hget(keys.behaviorEpochs(), 'epoch')).toBe('1');

    await redis.set(`${prefix}:marker`, '1');
    await restartEmpty();
    expect(await redis.exists(`${prefix}:marker`)).toBe(0); // empty
    // The worker reconnects (ioredis backs off up to ~2 s), then its upkeep (every 100 ms) writes them again.
    await waitFor(async () => (await redis.get(keys.enginePartitions)) === String(PARTITIONS), { timeout: 10_000, what: 'partition count back' });
    // Its receiver; no owner id: none of its tokens owns an SSF stream (owner-record-digests.test.ts).
    await waitFor(async () => (await redis.hget(keys.receiversOn, worker.workerId)) === JSON.stringify(['rx']), { timeout: 2_000, what: 'receivers:on back' });
    // The counter far above what the owners know (1): an epoch given from now on is above every state's.
    await waitFor(async () => (await redis.hget(keys.behaviorEpochs(), 'epoch')) === String(1 + LOST_COUNTER_MARGIN), { timeout: 2_000, what: 'epochs back' });
    expect(await redis.hget(keys.behaviorEpochs(), 'on:brute_force')).toBe('1');

    // A worker with another engine.partitions is refused as before the restart.
    const other = loadConfig(cfg.dir, env());
    const code = await startWorker({
      config: { ...other, raw: { ...other.raw, engine: { ...other.raw.engine, partitions: 16 } } },
      logger: createLogger('silent'),
      port: 0,
      host: '127.0.0.1',
      consumer: `${prefix}-2`,
    }).then(
      async (w) => (await w.close(), 'started'),
      (err: unknown) => (isRiskstreamError(err) ? err.code : String(err)),
    );
    expect(code).toBe('CONFIG_INVALID');

    // Failures after the restart, then brute_force off and on again: they no longer count.
    const user = 'erin@example.com';
    await failures(user, 1, 4);
    await quiet([user]);
    await reload(false);
    await reload(true);
    await failures(user, 5, 1);
    await login(user, 6, 'success');
    await quiet([user]);
    expect((await userRisk(worker.url, cfg.adminToken, user)).level ?? 'low').toBe('low');

    // Another count recorded while it runs (one started while the record was gone): it stops processing, not ready.
    await redis.set(keys.enginePartitions, '16');
    await waitFor(async () => (await fetch(`${worker.url}/readyz`)).status === 503, { timeout: 5_000, what: 'not ready' });
    // Its membership given back (with its leases): the workers of the recorded count take its partitions.
    await waitFor(async () => (await redis.zscore(keys.engineMembers, worker.workerId)) === null, { timeout: 5_000, what: 'membership left' });
  }, 90_000);
});
