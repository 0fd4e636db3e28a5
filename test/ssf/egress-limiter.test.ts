import { describe, expect, it } from 'vitest';
import { EgressLimiter, receiverConcurrency, reserveOf, WorkerSlots } from '../../src/ssf/egress.js';

describe('receiverConcurrency: a configured receiver’s cap on sends in flight', () => {
  it('defaults to half the worker’s delivery.concurrency, at least 1', () => {
    expect(receiverConcurrency({}, 64)).toBe(32);
    expect(receiverConcurrency({}, 4)).toBe(2);
    expect(receiverConcurrency({}, 5)).toBe(2);
    expect(receiverConcurrency({}, 1)).toBe(1);
  });

  it('its own `concurrency` wins', () => {
    expect(receiverConcurrency({ concurrency: 3 }, 64)).toBe(3);
    expect(receiverConcurrency({ concurrency: 100 }, 4)).toBe(100); // the worker's slots cap it anyway
  });
});

describe('WorkerSlots: the worker’s last free slots are kept for receivers with no send in flight', () => {
  it('keeps an eighth of the slots (at least 1; none of a single slot)', () => {
    expect([reserveOf(1), reserveOf(2), reserveOf(4), reserveOf(16), reserveOf(64)]).toEqual([0, 1, 1, 2, 8]);
  });

  it('two receivers at their default cap leave a slot to a third; a receiver holding sends gets none of the reserve', () => {
    const slots = new WorkerSlots(4);
    const cap = receiverConcurrency({}, 4); // 2
    const sends: Array<() => void> = [];
    const start = (held: number): boolean => {
      if (held >= slots.limitFor(held, cap)) return false;
      sends.push(slots.take());
      return true;
    };
    expect([start(0), start(1)]).toEqual([true, true]); // a: its cap
    expect([start(0), start(1)]).toEqual([true, false]); // b: its first only, the last slot is the reserve
    expect(start(0)).toBe(true); // c: nothing in flight, takes the reserve
    sends[0]!();
    sends[0]!(); // a second release is a no-op
    expect(slots.limitFor(1, cap)).toBe(1); // still only the reserve free
    sends[1]!();
    expect(slots.limitFor(1, cap)).toBe(cap);
  });
});

describe('EgressLimiter', () => {
  it('a limit given per call replaces the per-receiver one; receivers are counted apart', () => {
    const l = new EgressLimiter(Infinity, Infinity);
    const a1 = l.tryAcquire('a', 0, 2);
    const a2 = l.tryAcquire('a', 0, 2);
    expect(a1 && a2).toBeTruthy();
    expect(l.tryAcquire('a', 0, 2)).toBeUndefined();
    expect(l.tryAcquire('a', 0, 3)).toBeDefined(); // a reload raised it
    expect(l.tryAcquire('b', 0, 1)).toBeDefined();
    expect(l.inFlight('a')).toBe(3);
    a1!(10);
    a1!(10); // a second release is a no-op
    expect(l.inFlight('a')).toBe(2);
    expect(l.tryAcquire('a', 10, 2)).toBeUndefined(); // lowered: no new one until below it
    expect(l.inFlight()).toBe(3);
  });

  it('without a limit per call: perReceiver and overall, as for self-registered streams', () => {
    const l = new EgressLimiter(1, 2);
    expect(l.tryAcquire('a', 0)).toBeDefined();
    expect(l.tryAcquire('a', 0)).toBeUndefined();
    expect(l.tryAcquire('b', 0)).toBeDefined();
    expect(l.tryAcquire('c', 0)).toBeUndefined();
  });
});

describe('EgressLimiter.waitMs: jobs put back are spread at the pace the receiver frees slots', () => {
  it('a receiver that answers fast (its quick lane forgotten; sends in flight 10 ms old, cap 2): turns 5 ms apart, none shorter than the shortest wait (50 ms)', () => {
    const l = new EgressLimiter(2, Infinity);
    for (let t = 0; t < 1000; t += 50) l.tryAcquire('fast', t)!(t + 50);
    l.tryAcquire('fast', 1000);
    l.tryAcquire('fast', 1000);
    expect(Array.from({ length: 20 }, () => l.waitMs('fast', 1010, 60_000))).toEqual(Array.from({ length: 20 }, (_, i) => Math.max(50, 5 * (i + 1))));
  });

  it('a receiver that hangs: each job put back gets the next turn (its oldest send’s age / cap apart), up to the most', () => {
    const l = new EgressLimiter(2, Infinity);
    l.tryAcquire('hang', 0);
    l.tryAcquire('hang', 0);
    // At 4 s its two sends are 4 s old: a slot frees every 2 s at best.
    expect([1, 2, 3, 4].map(() => l.waitMs('hang', 4000, 7000))).toEqual([2000, 4000, 6000, 7000]);
    // A later bounce queues behind those turns.
    expect(l.waitMs('hang', 5000, 60_000)).toBe(8500); // its turn at 11 s, then 2.5 s on (the sends are 5 s old)
  });

  it('after sends that timed out, their duration paces the line even for fresh sends', () => {
    const l = new EgressLimiter(2, Infinity);
    l.tryAcquire('hang', 0)!(10_000);
    l.tryAcquire('hang', 0)!(10_000);
    l.tryAcquire('hang', 10_000);
    l.tryAcquire('hang', 10_000);
    expect(l.waitMs('hang', 10_001, 600_000)).toBe(5000);
    expect(l.waitMs('hang', 10_001, 600_000)).toBe(10_000);
  });

  it('one send stuck among quick ones does not slow the line: only the latest send’s age counts', () => {
    const l = new EgressLimiter(3, Infinity);
    l.tryAcquire('mixed', 0); // stuck
    for (let t = 0; t < 5000; t += 50) l.tryAcquire('mixed', t)!(t + 50);
    l.tryAcquire('mixed', 4990);
    l.tryAcquire('mixed', 5000);
    expect(l.waitMs('mixed', 5010, 60_000)).toBe(50);
  });

  it('the overall cap full (streams that hang hold every slot): a stream with nothing in flight waits its turn in the line of all, not the shortest wait each time', () => {
    const l = new EgressLimiter(2, 4);
    l.tryAcquire('hang-1', 0);
    l.tryAcquire('hang-1', 0);
    l.tryAcquire('hang-2', 0);
    l.tryAcquire('hang-2', 0);
    expect(l.tryAcquire('idle', 4000)).toBeUndefined();
    // At 4 s the four sends are 4 s old: an overall slot frees every second at best.
    expect([1, 2, 3].map(() => l.waitMs('idle', 4000, 60_000))).toEqual([1000, 2000, 3000]);
  });

  it('no send in flight to it (a slot freed meanwhile): the shortest wait', () => {
    expect(new EgressLimiter(2, Infinity).waitMs('none', 0, 60_000)).toBe(50);
  });
});
