/**
 * The behaviors' on-epochs in Redis (src/engine/behavior-epochs.ts): what workers record before a
 * configuration applies (their start, a reload), and how an owner follows it (once per
 * configuration, then in the background; never per event).
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { LOST_COUNTER_MARGIN as M } from '../../src/redis/followed.js';
import { behaviorEpochs, epochsOf, recordBehaviors, restoreBehaviors } from '../../src/engine/behavior-epochs.js';
import { Keys } from '../../src/keys.js';
import type { BehaviorConfig } from '../../src/config/behaviors-schema.js';
import { behavior } from '../helpers/behavior-config.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('behavior-epochs');
const keys = new Keys(prefix);
afterEach(() => cleanup(redis, prefix));
afterAll(() => redis.disconnect());

/** A configuration as a load gives it (a new array each time): brute_force and new_country on or off. */
const config = (brute: boolean, country = true): BehaviorConfig[] => [
  behavior('brute_force', { enabled: brute, risk_level: 'high', failures: 5, window: '30m' }),
  behavior('new_country', { enabled: country, risk_level: 'medium' }),
];

describe('recording configurations', () => {
  it('on from the start records nothing turned on again; off then on (any worker) bumps the epoch once', async () => {
    expect(await recordBehaviors(redis, keys, config(true))).toEqual({ epoch: 0, again: 0 });
    expect(await recordBehaviors(redis, keys, config(true))).toEqual({ epoch: 0, again: 0 });
    // Worker B reloads with it off; worker A (or B) with it on again: one bump, the others see it done.
    expect(await recordBehaviors(redis, keys, config(false))).toEqual({ epoch: 0, again: 0 });
    expect(await recordBehaviors(redis, keys, config(true))).toEqual({ epoch: 1, again: 1 });
    expect(await recordBehaviors(redis, keys, config(true))).toEqual({ epoch: 1, again: 0 });
    expect(await redis.hgetall(keys.behaviorEpochs())).toEqual({ epoch: '1', 'on:brute_force': '1', 'on:new_country': '0' });
  });

  it('two behaviors turned on again together share one epoch; one removed from the file counts as off', async () => {
    await recordBehaviors(redis, keys, config(true));
    await recordBehaviors(redis, keys, config(false, false));
    expect(await recordBehaviors(redis, keys, config(true))).toEqual({ epoch: 1, again: 2 });
    // new_country removed from the file (a restart with it gone), then back.
    await recordBehaviors(redis, keys, config(true).slice(0, 1));
    expect(await recordBehaviors(redis, keys, config(true))).toEqual({ epoch: 2, again: 1 });
    const f = behaviorEpochs(redis, keys);
    expect(await f.current(config(true))).toEqual({ current: 2, on: { brute_force: 1, new_country: 2 } });
  });
});

describe('a counting behavior whose counting parameters change', () => {
  const burst = (match: Record<string, string>, count = 3): BehaviorConfig[] => [
    behavior('burst', { kind: 'threshold', risk_level: 'high', match, count, window: '1h' }),
    behavior('brute_force', { risk_level: 'high', failures: 5, window: '30m' }),
  ];

  it('is turned on again at a new epoch (once, whichever worker records it first); a new count is not; nor are brute_force parameters', async () => {
    expect(await recordBehaviors(redis, keys, burst({ type: 'access' }))).toEqual({ epoch: 0, again: 0 });
    expect(await recordBehaviors(redis, keys, burst({ type: 'access' }, 5))).toEqual({ epoch: 0, again: 0 });
    expect(await recordBehaviors(redis, keys, burst({ type: 'access', outcome: 'allowed' }))).toEqual({ epoch: 1, again: 1 });
    expect(await recordBehaviors(redis, keys, burst({ outcome: 'allowed', type: 'access' }))).toEqual({ epoch: 1, again: 0 });
    const b = burst({ type: 'access', outcome: 'allowed' });
    b[1] = behavior('brute_force', { risk_level: 'high', failures: 9, window: '1h' });
    expect(await recordBehaviors(redis, keys, b)).toEqual({ epoch: 1, again: 0 });
    expect(epochsOf(await redis.hgetall(keys.behaviorEpochs()))).toEqual({ current: 1, on: { burst: 1, brute_force: 0 } });
  });

  it('a hash lost under running workers gets the running digests back: a reload changing the rule after it is still seen', async () => {
    await recordBehaviors(redis, keys, burst({ type: 'access' }));
    const known = await behaviorEpochs(redis, keys).current(burst({ type: 'access' }));
    await redis.del(keys.behaviorEpochs()); // lost
    expect(await restoreBehaviors(redis, keys, burst({ type: 'access' }), known)).toBe(true);
    expect(await recordBehaviors(redis, keys, burst({ type: 'mfa' }))).toEqual({ epoch: 1, again: 1 });
  });
});

