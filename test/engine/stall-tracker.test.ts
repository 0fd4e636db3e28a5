import { describe, expect, it } from 'vitest';
import { StallTracker, stallText, type EngineSample } from '../../src/engine/stall-tracker.js';

const AFTER = 60_000;
const input = (lag: number, pending: number, mark: string): EngineSample['inputs'][number] => ({ stream: 'in', lag, pending, mark });
const sample = (inputs: EngineSample['inputs'], partitions: EngineSample['partitions'] = []): EngineSample => ({ inputs, partitions });

describe('StallTracker', () => {
  it('a tracker that just started calls no stall before it has itself watched input wait for stall_after', () => {
    const t = new StallTracker();
    expect(t.observe(sample([input(130, 0, 'a')]), 1_000_000, AFTER).router).toBeNull();
    expect(t.observe(sample([input(130, 0, 'a')]), 1_000_000 + AFTER, AFTER).router).toBeNull();
    expect(t.observe(sample([input(130, 0, 'a')]), 1_000_001 + AFTER, AFTER).router).toEqual({ streams: ['in'], lag: 130, pending: 0, forMs: AFTER + 1 });
  });

  it('an ordinary backlog that moves never stalls, however long it lasts', () => {
    const t = new StallTracker();
    for (let i = 0; i < 100; i++) {
      const v = t.observe(sample([input(10_000 - i, 50, `id-${i}|50`)], [{ partition: 0, waiting: true, mark: `pos-${i}` }]), i * 30_000, AFTER);
      expect(v).toEqual({ router: null, partitions: null });
    }
  });

  it('a rebalance shorter than stall_after (nothing moves for a while, then it does) does not stall', () => {
    const t = new StallTracker();
    const part = (mark: string) => [{ partition: 3, waiting: true, mark }];
    t.observe(sample([], part('a')), 0, AFTER);
    expect(t.observe(sample([], part('a')), 15_000, AFTER).partitions).toBeNull(); // lease expiring, taken over
    expect(t.observe(sample([], part('b')), 16_000, AFTER).partitions).toBeNull(); // the new owner committed
    expect(t.observe(sample([], part('b')), 16_000 + AFTER, AFTER).partitions).toBeNull();
  });

  it('a partition waiting with no commit stalls, is named, and recovers at its next commit; one that waits for nothing never does', () => {
    const t = new StallTracker();
    const parts = (mark: string) => [
      { partition: 1, waiting: false, mark: 'x' },
      { partition: 5, waiting: true, mark },
    ];
    t.observe(sample([], parts('a')), 0, AFTER);
    const v = t.observe(sample([], parts('a')), AFTER + 5_000, AFTER);
    expect(v.partitions).toEqual({ partitions: [5], forMs: AFTER + 5_000 });
    expect(stallText(v)).toMatch(/^stalled: no commit for 65s on 1 partition\(s\) .*\(p5\)/);
    expect(t.observe(sample([], parts('b')), AFTER + 6_000, AFTER).partitions).toBeNull();
  });

  it('input pending without moving (held, or read and never acked) stalls the router with the historical reason text', () => {
    const t = new StallTracker();
    t.observe(sample([input(0, 2, '5-0|2')]), 0, AFTER);
    const v = t.observe(sample([input(0, 2, '5-0|2')]), 75_000, AFTER);
    expect(stallText(v)).toMatch(/^stalled: no progress for 75s while 0 entries wait and 2 are pending in in /);
    expect(t.observe(sample([input(0, 0, '5-0|0')]), 76_000, AFTER).router).toBeNull(); // acked: nothing waits
  });
});
