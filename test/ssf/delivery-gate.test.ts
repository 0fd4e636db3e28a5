/**
 * The rate gate (src/redis/scripts/delivery-gate-1.lua through DeliveryState.gate) on its own,
 * against real Redis: reservations are send times, so the windows they make are checked from the
 * times themselves, without waiting for them.
 */
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { Keys } from '../../src/keys.js';
import { DeliveryState } from '../../src/ssf/delivery-state.js';
import { cleanup, redisClient, testPrefix } from '../helpers/redis.js';
import { mostWithin } from './delivery-harness.js';

const redis = redisClient();
const prefix = testPrefix('delivery-gate');
const state = new DeliveryState(redis, new Keys(prefix));
afterEach(() => cleanup(redis, prefix));
afterAll(() => redis.disconnect());

/** The send time of a reservation (`epoch:n:at`). */
const atOf = (reserved: string): number => Number(reserved.split(':')[2]);

describe('rate_limit gate', () => {
  it('a rate lowered by a reload applies to reservations held under the old one: they are taken again at the new rate', async () => {
    // 20 SETs at 10/s: 10 go now, 10 hold a send time 1 s on.
    const held: string[] = [];
    for (let i = 0; i < 20; i++) {
      const g = await state.gate('rx', 10);
      if (g.reserved) held.push(g.reserved);
    }
    expect(held).toHaveLength(20);
    const later = held.slice(10);
    // The reload lowers it to 2/s; each held SET comes back (early) and asks again.
    const times: number[] = [];
    for (const r of later) {
      const t0 = Date.now();
      const g = await state.gate('rx', 2, r);
      // Kept: it goes at its old time; taken again: at its new one.
      times.push(g.reserved ? atOf(g.reserved) : g.wait > 0 ? t0 + g.wait : t0);
    }
    expect(mostWithin(times, 1000)).toBeLessThanOrEqual(2);
  });

  it('at one rate, held reservations come back on time and keep every window', async () => {
    const times: number[] = [];
    for (let i = 0; i < 12; i++) {
      const g = await state.gate('rx', 4);
      times.push(g.reserved ? atOf(g.reserved) : Date.now());
      // Back early with it: kept (no new reservation), told to wait until its time.
      if (g.reserved && atOf(g.reserved) > Date.now() + 200) expect((await state.gate('rx', 4, g.reserved)).reserved).toBeUndefined();
    }
    expect(mostWithin(times, 1000)).toBeLessThanOrEqual(4);
  });
});

describe('rate_limit gate across a rolling reload', () => {
  it('workers asking with two rates by turns keep the lower one, not ~1 SET/s; the higher one applies once the lower is gone for 2 s', async () => {
    const times: number[] = [];
    for (let i = 0; i < 30; i++) {
      const g = await state.gate('rx', i % 2 ? 10 : 5);
      times.push(g.reserved ? atOf(g.reserved) : Date.now());
    }
    expect(mostWithin(times, 1000)).toBeLessThanOrEqual(5);
    // 30 at the lower 5/s span ≈ 6 s (each rebuild by turns put the next 1.1 s on: ≈ 32 s).
    expect(Math.max(...times) - Math.min(...times)).toBeLessThan(10_000);
    // Every worker on 10/s now: once 5/s has not been asked for 2 s, the window is 10/s.
    await new Promise((r) => setTimeout(r, Math.max(...times) - Date.now() + 2_200));
    const after: number[] = [];
    for (let i = 0; i < 20; i++) {
      const g = await state.gate('rx', 10);
      after.push(g.reserved ? atOf(g.reserved) : Date.now());
    }
    expect(mostWithin(after, 1000)).toBeLessThanOrEqual(10);
    expect(mostWithin(after, 1000)).toBeGreaterThan(5);
  }, 30_000);
});
