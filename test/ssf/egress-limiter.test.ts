import { describe, expect, it } from 'vitest';
import { EgressLimiter, receiverConcurrency } from '../../src/ssf/egress.js';

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

describe('EgressLimiter', () => {
  it('a limit given per call replaces the per-receiver one; receivers are counted apart', () => {
    const l = new EgressLimiter(Infinity, Infinity);
    const a1 = l.tryAcquire('a', 2);
    const a2 = l.tryAcquire('a', 2);
    expect(a1 && a2).toBeTruthy();
    expect(l.tryAcquire('a', 2)).toBeUndefined();
    expect(l.tryAcquire('a', 3)).toBeDefined(); // a reload raised it
    expect(l.tryAcquire('b', 1)).toBeDefined();
    expect(l.inFlight('a')).toBe(3);
    a1!();
    a1!(); // a second release is a no-op
    expect(l.inFlight('a')).toBe(2);
    expect(l.tryAcquire('a', 2)).toBeUndefined(); // lowered: no new one until below it
    expect(l.inFlight()).toBe(3);
  });

  it('without a limit per call: perReceiver and overall, as for self-registered streams', () => {
    const l = new EgressLimiter(1, 2);
    expect(l.tryAcquire('a')).toBeDefined();
    expect(l.tryAcquire('a')).toBeUndefined();
    expect(l.tryAcquire('b')).toBeDefined();
    expect(l.tryAcquire('c')).toBeUndefined();
  });
});
