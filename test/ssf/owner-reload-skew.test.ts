import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditLog } from '../../src/audit/audit-log.js';
import { loadConfig } from '../../src/config/load.js';
import { Keys } from '../../src/keys.js';
import { createLogger } from '../../src/obs/logger.js';
import { buildSsf, type SsfRuntime } from '../../src/runtime/ssf.js';
import { enqueueLevelChanges, levelChangeJobId } from '../../src/ssf/queue.js';
import { streamOwner } from '../../src/ssf/stream-owner.js';
import { streamReceiver, streamReceiverName } from '../../src/ssf/streams.js';
import { cleanup, redisClient, testPrefix, waitFor } from '../helpers/redis.js';
import { writeTestConfig, type TestConfig } from '../helpers/worker.js';
import { change, startReceiver } from './helpers.js';

// Workers are reloaded one at a time. An ssf token put back into the configuration (or added) is on
// the workers already reloaded before the others: a SET for one of its streams taken by a worker not
// reloaded yet must wait for one that has the token, not fail for good as owner_revoked. A token no
// running worker has still fails its streams' SETs at once.
const prefix = testPrefix('owner-reload-skew');
const token = 'owner-reload-skew-ssf-token-0123456789';
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
let keys: Keys;

async function runtime(cfg: TestConfig, client: typeof redis, workerId: string): Promise<SsfRuntime> {
  const config = loadConfig(cfg.dir);
  // Workers in the engine's membership: their entries of receivers and tokens count.
  await redis.zadd(keys.engineMembers, Date.now() + 60_000, workerId);
  return buildSsf({ config: () => config, keys, logger: createLogger('silent'), redis: client, audit: new AuditLog(client, config.streams.audit), workerId });
}

beforeAll(async () => {
  rx = await startReceiver();
  const ssf = { allowed_endpoints: ['127.0.0.1'] };
  behindCfg = await writeTestConfig(prefix, { ssf });
  aheadCfg = await writeTestConfig(prefix, { ssf, http: { ssf_tokens: [token] } });
  const config = loadConfig(aheadCfg.dir);
  keys = new Keys(config.prefix, config.raw.engine.partitions);
  behind = await runtime(behindCfg, redis, 'worker-behind');
  ahead = await runtime(aheadCfg, other, 'worker-ahead');
  // Only the worker not reloaded yet takes jobs: with both taking them, which one takes the SET
  // after its wait would be a coin toss each time.
  await ahead.close();
  await redis.hset(keys.receiversOn, 'worker-ahead', JSON.stringify([`owner:${streamOwner(token)}`]));
});
afterAll(async () => {
  await reloaded?.close();
  if (!behindClosed) await behind.close();
  await rx.close();
  await cleanup(redis, prefix);
  behindCfg.remove();
  aheadCfg.remove();
  redis.disconnect();
  other.disconnect();
  third.disconnect();
});

describe("an SSF stream whose token another worker's configuration has", () => {
  it('a worker records no owner of its tokens while they own no stream (owner-record-digests.test.ts), never the tokens', async () => {
    const entry = await redis.hget(keys.receiversOn, 'worker-behind');
    expect(JSON.parse(entry!)).toEqual([]);
    reloaded = await runtime(aheadCfg, third, 'worker-recorded');
    const recorded = (await redis.hget(keys.receiversOn, 'worker-recorded'))!;
    expect(JSON.parse(recorded)).toEqual([]);
    expect(recorded).not.toContain(token);
    await reloaded.close();
    reloaded = undefined;
    expect(await redis.hget(keys.receiversOn, 'worker-recorded')).toBeNull();
  });

  it('its SET waits (delayed, not failed as owner_revoked) and is delivered by a worker that has the token', async () => {
    const caller = { owner: streamOwner(token), admin: false };
    // Created through a worker that has the token (its runtime is closed; the stream is in Redis).
    const creator = await runtime(aheadCfg, other, 'worker-creator');
    const s = await creator.streams.create({ fields: { endpoint_url: `${rx.url}/push` }, body: {} }, caller, 'test');
    await creator.close();
    const user = 'owner-skew@example.com';
    await enqueueLevelChanges(behind.setQueue, [change(user, 1, 'low', 'high')], [streamReceiver(s)]);
    const id = levelChangeJobId(streamReceiverName(s.stream_id), user, 1);
    const q = behind.setQueue.queue;
    await waitFor(async () => (await q.getJob(id))?.attemptsStarted, { timeout: 5000, what: 'the job taken by the worker not reloaded' });
    await waitFor(async () => ((await q.getJobState(id)) === 'delayed' ? true : undefined), { timeout: 5000, what: 'the job waiting' });
    expect((await q.getFailed()).map((j) => j.failedReason)).toEqual([]);
    expect(rx.requests).toHaveLength(0);
    // The worker not reloaded stops delivering; a worker with the token takes the SET after its wait.
    await behind.close();
    behindClosed = true;
    reloaded = await runtime(aheadCfg, third, 'worker-reloaded');
    await waitFor(() => rx.requests.length >= 1 || undefined, { timeout: 15_000, what: 'the SET' });
    expect(rx.requests[0]!.claims.sub_id).toMatchObject({ email: user });
    await waitFor(async () => ((await q.getJobState(id)) === 'completed' ? true : undefined), { timeout: 5000, what: 'the job completed' });
  }, 30_000);

  it('a token no running worker has still fails its streams’ SETs at once (owner_revoked)', async () => {
    // The worker that had the token has left the membership (stopped, or reloaded without it).
    await redis.zrem(keys.engineMembers, 'worker-ahead', 'worker-reloaded');
    await reloaded!.close();
    const stale = await runtime(behindCfg, third, 'worker-stale');
    reloaded = stale;
    const s = (await stale.streams.streams(true))[0]!;
    const user = 'owner-gone@example.com';
    await enqueueLevelChanges(stale.setQueue, [change(user, 1, 'low', 'high')], [streamReceiver(s)]);
    const id = levelChangeJobId(streamReceiverName(s.stream_id), user, 1);
    await waitFor(async () => ((await stale.setQueue.queue.getJobState(id)) === 'failed' ? true : undefined), { timeout: 5000, what: 'the job failed' });
    expect((await stale.setQueue.queue.getJob(id))?.failedReason).toMatch(/owner_revoked/);
  }, 15_000);
});
