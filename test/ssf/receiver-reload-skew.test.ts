import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { buildSsf, type SsfRuntime } from '../../src/runtime/ssf.js';
import { enqueueLevelChanges, levelChangeJobId } from '../../src/ssf/queue.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { change, startReceiver } from './helpers.js';

// Workers are reloaded one at a time: a receiver added to the configuration is known to the
// workers already reloaded (whose partition owners queue its SETs) before the others. A SET for
// it taken by a worker not reloaded yet must wait for one that has it, not fail for good.
const prefix = testPrefix('rx-reload-skew');
const redis = redisClient();
const other = redisClient();
const third = redisClient();
let rx: Awaited<ReturnType<typeof startReceiver>>;
let behindCfg: TestConfig;
let aheadCfg: TestConfig;
let behind: SsfRuntime;
let ahead: SsfRuntime;
let reloaded: SsfRuntime | undefined;
let behindClosed = false;

async function runtime(cfg: TestConfig, client: typeof redis, deliver: boolean): Promise<SsfRuntime> {
  const config = loadConfig(cfg.dir);
  const keys = new Keys(config.prefix, config.raw.engine.partitions);
  return buildSsf({ config: () => config, keys, logger: createLogger('silent'), redis: client, audit: new AuditLog(client, config.streams.audit), deliver });
}

beforeAll(async () => {
  rx = await startReceiver();
  const receiver = { name: 'added', kind: 'ssf', endpoint: rx.url, audience: 'https://added.example.net' };
  behindCfg = await writeTestConfig(prefix, { ssf: { allowed_endpoints: ['127.0.0.1'] } });
  aheadCfg = await writeTestConfig(prefix, { ssf: { allowed_endpoints: ['127.0.0.1'] }, receivers: [receiver] });
  // The worker not reloaded yet delivers; the reloaded one (it has `added`) only queues.
  behind = await runtime(behindCfg, redis, true);
  ahead = await runtime(aheadCfg, other, false);
});
afterAll(async () => {
  await reloaded?.close();
  if (!behindClosed) await behind.close();
  await ahead.close();
  await rx.close();
  await cleanup(redis, prefix);
  behindCfg.remove();
  aheadCfg.remove();
  redis.disconnect();
  other.disconnect();
  third.disconnect();
});

describe('a receiver added by a reload another worker has not had yet', () => {
  it('its SET waits (delayed, not failed as unknown_receiver) and is delivered by a worker that has it', async () => {
    const user = 'skew@example.com';
    await enqueueLevelChanges(ahead.setQueue, [change(user, 1, 'low', 'high')], loadConfig(aheadCfg.dir).receivers);
    const id = levelChangeJobId('added', user, 1);
    const q = behind.setQueue.queue;
    await waitFor(async () => (await q.getJob(id))?.attemptsStarted, { timeout: 5000, what: 'the job taken by the worker not reloaded' });
    await waitFor(async () => ((await q.getJobState(id)) === 'delayed' ? true : undefined), { timeout: 5000, what: 'the job waiting' });
    expect((await q.getFailed()).map((j) => j.failedReason)).toEqual([]);
    expect(rx.requests).toHaveLength(0);
    // A worker with the receiver (this one reloaded, or another) takes it next. The one without it
    // stops delivering first: with both taking jobs, which one takes the SET after its wait is a
    // coin toss each time (the one without it waits it again), so the test's time would be luck.
    await behind.close();
    behindClosed = true;
    reloaded = await runtime(aheadCfg, third, true);
    await waitFor(() => rx.requests.length >= 1 || undefined, { timeout: 15_000, what: 'the SET' });
    expect(rx.requests[0]!.claims.sub_id).toMatchObject({ email: user });
    await waitFor(async () => ((await q.getJobState(id)) === 'completed' ? true : undefined), { timeout: 5000, what: 'the job completed' });
  }, 30_000);

  it('a receiver no worker has configured still fails at once (unknown_receiver)', async () => {
    // Delivered by the reloaded worker of the test before (the one not reloaded has stopped).
    const gone = { ...loadConfig(aheadCfg.dir).receivers[0]!, name: 'gone' };
    await enqueueLevelChanges(ahead.setQueue, [change('gone@example.com', 1, 'low', 'high')], [gone]);
    const id = levelChangeJobId('gone', 'gone@example.com', 1);
    await waitFor(async () => ((await ahead.setQueue.queue.getJobState(id)) === 'failed' ? true : undefined), { timeout: 5000, what: 'the job failed' });
  }, 15_000);
});
