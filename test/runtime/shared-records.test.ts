/**
 * The shared records a worker's upkeep writes again after a Redis restarted empty
 * (src/runtime/shared-records.ts): the partition count, the behaviors' on-epochs and the worker's
 * receivers:on entry; another partition count found halts the engine (CONFIG_INVALID).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config/load.js';
import { streamOwner } from '../../src/ssf/stream-owner.js';
import { LOST_COUNTER_MARGIN } from '../../src/redis/followed.js';
import { isRiskstreamError } from '../../src/errors.js';
import { Keys } from '../../src/keys.js';
import type { Logger } from '../../src/obs/logger.js';
import { restoreSharedRecords, type SharedRecordsDeps } from '../../src/runtime/shared-records.js';
import { behavior } from '../helpers/behavior-config.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('shared-records');
const keys = new Keys(prefix, 8);
afterEach(() => cleanup(redis, prefix));
afterAll(() => redis.disconnect());

const config = {
  behaviors: [
    behavior('brute_force', { enabled: true, risk_level: 'high', failures: 5, window: '30m' }),
    behavior('new_country', { enabled: false, risk_level: 'medium' }),
  ],
  receivers: [{ name: 'rx', enabled: true }],
  ssfTokens: ['shared-records-ssf-token-0123456789'],
  adminTokens: [],
} as unknown as Config;

/** Deps on a fake engine and logger, recording halts and error logs' codes. */
function deps() {
  const halts: string[] = [];
  const errors: string[] = [];
  const log = (list: string[]) => (o: { err?: unknown }) => void list.push(isRiskstreamError(o.err) ? o.err.code : 'other');
  const warns: string[] = [];
  const d: SharedRecordsDeps = {
    redis,
    keys,
    config: () => config,
    workerId: 'w1',
    owners: () => [streamOwner(config.ssfTokens[0]!)],
    epochs: () => ({ current: 3, on: { brute_force: 3 } }),
    engine: { halted: () => halts[0], halt: (r) => void halts.push(r) },
    logger: { warn: log(warns), error: log(errors) } as unknown as Logger,
  };
  return { d, halts, errors, warns };
}

describe('shared records written again', () => {
  it('all gone: written again (once), with what the worker knows', async () => {
    const { d, halts, warns } = deps();
    await restoreSharedRecords(d);
    expect(await redis.get(keys.enginePartitions)).toBe('8');
    expect(await redis.hgetall(keys.behaviorEpochs())).toEqual({ epoch: String(3 + LOST_COUNTER_MARGIN), 'on:brute_force': '3', 'off:new_country': '1' });
    expect(await redis.hgetall(keys.receiversOn)).toEqual({ w1: JSON.stringify(['rx', `owner:${streamOwner(config.ssfTokens[0]!)}`]) });
    expect(warns).toHaveLength(1);
    // There: left as they are (an entry a reload wrote is not replaced).
    await redis.hset(keys.receiversOn, 'w1', '[]');
    await restoreSharedRecords(d);
    expect(await redis.hget(keys.receiversOn, 'w1')).toBe('[]');
    expect(warns).toHaveLength(1);
    expect(halts).toEqual([]);
  });

  it('no behaviors configured (behaviors.yaml `{}`) and no epochs: nothing to put back, no warning every run (a black-box audit: "shared records were missing" logged every second for ever)', async () => {
    const { d, warns } = deps();
    const none = { ...config, behaviors: [] } as unknown as Config;
    d.config = () => none;
    d.epochs = () => ({ current: 0, on: {} });
    await restoreSharedRecords(d);
    expect(warns).toHaveLength(1); // the partition count and the receivers entry, written at the first run
    await restoreSharedRecords(d);
    await restoreSharedRecords(d);
    expect(warns).toHaveLength(1);
  });

  it('another partition count recorded: the engine is halted (CONFIG_INVALID logged) and nothing more is written', async () => {
    const { d, halts, errors } = deps();
    await redis.set(keys.enginePartitions, '16');
    await restoreSharedRecords(d);
    expect(halts).toHaveLength(1);
    expect(errors).toEqual(['CONFIG_INVALID']);
    expect(await redis.get(keys.enginePartitions)).toBe('16');
    await redis.del(keys.enginePartitions, keys.behaviorEpochs(), keys.receiversOn);
    await restoreSharedRecords(d); // halted: its count is not the prefix's any more
    expect(await redis.exists(keys.enginePartitions, keys.behaviorEpochs(), keys.receiversOn)).toBe(0);
    expect(halts).toHaveLength(1);
  });
});
