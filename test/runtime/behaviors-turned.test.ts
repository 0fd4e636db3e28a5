/**
 * A reload's record of the behaviors it turns off and on (src/runtime/behaviors-turned.ts) when
 * Redis lost the on-epochs (restarted empty) and no upkeep has put them back yet: the hash comes
 * back first, as the owners know it, with the running configuration's off marks, so that a
 * behavior the reload turns on again gets an epoch above what the owners follow.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import type { BehaviorConfig } from '../../src/config/behaviors-schema.js';
import { LOST_COUNTER_MARGIN as M } from '../../src/redis/followed.js';
import { Keys } from '../../src/keys.js';
import { recordTurned } from '../../src/runtime/behaviors-turned.js';
import { behavior } from '../helpers/behavior-config.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('behaviors-turned');
const keys = new Keys(prefix);
afterEach(() => cleanup(redis, prefix));
afterAll(() => redis.disconnect());

const config = (brute: boolean): BehaviorConfig[] => [behavior('brute_force', { enabled: brute, risk_level: 'high', failures: 5, window: '30m' })];

describe('a reload after Redis lost the on-epochs', () => {
  it('turning a behavior on again gets an epoch above what the owners know', async () => {
    const known = { current: 2, on: { brute_force: 2 } };
    await recordTurned(redis, keys, config(true), config(false), known);
    // Put back far above what the owners know (LOST_COUNTER_MARGIN), then one more for the turn.
    expect(await redis.hgetall(keys.behaviorEpochs())).toEqual({ epoch: String(3 + M), 'on:brute_force': String(3 + M) });
  });
});
