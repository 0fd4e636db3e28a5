/**
 * A counting behavior applied with other parameters deciding which events it counts (a threshold's
 * `match`, mfa_fatigue's `factors`: a reload, a restart) starts afresh for the user; one whose count,
 * window or level changed, or whose match lists the same fields in another order, goes on counting.
 * Each configuration is recorded in the behaviors' epochs on real Redis (as a worker's start or
 * reload does), and the pure reducer applies with the epochs read back; the state goes through its
 * stored bytes after each event.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { behavior } from '../helpers/behavior-config.js';
import type { BehaviorConfig } from '../../src/config/behaviors-schema.js';
import type { DetectorLimits } from '../../src/detect/types.js';
import { reduce, type ReduceInput } from '../../src/risk/reducer.js';
import { emptyState, type UserState } from '../../src/risk/state.js';
import { decodeState, encodeState } from '../../src/risk/state-codec.js';
import { epochsOf, recordBehaviors } from '../../src/engine/behavior-epochs.js';
import { Keys } from '../../src/keys.js';
import { countedDigest } from '../../src/risk/counted-with.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';

const redis = redisClient();
const prefix = testPrefix('counted-with');
const keys = new Keys(prefix);
afterEach(() => cleanup(redis, prefix));
afterAll(() => redis.disconnect());

const USER = 'erin@example.com';
const MIN = 60_000;
const T0 = Date.parse('2026-10-01T08:00:00Z');
const NOW = T0 + 60 * MIN;
const LIMITS: DetectorLimits = { maxLogins: 10, maxAge: 7 * 86_400_000, allowedLateness: 3_600_000 };
const burst = (raw: Record<string, unknown>): BehaviorConfig =>
  behavior('burst', { kind: 'threshold', risk_level: 'high', match: { type: 'access', app: 'payroll' }, count: 3, window: '1h', ...raw });

let seq = 0;
const access = (app: string): ReduceInput => ({
  event: { type: 'access', id: `e-${++seq}`, user: USER, time: T0 + seq * MIN, outcome: 'failure', app },
  ref: { stream: 'rs:activity', id: `${T0 + seq * MIN}-${seq}` },
});

/** Records `behaviors` as a worker applying them does, then applies `inputs` one by one with the epochs read back. */
async function apply(state: UserState, inputs: ReduceInput[], behaviors: BehaviorConfig[]): Promise<{ state: UserState; hits: string[][] }> {
  await recordBehaviors(redis, keys, behaviors);
  const epochs = epochsOf(await redis.hgetall(keys.behaviorEpochs()));
  const hits: string[][] = [];
  for (const input of inputs) {
    const r = reduce(state, [input], behaviors, NOW, LIMITS, [], epochs);
    hits.push(...r.hits.map((h) => h.eventIds));
    state = decodeState(encodeState(r.state), USER)!;
  }
  return { state, hits };
}

describe('a counting behavior applied with other counting parameters', () => {
  it('match changed: what it counted goes; the new rule counts from its first matching event', async () => {
    const first = await apply(emptyState(USER), [access('payroll'), access('payroll')], [burst({})]);
    const hr = [access('hr'), access('hr'), access('hr')];
    const r = await apply(first.state, hr, [burst({ match: { type: 'access', app: 'hr' } })]);
    expect(r.hits).toEqual([hr.map((i) => i.event.id)]);
  });

  it('count, window, level or the order of match fields changed: it goes on counting', async () => {
    const first = await apply(emptyState(USER), [access('payroll'), access('payroll')], [burst({})]);
    const third = access('payroll');
    const r = await apply(first.state, [third], [burst({ match: { app: 'payroll', type: 'access' }, count: 3, window: '2h', risk_level: 'medium' })]);
    expect(r.hits).toHaveLength(1);
    expect(r.hits[0]).toContain(third.event.id);
    expect(r.hits[0]).toHaveLength(3);
  });

  it('the digest covers what is counted only, in any key order; none for a detector without such parameters', () => {
    const d = countedDigest(burst({}));
    expect(d).toMatch(/^[0-9a-f]{12}$/);
    expect(countedDigest(burst({ match: { app: 'payroll', type: 'access' }, count: 9, window: '2h', risk_level: 'low' }))).toBe(d);
    expect(countedDigest(burst({ group_by: ['ip'] }))).not.toBe(d);
    expect(countedDigest(behavior('brute_force', { risk_level: 'high', failures: 5, window: '30m' }))).toBe('');
  });

  it('mfa_fatigue factors changed: the pushes counted before go', async () => {
    const mfa = (factors: string[]): BehaviorConfig => behavior('mfa_fatigue', { risk_level: 'high', count: 3, window: '1h', factors });
    const push = (factor: string): ReduceInput => ({
      event: { type: 'mfa', id: `m-${++seq}`, user: USER, time: T0 + seq * MIN, outcome: 'denied', factor },
      ref: { stream: 'rs:login', id: `${T0 + seq * MIN}-${seq}` },
    });
    const first = await apply(emptyState(USER), [push('push'), push('push')], [mfa(['push', 'sms'])]);
    const third = push('sms');
    // The factors as they were: the third push completes the count.
    expect((await apply(first.state, [third], [mfa(['push', 'sms'])])).hits).toHaveLength(1);
    expect((await apply(first.state, [third], [mfa(['sms'])])).hits).toEqual([]);
  });
});
