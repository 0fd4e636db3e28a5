/**
 * Stalls: the `stall:<ms>` failpoint (src/engine/failpoints.ts) parses as such, and stallAfter
 * (src/engine/poison-guard.ts) — how long an item's own work must run for a lease lost after it to
 * keep its try — is half the shortest stall that can cost a lease.
 */
import { expect, it } from 'vitest';
import { parseFailpoints } from '../../src/engine/failpoints.js';
import { stallAfter } from '../../src/engine/poison-guard.js';

it('parses a stall failpoint beside the others; a stall without its duration is ignored', () => {
  const f = parseFailpoints('apply:evt-1=stall:1500,commit:evt-2=throw,apply:evt-3=stall');
  expect({ apply: [...f!.apply], commit: [...f!.commit] }).toEqual({ apply: [['evt-1', 'stall:1500']], commit: [['evt-2', 'throw']] });
});

it('stallAfter: half of the ttl less its margin and a heartbeat', () => {
  expect([stallAfter(10_000, 2_000), stallAfter(1_000, 100), stallAfter(10_000, 0), stallAfter(10_000, 8_900)]).toEqual([3_500, 400, 4_500, 50]);
});