describe('an owner following the epochs', () => {
  it('reads them once per configuration, then in the background every refreshMs; never moves back', async () => {
    let t = 0;
    const f = behaviorEpochs(redis, keys, { refreshMs: 1000, now: () => t });
    const a = config(true);
    expect((await f.current(a)).current).toBe(0);
    // Another worker turns brute_force off and on again.
    await recordBehaviors(redis, keys, config(false));
    await recordBehaviors(redis, keys, config(true));
    expect((await f.current(a)).current).toBe(0); // same configuration, before its refresh: no read
    t = 1000;
    await f.current(a); // starts the background read
    await new Promise((r) => setTimeout(r, 50));
    expect(await f.current(a)).toEqual({ current: 1, on: { brute_force: 1, new_country: 0 } });
    // A configuration not seen yet reads before it answers.
    await recordBehaviors(redis, keys, config(false));
    await recordBehaviors(redis, keys, config(true));
    expect((await f.current(config(true))).current).toBe(2);
    // The hash gone (a purge): the view stays.
    await redis.del(keys.behaviorEpochs());
    expect((await f.current(config(true))).current).toBe(2);
  });
});

describe('putting the epochs back after Redis lost them (restarted empty)', () => {
  it('the counter the owners follow comes back far above it, the on-epochs and off marks as they were: off and on again is seen by them', async () => {
    await recordBehaviors(redis, keys, config(true));
    await recordBehaviors(redis, keys, config(false, false));
    await recordBehaviors(redis, keys, config(true, false)); // brute_force on again: epoch 1
    const f = behaviorEpochs(redis, keys);
    const known = await f.current(config(true, false));
    expect(f.known()).toEqual(known);
    expect(known).toEqual({ current: 1, on: { brute_force: 1, new_country: 0 } });
    await redis.del(keys.behaviorEpochs()); // lost
    expect(await restoreBehaviors(redis, keys, config(true, false), known)).toBe(true);
    expect(await redis.hgetall(keys.behaviorEpochs())).toEqual({ epoch: String(1 + M), 'on:brute_force': '1', 'off:new_country': '1' });
    expect(await restoreBehaviors(redis, keys, config(true, false), known)).toBe(false); // there: nothing more
    expect(await redis.hget(keys.behaviorEpochs(), 'epoch')).toBe(String(1 + M));
    // new_country on again (its off mark came back), brute_force off and on again: above what the owner knows.
    expect(await recordBehaviors(redis, keys, config(true))).toEqual({ epoch: 2 + M, again: 1 });
    await recordBehaviors(redis, keys, config(false));
    expect(await recordBehaviors(redis, keys, config(true))).toEqual({ epoch: 3 + M, again: 1 });
    expect(await f.current(config(true))).toEqual({ current: 3 + M, on: { brute_force: 3 + M, new_country: 2 + M } });
  });

  it('two workers knowing different epochs, in either order: the counter above both, each on-epoch the highest known, never lowered', async () => {
    const a = { current: 4, on: { brute_force: 4, new_country: 0 } };
    const b = { current: 5, on: { brute_force: 4, new_country: 5 } };
    for (const [first, second] of [
      [a, b],
      [b, a],
    ] as const) {
      await redis.del(keys.behaviorEpochs());
      await restoreBehaviors(redis, keys, config(true), first);
      await restoreBehaviors(redis, keys, config(true), second);
      expect(await redis.hgetall(keys.behaviorEpochs())).toEqual({ epoch: String(first.current + M), 'on:brute_force': '4', 'on:new_country': '5' });
    }
    // A record made meanwhile (a start or reload before the upkeep ran: its counter from 0) is raised, not replaced.
    await redis.del(keys.behaviorEpochs());
    await recordBehaviors(redis, keys, config(false));
    await restoreBehaviors(redis, keys, config(true), b);
    expect(await redis.hgetall(keys.behaviorEpochs())).toEqual({ epoch: String(5 + M), 'on:brute_force': '4', 'on:new_country': '5', 'off:brute_force': '1' });
  });

  it('a worker a refresh behind puts it back first and turns a behavior on again: its epoch is above every state stamped before the loss', async () => {
    // Worker A knows epoch 2 (users' states were stamped 2); worker C still knows 1 when Redis loses the hash.
    const stateEpoch = 2;
    const c = { current: 1, on: { brute_force: 1, new_country: 0 } };
    await redis.del(keys.behaviorEpochs());
    // C reloads with brute_force off, then on again: it puts the hash back first (src/runtime/behaviors-turned.ts).
    await restoreBehaviors(redis, keys, config(false), c);
    await recordBehaviors(redis, keys, config(false));
    await restoreBehaviors(redis, keys, config(true), c);
    const { epoch } = await recordBehaviors(redis, keys, config(true));
    expect(epoch).toBeGreaterThan(stateEpoch);
    expect(Number(await redis.hget(keys.behaviorEpochs(), 'on:brute_force'))).toBeGreaterThan(stateEpoch);
    // A's upkeep then leaves it as it is.
    await restoreBehaviors(redis, keys, config(true), { current: 2, on: { brute_force: 1, new_country: 0 } });
    expect(Number(await redis.hget(keys.behaviorEpochs(), 'epoch'))).toBe(epoch);
  });
});
